import numpy as np
import pytest

import mmrag
from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import FilterError
from mmrag.stores.base import SearchRequest
from mmrag.stores.filters import And, Eq, In, Match, Not, Or, Range, parse_cli_filters, to_filter
from mmrag.stores.milvus import MilvusStore, to_milvus_filter
from mmrag.stores.milvus.filters import holds, literal, literal_matches, loose_match
from mmrag.types import Chunk, Modality
from tests.filter_cases import CASES, chunks, expected

INJECTIONS = ['a" or id != "', 'x\\', 'a\\" or 1==1 or "', "line\nbreak", "quote's", "日本語"]


def test_the_dict_form_builds_the_algebra():
    assert to_filter({"topic": ["b", "a", "b"]}) == In("topic", ("a", "b"))  # any of, sorted and unique
    assert to_filter({"page": mmrag.Range(gte=2)}) == Range("page", gte=2)
    assert to_filter({"lang": "en", "page": None}) == And(Eq("lang", "en"), Eq("page", None))
    assert to_filter({"page": {"$gte": 2, "$lt": 5}, "lang": {"$ne": "en"}}) == And(
        And(Range("page", gte=2), Range("page", lt=5)), Not(Eq("lang", "en")))
    assert to_filter({"$or": [{"a": 1}, {"b": {"$nin": [2]}}], "$not": {"c": {"$exists": True}}}) == And(
        Or(Eq("a", 1), Not(In("b", (2,)))), Not(Not(Eq("c", None))))
    assert to_filter({}) is None and to_filter(None) is None
    f = (Eq("a", 1) | ~In("b", [2])) & Range("page", gte=1)
    assert to_filter(f) is f and f == And(Or(Eq("a", 1), Not(In("b", (2,)))), Range("page", gte=1))


@pytest.mark.parametrize(("bad", "message"), [
    ({'a"] or 1==1 or x["': 1}, "invalid filter key"),
    ({"page": float("nan")}, "'page'"),
    ({"page": []}, "empty list"),
    ({"page": "3"}, "page is a whole number"),
    ({"page": 2.5}, "whole number"),
    ({"source": 3}, "source is a string"),
    ({"page": {"$regex": "x"}}, "unknown operator '\\$regex'; valid: \\$eq"),
    ({"$xor": []}, "unknown filter operator"),
    ({"$and": []}, "non-empty"),
    ({"page": {"$in": 3}}, "list of values"),
    ({"page": Eq("page", 1)}, "combine filters"),
    ({"page": Range("slide", gte=1)}, "another key"),
    ({"k": {"$exists": "yes"}}, "true or false"),
    ({"k": b"bytes"}, "unsupported value type"),
    ([("page", 1)], "filters are a dict"),
])
def test_bad_filters_are_invalid_arguments_that_say_what_is_wrong(bad, message):
    with pytest.raises(mmrag.InvalidArgument, match=message):
        to_filter(bad)


def test_bad_nodes_and_ranges():
    for make, message in [
        (lambda: Range(gte=3, lte=1), "matches nothing"),
        (lambda: Range("n", gt=1, lt=1), "matches nothing"),
        (lambda: Range(), "needs a bound"),
        (lambda: Range(gt=1, gte=1), "not both"),
        (lambda: Range(gte=1, lte="z"), "both bounds"),
        (lambda: Range("page", gte="a"), "page is a number"),
        (lambda: And(), "at least one"),
        (lambda: Or(Eq("a", 1), {"b": 2}), "expected a filter"),
        (lambda: Not(Range(gte=1)), "needs its key"),
        (lambda: In("k", "abc"), "list of values"),
        (lambda: Match("page", "1"), "text match works on strings"),
        (lambda: Match("k", ""), "non-empty string"),
    ]:
        with pytest.raises(FilterError, match=message):
            make()
    with pytest.raises(mmrag.InvalidArgument, match="needs its key"):
        SearchRequest("x", mode="bm25", filters=Range(gte=1))  # validated before any store is asked


def test_translation_of_each_filter_kind():
    expr = to_milvus_filter({"source": "a.pdf", "page": Range(gte=2, lte=4), "modality": ["image", "text"], "lang": "en"})
    assert expr == '(source == "a.pdf") and (page >= 2 and page <= 4) and (modality in ["image", "text"]) and (metadata["lang"] == "en")'
    assert to_milvus_filter({"start": Range(gte=1.5)}) == "t_start >= 1.5"
    # "any of" on a metadata key: an OR of equalities, which Milvus Lite accepts (it refuses `in` on a JSON key)
    assert to_milvus_filter({"lang": ["en", "de"]}) == 'metadata["lang"] == "de" or metadata["lang"] == "en"'


def test_not_is_pushed_to_the_leaves_with_explicit_complements():
    """Lite's `not` drops rows without the key (and rows of another type): each leaf
    names them instead."""
    assert to_milvus_filter(Not(Eq("lang", "en"))) == '(not exists metadata["lang"]) or (metadata["lang"] != "en")'
    assert to_milvus_filter(Not(In("page", [1, 3]))) == "(page is null) or (page not in [1, 3])"
    assert to_milvus_filter(Not(Eq("source", "a"))) == 'source != "a"'  # never null: nothing to add
    assert to_milvus_filter(Not(Range("n", gt=1))) == '(not exists metadata["n"]) or (metadata["n"] <= 1 or metadata["n"] like "%")'
    assert to_milvus_filter(Not(Or(Eq("a", 1), Eq("page", None)))) == (
        '((not exists metadata["a"]) or (metadata["a"] != 1)) and (page is not null)')


