"""Ingest real PDFs and text into a real Milvus Lite file, then search."""

import pytest

import mmrag
from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder, resolve_model_path
from mmrag.ingest import Status

PAGES = [
    "Annual report of the harbour authority.\nShips arrived from twelve countries this year.",
    "Container traffic grew by eight percent.\nThe new crane lifts forty tonnes in one move.",
    "Seagrass meadows near the pier recovered after dredging stopped.\nDivers counted seahorses again.",
]


@pytest.fixture
def corpus(tmp_path, pdf_factory):
    pdf_factory("harbour.pdf", PAGES, title="Harbour Report")
    (tmp_path / "notes.md").write_text("# Kitchen\n\n## Bread\n\nSourdough needs a starter fed with flour and water.\n")
    return tmp_path


def test_search_finds_the_right_page_in_every_mode(corpus, milvus_uri, text_embedder):
    index = mmrag.Index(milvus_uri, embedder=text_embedder)
    report = index.ingest([corpus])
    assert report.count(Status.INGESTED) == 2 and report.ok
    for mode in ("dense", "bm25", "hybrid"):
        hits = index.search("seahorses returned to the seagrass", k=3, mode=mode)
        top = hits[0].chunk
        assert (top.source.endswith("harbour.pdf"), top.page) == (True, 3), mode
    hit = index.search("how heavy can the crane lift", k=1, mode="hybrid", fusion="weighted")[0]
    assert hit.chunk.page == 2 and {"dense", "weighted"} <= hit.scores.keys()
    md = index.search("sourdough starter", k=1)[0].chunk
    assert md.context == "notes.md > Kitchen > Bread"


def test_filters_restrict_hits(corpus, milvus_uri, text_embedder):
    index = mmrag.Index(milvus_uri, embedder=text_embedder)
    index.ingest([corpus])
    hits = index.search("report", k=10, filters={"page": mmrag.Range(gte=2)})
    assert hits and all(h.chunk.page >= 2 for h in hits)
    hits = index.search("bread", k=10, filters={"source": str(corpus / "notes.md")})
    assert {h.chunk.source for h in hits} == {str(corpus / "notes.md")}


def test_reingest_is_idempotent_and_a_changed_file_replaces_its_chunks(corpus, milvus_uri, text_embedder, pdf_factory):
    index = mmrag.Index(milvus_uri, embedder=text_embedder)
    first = index.ingest([corpus])
    rows = index.info()[0].rows
    again = index.ingest([corpus])
    assert again.count(Status.UNCHANGED) == 2 and again.chunks_written == 0
    assert index.info()[0].rows == rows == first.chunks_written
    pdf_factory("harbour.pdf", PAGES[:2] + ["The lighthouse keeper retired after forty years."])
    changed = index.ingest([corpus])
    assert changed.count(Status.INGESTED) == 1 and changed.count(Status.UNCHANGED) == 1
    assert index.info()[0].rows == rows
    assert not index.search("seahorses seagrass", k=5, mode="bm25")
    assert index.search("lighthouse keeper", k=1)[0].chunk.page == 3


def test_a_different_model_is_refused_instead_of_mixing_spaces(corpus, milvus_uri, text_embedder):
    mmrag.Index(milvus_uri, embedder=text_embedder).ingest([corpus])
    other = SentenceTransformerEmbedder(resolve_model_path(text_embedder.model_name))  # same weights, other name
    index = mmrag.Index(milvus_uri, embedder=other)
    with pytest.raises(mmrag.ModelMismatchError, match="was built with sentence-transformers/all-MiniLM-L6-v2"):
        index.ingest([corpus])
    with pytest.raises(mmrag.ModelMismatchError, match="--collection"):
        index.search("crane")


def test_empty_query_is_rejected(milvus_uri, text_embedder):
    with pytest.raises(ValueError, match="empty"):
        mmrag.Index(milvus_uri, embedder=text_embedder).search("   ")
