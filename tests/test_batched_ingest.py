"""Small sources are embedded together but written one by one: the store ends
up exactly as file-by-file ingestion leaves it, and a source whose embedding
fails fails alone."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import mmrag
from mmrag.embedding.spaces import EmbeddingSpaces
from mmrag.errors import StoreError
from mmrag.ingest import EMBED_BATCH_CHUNKS, Ingestor, Status
from mmrag.types import Chunk

FACTS = [
    "Volcanoes erupt when magma reaches the surface.",
    "The Nile flows north into the Mediterranean Sea.",
    "Honey bees communicate with a waggle dance.",
    "Copper conducts electricity better than iron.",
    "The Great Barrier Reef lies off Queensland.",
]


class CountingSpaces(EmbeddingSpaces):
    """Real MiniLM spaces that count embedding calls and refuse chunks holding ``poison``."""

    def __init__(self, embedder, poison: str | None = None) -> None:
        super().__init__({"text": embedder})
        self.calls: list[int] = []
        self.poison = poison

    def embed_chunks(self, chunks: Sequence[Chunk]):
        self.calls.append(len(chunks))
        if self.poison and any(self.poison in c.text for c in chunks):
            raise ValueError(f"cannot embed text containing {self.poison!r}")
        return super().embed_chunks(chunks)


def write_facts(folder, n: int) -> list:
    folder.mkdir()
    paths = []
    for i in range(n):
        path = folder / f"fact{i:02d}.txt"
        path.write_text(f"{FACTS[i % len(FACTS)]} Note {i}.\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_small_files_share_one_embedding_call_and_match_file_by_file(tmp_path, text_embedder):
    write_facts(tmp_path / "docs", 12)
    spaces = CountingSpaces(text_embedder)
    together = mmrag.Index(str(tmp_path / "together.db"), embedder=spaces)
    together.store.ensure_collection(spaces.specs())
    client, inserts = together.store.client, []
    real_insert = client.insert
    client.insert = lambda collection, data, **kw: inserts.append((collection, len(data))) or real_insert(collection, data, **kw)
    report = together.ingest([tmp_path / "docs"])
    assert report.count(Status.INGESTED) == 12 and spaces.calls == [12]
    assert [n for c, n in inserts if c == together.store.collection] == [12]  # one bulk insert for the 12 new files

    alone = mmrag.Index(str(tmp_path / "alone.db"), embedder=text_embedder)
    ingestor = alone.ingestor
    ingestor.store.ensure_collection(ingestor.spaces.specs())
    for path in sorted((tmp_path / "docs").iterdir()):
        assert ingestor.ingest_file(path).status is Status.INGESTED

    assert {s.source: s.chunks for s in together.store.sources()} == {s.source: s.chunks for s in alone.store.sources()}
    for query in ("how do bees talk", "which metal conducts best"):
        a = [(h.chunk.id, round(h.score, 4)) for h in together.search(query, k=5, mode="dense")]
        b = [(h.chunk.id, round(h.score, 4)) for h in alone.search(query, k=5, mode="dense")]
        assert a == b


def test_a_source_whose_embedding_fails_fails_alone(tmp_path, text_embedder):
    write_facts(tmp_path / "docs", 4)
    (tmp_path / "docs" / "bad.txt").write_text("This line holds POISON for the embedder.\n", encoding="utf-8")
    spaces = CountingSpaces(text_embedder, poison="POISON")
    index = mmrag.Index(str(tmp_path / "store.db"), embedder=spaces)
    report = index.ingest([tmp_path / "docs"])
    by_name = {f.path.split("/")[-1]: f for f in report.files}
    assert by_name["bad.txt"].status is Status.FAILED and "POISON" in by_name["bad.txt"].reason
    assert all(by_name[f"fact{i:02d}.txt"].status is Status.INGESTED for i in range(4))
    assert spaces.calls[0] == 5  # the joint call, then each source alone
    assert {s.source.split("/")[-1] for s in index.store.sources()} == {f"fact{i:02d}.txt" for i in range(4)}
    again = index.ingest([tmp_path / "docs"])  # nothing half-written: the good files are unchanged, bad fails again
    assert again.count(Status.UNCHANGED) == 4 and again.count(Status.FAILED) == 1


def test_batches_are_bounded_by_chunk_count(tmp_path, text_embedder):
    write_facts(tmp_path / "docs", 25)
    spaces = CountingSpaces(text_embedder)
    ingestor = mmrag.Index(str(tmp_path / "store.db"), embedder=spaces).ingestor
    assert ingestor.batch_chunks == EMBED_BATCH_CHUNKS
    ingestor.batch_chunks = 10
    report = ingestor.run([tmp_path / "docs"])
    assert report.count(Status.INGESTED) == 25
    assert spaces.calls == [10, 10, 5]
    with pytest.raises(mmrag.InvalidArgument, match="batch_chunks must be >= 1") as refused:
        Ingestor(ingestor.store, spaces, ingestor.chunker, batch_chunks=0)
    assert isinstance(refused.value, ValueError)  # callers that catch ValueError keep working


def test_a_failed_bulk_insert_falls_back_to_one_source_at_a_time(tmp_path, text_embedder, monkeypatch):
    write_facts(tmp_path / "docs", 5)
    index = mmrag.Index(str(tmp_path / "store.db"), embedder=text_embedder)

    def refuse(chunks, vectors):
        raise StoreError("injected: bulk insert refused")

    monkeypatch.setattr(index.store, "add_sources", refuse)
    report = index.ingest([tmp_path / "docs"])
    assert report.count(Status.INGESTED) == 5 and report.ok
    assert len(index.store.sources()) == 5


def test_overlapping_paths_ingest_each_file_once(tmp_path, text_embedder):
    paths = write_facts(tmp_path / "docs", 3)
    index = mmrag.Index(str(tmp_path / "store.db"), embedder=text_embedder)
    report = index.ingest([tmp_path / "docs", paths[0], tmp_path / "docs" / ".." / "docs" / paths[1].name])
    assert report.count(Status.INGESTED) == 3 and len(report.files) == 3
    assert sum(s.chunks for s in index.store.sources()) == 3  # no chunk inserted twice