def test_text_match_is_a_like_with_its_wildcards_escaped():
    assert to_milvus_filter(Match("source", '50%_"x')) == 'source like "%50\\\\%\\\\_\\"x%"'
    assert to_milvus_filter(Not(Match("k", "a"))) == (
        '(not exists metadata["k"]) or (not (metadata["k"] like "%a%") or (metadata["k"] >= 0 or metadata["k"] < 0))')
    with pytest.raises(FilterError, match="resolved by the store"):
        to_milvus_filter(Match("k", "50%"))


def test_metadata_text_match_with_wildcards_becomes_the_rows_that_hold_it():
    """Milvus' JSON LIKE has no escape: the store finds candidates with a loose LIKE,
    checks them, and the match becomes a set of row keys (exact both ways)."""
    m = Match("k", '50%_"x')
    f = Or(m, Not(Match("k", "a_b")), Match("source", "%"))
    assert literal_matches(f) == [m, Match("k", "a_b")]  # columns escape their own wildcards
    assert loose_match(m) == 'metadata["k"] like "%50__\\"x%"'
    assert holds(m, {"k": 'is 50%_"x'}) and not holds(m, {"k": '50ab"x'}) and not holds(m, {"k": 5})
    resolved = {m: ["c1", "~h:abc"], Match("k", "a_b"): []}
    assert to_milvus_filter(f, resolved=resolved) == (
        '(id in ["c1", "~h:abc"]) or (id not in []) or (source like "%\\\\%%")')


def test_bad_keys_and_values_raise_naming_the_key():
    with pytest.raises(FilterError, match="control"):
        literal("a\x00b", "k")
    with pytest.raises(FilterError, match="control"):
        to_milvus_filter(Not(Eq("k", "a\x01")))


def test_cli_filters_parse_ints_and_repeated_keys():
    assert parse_cli_filters(["page=3", "source=a.pdf", "source=b.pdf"]) == {"page": 3, "source": ["a.pdf", "b.pdf"]}
    with pytest.raises(FilterError, match="key=value"):
        parse_cli_filters(["page"])


@pytest.fixture(scope="module")
def case_index(tmp_path_factory, text_embedder):
    """The filter cases' rows behind a real Index on a Milvus Lite file."""
    index = mmrag.Index(str(tmp_path_factory.mktemp("cases") / "cases.db"), "cases", embedder=text_embedder)
    index.add(chunks())
    yield index
    index.close()


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_every_operator_through_index_search_matches_the_reference(case_index, case):
    """Each case on a real Lite file: NOT, NE and NIN keep rows without the key, a
    value of another type is outside every range, and select() agrees with search."""
    want = expected(case)
    for mode in ("bm25", "dense"):
        assert {h.chunk.id for h in case_index.search("plain text row", k=10, mode=mode, filters=case)} == want, mode
    assert [c.id for c in case_index.store.select(case)] == sorted(want)


def test_select_limit_and_delete_where(tmp_path, text_embedder):
    index = mmrag.Index(str(tmp_path / "del.db"), "del", embedder=text_embedder)
    index.add(chunks())
    assert len(index.store.select(Not(Eq("lang", None)), limit=2)) == 2
    with pytest.raises(mmrag.InvalidArgument, match="would delete everything"):
        index.store.delete_where({})
    assert index.store.delete_where(Not(Eq("lang", "en"))) == 4
    assert sorted(c.id for c in index.store.get([c.id for c in chunks()])) == ["c0", "c5"]
    assert index.store.delete_where({"lang": 'en" or 1==1 or "'}) == 0


@pytest.fixture
def tricky_store(milvus_uri):
    """Chunks whose source/metadata values are injection attempts."""
    store = MilvusStore(milvus_uri, "t")
    store.ensure_collection({"text": EmbedderSpec("test", 4)})
    chunks = [
        Chunk(id=f"c{i}", doc_id=f"d{i}", source=value, modality=Modality.TEXT, text=f"text {i}", metadata={"tag": value})
        for i, value in enumerate(INJECTIONS)
    ]
    vecs = np.eye(len(chunks), 4, dtype=np.float32) + 0.01
    for i, c in enumerate(chunks):
        store.write_source(c.doc_id, [c], {"text": vecs[i : i + 1]}, keep={c.id})
    return store


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_attempts_match_exactly_their_own_row(tricky_store, value):
    others = sorted(set(INJECTIONS) - {value})
    for key in ("source", "tag"):
        hits = tricky_store.search(SearchRequest("text", k=10, mode="bm25", filters={key: value}))
        assert [h.chunk.source for h in hits] == [value]
        negated = tricky_store.search(SearchRequest("text", k=10, mode="bm25", filters={key: {"$ne": value}}))
        assert sorted(h.chunk.source for h in negated) == others
        assert tricky_store.select({key: {"$nin": [value, "or 1==1"]}}) == tricky_store.select(Not(Eq(key, value)))


def test_any_of_a_metadata_key_on_milvus_lite(tricky_store):
    """Repeated --filter key=a --filter key=b, Index.search(filters={k: [...]}) and the
    adapters' list filters all come here; Lite refused the old `in` expression."""
    picked = [INJECTIONS[0], INJECTIONS[3]]
    for key in ("tag", "source"):
        hits = tricky_store.search(SearchRequest("text", k=10, mode="bm25", filters={key: picked}))
        assert sorted(h.chunk.source for h in hits) == sorted(picked)


def test_id_values_become_stored_keys_and_id_ranges_are_refused():
    from mmrag.stores.milvus.rows import row_key

    long_id = "docs/" + "x" * 80
    assert to_milvus_filter(Not(In("doc_id", [long_id, "a"])), keys=row_key) == f'doc_id not in ["a", "{row_key(long_id)}"]'
    with pytest.raises(FilterError, match="ranges and text matches on ids"):
        to_milvus_filter(Range("id", gte="a"), keys=row_key)
