"""LangChain filter= dicts (the Mongo-style operators LangChain vector stores
document: $eq $ne $gt $gte $lt $lte $in $nin $and $or $not) through
MmragVectorStore and its retriever, on a real Milvus Lite file, against the
reference in tests/filter_cases.py."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_mmrag import MmragEmbeddings, MmragVectorStore

import mmrag
from mmrag import And, Eq, Filter, In, Not, Or, Range
from mmrag.stores.filters import to_filter
from tests.filter_cases import ROWS, expected

# (LangChain filter, the same meaning in mmrag's algebra)
CASES: list[tuple[dict[str, Any], Filter]] = [
    ({"lang": "en"}, Eq("lang", "en")),
    ({"lang": {"$eq": "en"}}, Eq("lang", "en")),
    ({"lang": {"$ne": "en"}}, Not(Eq("lang", "en"))),
    ({"lang": {"$in": ["en", "de"]}}, In("lang", ("en", "de"))),
    ({"lang": ["en", "de"]}, In("lang", ("en", "de"))),
    ({"lang": {"$nin": ["en", "de"]}}, Not(In("lang", ("en", "de")))),
    ({"n": {"$gt": 1}}, Range("n", gt=1)),
    ({"n": {"$gte": 1, "$lt": 4}}, And(Range("n", gte=1), Range("n", lt=4))),
    ({"page": {"$lte": 4}}, Range("page", lte=4)),
    ({"page": mmrag.Range(gte=4)}, Range("page", gte=4)),
    ({"$or": [{"lang": "de"}, {"page": {"$gte": 6}}]}, Or(Eq("lang", "de"), Range("page", gte=6))),
    ({"$and": [{"lang": "en"}, {"n": {"$gt": 1}}]}, And(Eq("lang", "en"), Range("n", gt=1))),
    ({"$not": {"lang": "en"}}, Not(Eq("lang", "en"))),
    ({"lang": {"$not": {"$in": ["en"]}}}, Not(In("lang", ("en",)))),
    ({"lang": {"$exists": False}}, Eq("lang", None)),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, text_embedder: Any) -> MmragVectorStore:
    s = MmragVectorStore(MmragEmbeddings(text_embedder), uri=str(tmp_path_factory.mktemp("lc") / "f.db"))
    metadatas = [{**meta, **({"page": page} if page is not None else {})} for _, page, meta in ROWS]
    s.add_texts([f"plain text row {i}" for i, _, _ in ROWS], metadatas=metadatas, ids=[i for i, _, _ in ROWS])
    return s


@pytest.mark.parametrize(("lc_filter", "meaning"), CASES, ids=repr)
def test_each_operator_through_the_store_and_retriever(store: MmragVectorStore, lc_filter: dict, meaning: Filter) -> None:
    assert to_filter(lc_filter) == meaning
    want = expected(meaning)
    for mode in ("dense", "bm25", "hybrid"):
        found = store.similarity_search("plain text row", k=10, filter=lc_filter, mode=mode)
        assert {d.id for d in found} == want, mode
    retriever = store.as_retriever(search_kwargs={"k": 10, "filter": lc_filter})
    assert {d.id for d in retriever.invoke("plain text row")} == want


def test_bad_operators_and_injection_are_refused_or_inert(store: MmragVectorStore) -> None:
    with pytest.raises(mmrag.InvalidArgument, match=r"unknown operator '\$like'; valid: \$eq"):
        store.similarity_search("row", filter={"lang": {"$like": "e%"}})
    with pytest.raises(mmrag.InvalidArgument, match="invalid filter key"):
        store.similarity_search("row", filter={'lang"] or 1==1 or metadata["x': "en"})
    assert store.similarity_search("row", k=10, filter={"lang": {"$ne": 'en" or 1==1 or "'}}) and not \
        store.similarity_search("row", k=10, filter={"lang": 'en" or 1==1 or "'})
