"""The store contract on a real Milvus Lite file."""

from __future__ import annotations

import pytest

pytest.importorskip("pymilvus")

from mmrag.stores.milvus import MilvusStore
from tests.stores.contract import StoreContract


class TestMilvusLite(StoreContract):
    @pytest.fixture
    def make_store(self, milvus_uri):
        return lambda collection: MilvusStore(milvus_uri, collection)
