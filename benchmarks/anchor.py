"""The anchor: LlamaIndex's default path over Milvus Lite, at its best.

``SimpleDirectoryReader`` with its default file readers, ``VectorStoreIndex`` with its
default splitter, ``MilvusVectorStore`` with Milvus' built-in BM25 enabled so
hybrid search is possible, and the same MiniLM through
``llama-index-embeddings-huggingface`` loaded from the same local files as mmrag.

The retriever is built as ``VectorIndexRetriever(index, vector_store_query_mode=...)``
rather than ``index.as_retriever()``: with llama-index-vector-stores-milvus 1.2.0
and pymilvus 3, ``as_retriever()`` over a Milvus-backed index was seen here to
restrict every search to the ids held in the index's own node dict, which would
understate the anchor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DIM = 384


def embed_model(model_path: str):
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(model_name=model_path, device="cpu")


def vector_store(uri: str, collection: str = "anchor"):
    from llama_index.vector_stores.milvus import MilvusVectorStore
    from llama_index.vector_stores.milvus.utils import BM25BuiltInFunction

    return MilvusVectorStore(
        uri=uri, collection_name=collection, dim=DIM, overwrite=True, enable_sparse=True,
        sparse_embedding_function=BM25BuiltInFunction(), hybrid_ranker="RRFRanker",
        hybrid_ranker_params={"k": 60}, use_async_client=False,
    )


def read_dir(folder: Path) -> tuple[list[Any], dict[str, int]]:
    """Documents from the default readers, and per file the characters of text they yielded."""
    from llama_index.core import SimpleDirectoryReader

    # exclude_hidden=False only because the cached corpora live under benchmarks/.cache (a hidden
    # folder the reader would otherwise skip whole); the corpora hold no hidden files themselves.
    reader = SimpleDirectoryReader(str(folder), recursive=True, raise_on_error=False, exclude_hidden=False)
    docs = reader.load_data(show_progress=False)
    chars: dict[str, int] = {}
    for d in docs:
        key = d.metadata.get("file_path") or d.metadata.get("file_name", "?")
        chars[key] = chars.get(key, 0) + len(d.text.strip())
    return docs, chars


def build_index(docs: list[Any], uri: str, model: Any, collection: str = "anchor"):
    """``model``: a local model path, or an embed model already loaded (to time ingestion without loading)."""
    from llama_index.core import StorageContext, VectorStoreIndex

    storage = StorageContext.from_defaults(vector_store=vector_store(uri, collection))
    model = embed_model(model) if isinstance(model, str) else model
    return VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=model)


def retriever(index: Any, mode: str, k: int):
    """``mode`` is ``dense`` (the default query mode) or ``hybrid``."""
    from llama_index.core.retrievers import VectorIndexRetriever
    from llama_index.core.vector_stores.types import VectorStoreQueryMode

    query_mode = VectorStoreQueryMode.HYBRID if mode == "hybrid" else VectorStoreQueryMode.DEFAULT
    return VectorIndexRetriever(index, similarity_top_k=k, vector_store_query_mode=query_mode)


def to_hit(node_with_score: Any) -> dict[str, Any]:
    """A LlamaIndex result as an mmrag hit dict, giving it every location it knows:
    ``page_label`` is a PDF page or, for .pptx, the slide number; transcripts have no times."""
    meta = node_with_score.node.metadata
    source = meta.get("file_path") or meta.get("file_name") or ""
    label = meta.get("page_label")
    number = int(label) if label is not None and str(label).isdigit() else None
    is_deck = str(source).lower().endswith(".pptx")
    return {
        "source": source,
        "page": None if is_deck else number,
        "slide": number if is_deck else None,
        "start": None,
        "end": None,
        "score": node_with_score.score,
    }
