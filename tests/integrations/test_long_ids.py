"""Ids of any length through both frameworks (issue 13 bug 2): real paths used as ids
pass the stores' 64-byte key columns and come back exactly as given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_mmrag import MmragEmbeddings, MmragVectorStore as LangChainStore
from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.embeddings.mmrag import MmragEmbedding
from llama_index.vector_stores.mmrag import MmragVectorStore as LlamaStore

TEXTS = {
    "walruses.txt": "Walruses haul out on sea ice and use their tusks to climb.",
    "espresso.txt": "Espresso is brewed by forcing hot water through finely ground coffee.",
}


@pytest.fixture
def deep_folder(tmp_path: Path) -> Path:
    """Two text files under a real, long path (longer than any 64-byte key)."""
    folder = tmp_path.joinpath(*["a-rather-long-folder-name-for-notes"] * 3)
    folder.mkdir(parents=True)
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    assert len(str(folder / "walruses.txt")) > 100
    return folder


def _by_file(nodes: list) -> dict[str, Any]:
    return {Path(n.metadata["file_path"]).name: n for n in nodes}


def test_llama_index_filename_as_id_from_documents(tmp_path: Path, deep_folder: Path, text_embedder: Any) -> None:
    docs = SimpleDirectoryReader(str(deep_folder), filename_as_id=True).load_data()
    assert all(len(d.doc_id) > 64 for d in docs)
    embed = MmragEmbedding(text_embedder)
    store = LlamaStore(str(tmp_path / "li.db"), collection="ids", embed_model=embed)
    index = VectorStoreIndex.from_documents(
        docs, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed
    )
    found = index.as_retriever(similarity_top_k=1).retrieve("walrus tusks on the ice")
    walrus_doc = next(d for d in docs if d.metadata["file_name"] == "walruses.txt")
    assert [n.node.ref_doc_id for n in found] == [walrus_doc.doc_id]
    node_id = found[0].node.node_id
    assert [n.node_id for n in store.get_nodes([node_id])] == [node_id]
    index.delete_ref_doc(walrus_doc.doc_id)
    left = index.as_retriever(similarity_top_k=5).retrieve("walrus tusks on the ice")
    assert {n.node.ref_doc_id for n in left} == {d.doc_id for d in docs} - {walrus_doc.doc_id}


def test_llama_index_ingestion_pipeline_with_path_ids(tmp_path: Path, deep_folder: Path, text_embedder: Any) -> None:
    docs = SimpleDirectoryReader(str(deep_folder), filename_as_id=True).load_data()
    embed = MmragEmbedding(text_embedder)
    store = LlamaStore(str(tmp_path / "pipe.db"), collection="ids", embed_model=embed)
    pipeline = IngestionPipeline(transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0), embed], vector_store=store)
    nodes = pipeline.run(documents=docs)
    pipeline.run(documents=docs)  # the same nodes again: replaced, not duplicated
    assert {n.ref_doc_id for n in nodes} == {d.doc_id for d in docs}
    stored = store.get_nodes([n.node_id for n in nodes])
    assert {n.node_id for n in stored} == {n.node_id for n in nodes}
    assert {s.doc_id for s in store.index.store.sources()} == {d.doc_id for d in docs}
    hits = VectorStoreIndex.from_vector_store(store, embed_model=embed).as_retriever(similarity_top_k=1).retrieve("espresso")
    assert _by_file([h.node for h in hits]).keys() == {"espresso.txt"}


def test_langchain_ids_built_from_paths(tmp_path: Path, deep_folder: Path, text_embedder: Any) -> None:
    store = LangChainStore(MmragEmbeddings(text_embedder), uri=str(tmp_path / "lc.db"))
    paths = sorted(str(p) for p in deep_folder.iterdir())
    ids = [f"{p}#chunk-0" for p in paths]
    assert store.add_texts([Path(p).read_text() for p in paths], [{"source": p} for p in paths], ids=ids) == ids
    assert [d.id for d in store.get_by_ids(ids[::-1])] == ids[::-1]
    (top,) = store.similarity_search("walrus tusks", k=1)
    assert top.id == next(i for i in ids if "walruses" in i) and top.metadata == {"source": top.id[: -len("#chunk-0")]}
    store.delete([top.id])
    assert [d.id for d in store.get_by_ids(ids)] == [i for i in ids if i != top.id]
