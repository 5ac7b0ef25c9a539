import numpy as np
import pytest

from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import FilterError
from mmrag.stores.base import SearchRequest
from mmrag.stores.filters import Range, literal, parse_cli_filters, to_milvus_filter
from mmrag.stores.milvus import FILTER_FIELDS, MilvusStore
from mmrag.types import Chunk, Modality

INJECTIONS = ['a" or id != "', 'x\\', 'a\\" or 1==1 or "', "line\nbreak", "quote's", "日本語"]


def test_translation_of_each_filter_kind():
    expr = to_milvus_filter({"source": "a.pdf", "page": Range(gte=2, lte=4), "modality": ["image", "text"], "lang": "en"}, FILTER_FIELDS)
    assert expr == '(source == "a.pdf") and (page >= 2 and page <= 4) and (modality in ["image", "text"]) and (metadata["lang"] == "en")'
    assert to_milvus_filter({"start": Range(gte=1.5)}, FILTER_FIELDS) == "(t_start >= 1.5)"
    # "any of" on a metadata key: an OR of equalities, which Milvus Lite accepts (it refuses `in` on a JSON key)
    assert to_milvus_filter({"lang": ["en", "de"]}, FILTER_FIELDS) == '(metadata["lang"] == "de" or metadata["lang"] == "en")'


def test_bad_keys_and_values_raise_naming_the_key():
    with pytest.raises(FilterError, match="invalid filter key"):
        to_milvus_filter({'a"] or 1==1 or x["': 1}, FILTER_FIELDS)
    with pytest.raises(FilterError, match="'page'"):
        to_milvus_filter({"page": float("nan")}, FILTER_FIELDS)
    with pytest.raises(FilterError, match="control"):
        literal("a\x00b", "k")
    with pytest.raises(FilterError, match="empty"):
        to_milvus_filter({"page": []}, FILTER_FIELDS)


def test_cli_filters_parse_ints_and_repeated_keys():
    assert parse_cli_filters(["page=3", "source=a.pdf", "source=b.pdf"]) == {"page": 3, "source": ["a.pdf", "b.pdf"]}
    with pytest.raises(FilterError, match="key=value"):
        parse_cli_filters(["page"])


@pytest.fixture
def tricky_store(milvus_uri):
    """Three chunks whose source/metadata values are injection attempts."""
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
    for key in ("source", "tag"):
        hits = tricky_store.search(SearchRequest("text", k=10, mode="bm25", filters={key: value}))
        assert [h.chunk.source for h in hits] == [value]


def test_any_of_a_metadata_key_on_milvus_lite(tricky_store):
    """Repeated --filter key=a --filter key=b, Index.search(filters={k: [...]}) and the
    adapters' list filters all come here; Lite refused the old `in` expression."""
    picked = [INJECTIONS[0], INJECTIONS[3]]
    for key in ("tag", "source"):
        hits = tricky_store.search(SearchRequest("text", k=10, mode="bm25", filters={key: picked}))
        assert sorted(h.chunk.source for h in hits) == sorted(picked)
