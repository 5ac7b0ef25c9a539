"""The store contract on a real Weaviate server: set WEAVIATE_URL (e.g.
``weaviate://localhost:8080``; optional WEAVIATE_API_KEY). Without it these tests
are skipped: no Weaviate server is faked or mocked."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.stores.contract import StoreContract

URL = os.environ.get("WEAVIATE_URL")
pytestmark = pytest.mark.skipif(not URL, reason="WEAVIATE_URL is not set: no Weaviate server to test against")


class TestWeaviate(StoreContract):
    @pytest.fixture
    def make_store(self):
        from mmrag.stores.weaviate import WeaviateStore, class_name
        from mmrag.stores.weaviate.manifest import manifest_name

        prefix = f"Mmragtest{uuid.uuid4().hex[:8]}"
        opened = []

        def make(collection: str):
            store = WeaviateStore.from_uri(URL, f"{prefix}_{collection}")
            opened.append(store)
            return store

        yield make
        cleaner = WeaviateStore.from_uri(URL, "cleanup")
        for store in opened:
            cleaner.client.collections.delete(class_name(store.collection))
            cleaner.client.collections.delete(manifest_name(class_name(store.collection)))
        cleaner.close()
        for store in opened:
            try:
                store.close()
            except Exception:  # already closed by the test
                pass


def test_rerun_skips_unchanged_files_and_a_recreated_collection_starts_afresh(tmp_path, text_embedder):
    """The manifest on a real server: a second ingest loads nothing; after the chunk
    collection is dropped and made again, the old manifest no longer speaks for it."""
    from mmrag.index import Index
    from mmrag.ingest import Status
    from mmrag.stores.weaviate import class_name
    from mmrag.stores.weaviate.manifest import manifest_name

    docs = tmp_path / "docs"
    docs.mkdir()
    for i, topic in enumerate(["honey bees and hives", "coral reefs and fish"]):
        (docs / f"note{i}.txt").write_text(f"Note {i} is about {topic}.\n")
    collection = f"Mmragtest{uuid.uuid4().hex[:8]}_manifest_run"
    index = Index(URL, collection, embedder=text_embedder)
    try:
        assert index.ingest([docs]).count(Status.INGESTED) == 2
        again = index.ingest([docs])
        assert again.count(Status.UNCHANGED) == 2 and again.chunks_written == 0
        index.store.client.collections.delete(class_name(collection))  # the manifest is left behind
        fresh = Index(URL, collection, embedder=text_embedder)
        assert fresh.ingest([docs]).count(Status.INGESTED) == 2
        assert sum(s.chunks for s in fresh.store.sources()) == 2
        fresh.close()
    finally:
        for name in (class_name(collection), manifest_name(class_name(collection))):
            index.store.client.collections.delete(name)
        index.close()
