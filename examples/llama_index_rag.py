"""LlamaIndex RAG over the mixed example folder, fully offline.

    PYTHONPATH=. .venv/bin/python examples/llama_index_rag.py

The reader chunks the files as `mmrag ingest` does (pages, sections, context
headers), the store is a Milvus Lite file with hybrid BM25 + vector search, and
the embedding is the offline MiniLM. MockLLM stands in for a real LLM so the
script runs without network or keys; swap in any LlamaIndex LLM (``llm=...``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.embeddings.mmrag import MmragEmbedding
from llama_index.readers.mmrag import MmragReader
from llama_index.vector_stores.mmrag import MmragVectorStore

ROOT = Path(__file__).resolve().parent.parent


def main(store_path: str) -> None:
    os.chdir(ROOT)  # sources are stored as given: keep them relative to the repo
    embed = MmragEmbedding()  # offline MiniLM
    nodes = MmragReader(tokenizer=embed.embedder.tokenizer).load_data(["examples/data"])
    print(f"read {len(nodes)} nodes from examples/data")

    store = MmragVectorStore(store_path, collection="llama_index_rag", embed_model=embed)
    store.clear()  # re-runs start from the same state
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed)

    engine = index.as_query_engine(llm=MockLLM(max_tokens=24), similarity_top_k=3, vector_store_query_mode="hybrid")
    for question in ["Why do lithium iron phosphate batteries dominate storage?", "When should I check a hive for swarming?"]:
        response = engine.query(question)
        print(f"\nQ: {question}")
        for n in response.source_nodes:
            meta = n.node.metadata
            where = f"{meta['source']}" + (f" p.{meta['page']}" if "page" in meta else "")
            print(f"  {n.score:.4f}  {where}: {n.node.get_content()[:70]!r}")

    # Weighted hybrid: alpha = 1 is dense only, 0 is BM25 only.
    retriever = index.as_retriever(vector_store_query_mode="hybrid", alpha=0.3, similarity_top_k=2)
    print("\nalpha=0.3 (keyword-leaning):")
    for n in retriever.retrieve("espresso grind size"):
        print(f"  {n.score:.4f}  {n.node.metadata['source']}: {n.node.get_content()[:70]!r}")
    store.index.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=".mmrag/llama_index.db", help="Milvus Lite file (created if missing)")
    main(parser.parse_args().store)
