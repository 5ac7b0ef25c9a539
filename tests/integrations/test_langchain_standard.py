"""LangChain's own conformance suites (langchain-tests) against our adapters on Milvus Lite."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from langchain_mmrag import MmragEmbeddings, MmragRetriever, MmragSearchTool, MmragVectorStore
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
    ToolsIntegrationTests,
    VectorStoreIntegrationTests,
)
from langchain_tests.unit_tests import EmbeddingsUnitTests, ToolsUnitTests

import mmrag


class _SharedEmbedder:
    """The session's MiniLM, handed to constructors so each test does not reload it."""

    shared: ClassVar[dict[str, Any]] = {}

    @pytest.fixture(autouse=True)
    def _share(self, text_embedder: Any) -> None:
        type(self).shared["embedder"] = text_embedder


class TestEmbeddingsUnit(_SharedEmbedder, EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[MmragEmbeddings]:
        return MmragEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"embedder": self.shared["embedder"]}


class TestEmbeddingsIntegration(_SharedEmbedder, EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[MmragEmbeddings]:
        return MmragEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"embedder": self.shared["embedder"]}


class TestVectorStore(VectorStoreIntegrationTests):
    """The suite's own deterministic fake embeddings, wrapped so the collection records them."""

    @pytest.fixture
    def vectorstore(self, tmp_path: Path) -> MmragVectorStore:
        store = MmragVectorStore(self.get_embeddings(), uri=str(tmp_path / "lc.db"), collection="standard")
        yield store
        store.index.close()


class TestRetriever(RetrieversIntegrationTests):
    index: mmrag.Index | None = None

    @pytest.fixture(autouse=True)
    def _index(self, ingested: mmrag.Index) -> None:
        type(self).index = ingested

    @property
    def retriever_constructor(self) -> type[MmragRetriever]:
        return MmragRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"index": self.index}

    @property
    def retriever_query_example(self) -> str:
        return "battery storage for solar power"


class _ToolParams:
    index: mmrag.Index | None = None

    @pytest.fixture(autouse=True)
    def _index(self, ingested: mmrag.Index) -> None:
        type(self).index = ingested

    @property
    def tool_constructor(self) -> type[MmragSearchTool]:
        return MmragSearchTool

    @property
    def tool_constructor_params(self) -> dict:
        return {"retriever": MmragRetriever(index=self.index)}

    @property
    def tool_invoke_params_example(self) -> dict:
        return {"query": "when do bees swarm", "k": 2}


class TestToolUnit(_ToolParams, ToolsUnitTests):
    pass


class TestToolIntegration(_ToolParams, ToolsIntegrationTests):
    pass
