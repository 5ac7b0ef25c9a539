"""Hybrid search, then a second-stage rerank, through both adapters.

    PYTHONPATH=. .venv/bin/python examples/hybrid_rerank.py

Shows one query under dense, BM25, hybrid RRF and weighted hybrid (``alpha``),
then reranks the hybrid candidates. Any object with ``rerank(query, hits, k)``
is a reranker (mmrag's cross-encoder and late-interaction rerankers have that
shape); to stay offline this script uses a small one built on the MiniLM: it
re-scores each candidate's full text (context header included) against the query.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from langchain_mmrag import MmragRetriever
from llama_index.core import VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.embeddings.mmrag import MmragEmbedding
from llama_index.postprocessor.mmrag import MmragRerank
from llama_index.vector_stores.mmrag import MmragVectorStore

import mmrag
from mmrag.embedding.base import Embedder
from mmrag.types import Hit

ROOT = Path(__file__).resolve().parent.parent
QUERY = "which battery chemistry is safer for grid storage"


class BiEncoderReranker:
    """Re-scores candidates by cosine of query and full chunk text (returns new hits)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def rerank(self, query: str, hits: Sequence[Hit], k: int) -> list[Hit]:
        q = self.embedder.embed_queries([query])[0]
        docs = self.embedder.embed_documents([h.chunk.embed_text for h in hits])
        scored = sorted(zip((docs @ q).tolist(), hits), key=lambda p: -p[0])[:k]
        return [Hit(h.chunk, s, {**h.scores, "rerank": s}) for s, h in scored]


def show(title: str, hits: Sequence[Hit]) -> None:
    print(f"\n{title}")
    for h in hits:
        c = h.chunk
        where = c.source + (f" p.{c.page}" if c.page else "")
        print(f"  {h.score:.4f} {where}: {c.text.splitlines()[0][:60]!r}")


def main(store_path: str) -> None:
    os.chdir(ROOT)
    index = mmrag.Index(store_path, collection="hybrid_rerank")
    index.ingest(["examples/data"])
    for mode in ("dense", "bm25", "hybrid"):
        show(f"{mode}:", index.search(QUERY, k=3, mode=mode))

    reranker = BiEncoderReranker(index.spaces.embedders["text"])
    # LangChain: weighted hybrid (alpha = 1 dense only, 0 BM25 only), then rerank 10 candidates.
    retriever = MmragRetriever(index=index, k=3, alpha=0.5, reranker=reranker, rerank_depth=10)
    print("\nLangChain MmragRetriever(alpha=0.5, reranker=..., rerank_depth=10):")
    for doc in retriever.invoke(QUERY):
        m = doc.metadata
        where = m["source"] + (f" p.{m['page']}" if m["page"] else "")
        print(f"  rerank {m['scores']['rerank']:.4f} weighted {m['scores']['weighted']:.4f} {where}")

    # LlamaIndex: the same store, hybrid retrieval, MmragRerank as a node postprocessor.
    embed = MmragEmbedding(index.spaces.embedders["text"])
    li_index = VectorStoreIndex.from_vector_store(MmragVectorStore(index=index), embed_model=embed)
    engine = li_index.as_query_engine(
        llm=MockLLM(max_tokens=16),
        vector_store_query_mode="hybrid",
        similarity_top_k=10,
        node_postprocessors=[MmragRerank(reranker=reranker, top_n=3)],
    )
    print("\nLlamaIndex query engine, hybrid top 10 -> MmragRerank top 3:")
    for n in engine.query(QUERY).source_nodes:
        page = n.node.metadata.get("page")
        print(f"  {n.score:.4f} {n.node.metadata['source']}" + (f" p.{page}" if page else ""))
    index.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=".mmrag/hybrid_rerank.db", help="Milvus Lite file (created if missing)")
    main(parser.parse_args().store)
