"""LlamaIndex MetadataFilters through MmragVectorStore on a real Milvus Lite file:
every operator and condition against the reference in tests/filter_cases.py and,
where it can judge (no nesting, comparable types), LlamaIndex's own in-memory
filter function."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn
from llama_index.embeddings.mmrag import MmragEmbedding
from llama_index.vector_stores.mmrag import MmragVectorStore, to_mmrag_filters

from mmrag import And, Eq, Filter, In, Match, Not, Or, Range
from mmrag.errors import FilterError
from tests.filter_cases import ROWS, expected

Op, Cond = FilterOperator, FilterCondition


def F(key: str, value: Any, op: FilterOperator = Op.EQ) -> MetadataFilter:
    return MetadataFilter(key=key, value=value, operator=op)


def M(*filters: Any, condition: FilterCondition = Cond.AND) -> MetadataFilters:
    return MetadataFilters(filters=list(filters), condition=condition)


# (LlamaIndex filters, the same meaning in mmrag's algebra)
CASES: list[tuple[MetadataFilters, Filter]] = [
    (M(F("lang", "en")), Eq("lang", "en")),
    (M(F("lang", "en", Op.NE)), Not(Eq("lang", "en"))),
    (M(F("lang", ["en", "de"], Op.IN)), In("lang", ("en", "de"))),
    (M(F("lang", ["en", "de"], Op.NIN)), Not(In("lang", ("en", "de")))),
    (M(F("n", 1, Op.GT)), Range("n", gt=1)),
    (M(F("n", 1, Op.GTE)), Range("n", gte=1)),
    (M(F("page", 4, Op.LT)), Range("page", lt=4)),
    (M(F("page", 4, Op.LTE)), Range("page", lte=4)),
    (M(F("n", 1, Op.GTE), F("n", 4, Op.LT)), And(Range("n", gte=1), Range("n", lt=4))),
    (M(F("lang", "de"), F("page", 6, Op.GTE), condition=Cond.OR), Or(Eq("lang", "de"), Range("page", gte=6))),
    (M(F("lang", "en"), condition=Cond.NOT), Not(Eq("lang", "en"))),  # the excluded set before: now its complement
    (M(F("lang", "en"), F("lang", "de"), condition=Cond.NOT), Not(Or(Eq("lang", "en"), Eq("lang", "de")))),
    (M(F("lang", "en"), M(F("n", 3, Op.GT), F("page", 2, Op.LT), condition=Cond.OR)),
     And(Eq("lang", "en"), Or(Range("n", gt=3), Range("page", lt=2)))),
    (M(M(F("lang", "en"), F("page", 6)), condition=Cond.NOT), Not(And(Eq("lang", "en"), Eq("page", 6)))),
    (M(F("tag", "off", Op.TEXT_MATCH)), Match("tag", "off")),
    (M(F("tag", "50", Op.TEXT_MATCH), condition=Cond.NOT), Not(Match("tag", "50"))),
    (M(F("tag", "50%", Op.TEXT_MATCH)), Match("tag", "50%")),  # % is literal
    (M(F("lang", None, Op.IS_EMPTY)), Eq("lang", None)),  # missing or null
    (M(F("lang", None, Op.IS_EMPTY), condition=Cond.NOT), Not(Eq("lang", None))),
]


def nodes() -> list[TextNode]:
    out = []
    for i, page, meta in ROWS:
        metadata = {**meta, **({"page": page} if page is not None else {})}
        out.append(TextNode(id_=i, text=f"plain text row {i}", metadata=metadata))
    return out


def llama_index_says(filters: MetadataFilters) -> set[str] | None:
    """What LlamaIndex's in-memory filters select; None where they cannot judge."""
    by_id = {n.node_id: n.metadata for n in nodes()}
    try:
        keep = build_metadata_filter_fn(lambda i: by_id[i], filters)
        return {i for i in by_id if keep(i)}
    except (TypeError, ValueError):  # nested filters, or "seven" > 1
        return None


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, text_embedder: Any) -> MmragVectorStore:
    s = MmragVectorStore(str(tmp_path_factory.mktemp("li") / "f.db"), collection="f", embed_model=MmragEmbedding(text_embedder))
    s.add(nodes())
    return s


@pytest.mark.parametrize(("filters", "meaning"), CASES, ids=lambda c: repr(c)[:80])
def test_each_operator_and_condition(store: MmragVectorStore, text_embedder: Any, filters: MetadataFilters, meaning: Filter) -> None:
    assert to_mmrag_filters(filters) == meaning
    want = expected(meaning)
    theirs = llama_index_says(filters)
    assert theirs is None or theirs == want
    vec = MmragEmbedding(text_embedder).get_query_embedding("plain text row")
    for mode in ("default", "sparse", "hybrid"):
        res = store.query(VectorStoreQuery(query_embedding=vec, query_str="plain text row", similarity_top_k=10,
                                           mode=mode, filters=filters))
        assert set(res.ids) == want, mode
    assert {n.node_id for n in store.get_nodes(filters=filters)} == want


def test_get_and_delete_nodes_by_filters(tmp_path: Any, text_embedder: Any) -> None:
    s = MmragVectorStore(str(tmp_path / "d.db"), collection="d", embed_model=MmragEmbedding(text_embedder))
    s.add(nodes())
    assert [n.node_id for n in s.get_nodes(["c5", "c0"])] == ["c5", "c0"]
    assert [n.node_id for n in s.get_nodes(["c5", "c1", "c0"], filters=M(F("lang", "en")))] == ["c0", "c5"]
    assert s.get_nodes(filters=M(F("lang", "en")))[0].text == "plain text row c0"
    s.delete_nodes(["c0", "c1"], filters=M(F("lang", "en")))  # both: only c0 is both
    assert {n.node_id for n in s.get_nodes(filters=M(F("page", 0, Op.GTE)))} == {"c2", "c3", "c4", "c5"}
    s.delete_nodes(filters=M(F("lang", "en"), condition=Cond.NOT))
    assert [n.node_id for n in s.get_nodes(["c0", "c1", "c2", "c3", "c4", "c5"])] == ["c5"]
    with pytest.raises(FilterError, match="needs node_ids, filters or both"):
        s.delete_nodes()


@pytest.mark.parametrize("op", [Op.TEXT_MATCH_INSENSITIVE, Op.CONTAINS, Op.ANY, Op.ALL])
def test_unsupported_operators_say_what_is_supported(op: FilterOperator) -> None:
    value = ["a"] if op in (Op.ANY, Op.ALL) else "a"
    with pytest.raises(FilterError, match=f"operator '{op.value}' is not supported; use ==, !=, >.*text_match"):
        to_mmrag_filters(M(F("lang", value, op)))
