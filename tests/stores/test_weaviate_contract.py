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
        cleaner.close()
        for store in opened:
            try:
                store.close()
            except Exception:  # already closed by the test
                pass
