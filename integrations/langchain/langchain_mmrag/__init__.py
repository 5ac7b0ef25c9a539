"""LangChain integration for mmrag: one import away from multimodal hybrid search.

Example::

    from langchain_mmrag import MmragEmbeddings, MmragRetriever, MmragVectorStore
    store = MmragVectorStore(MmragEmbeddings(), uri="mmrag.db")
    store.add_texts(["solar panels convert light"], metadatas=[{"source": "notes.txt"}])
    docs = store.similarity_search("photovoltaic", k=3, mode="hybrid")
"""

from langchain_mmrag.compressors import MmragReranker
from langchain_mmrag.embeddings import MmragEmbeddings, as_embedder
from langchain_mmrag.retrievers import MmragRetriever
from langchain_mmrag.tools import MmragSearchInput, MmragSearchTool
from langchain_mmrag.vectorstores import MmragVectorStore

__all__ = [
    "MmragEmbeddings",
    "MmragReranker",
    "MmragRetriever",
    "MmragSearchInput",
    "MmragSearchTool",
    "MmragVectorStore",
    "as_embedder",
]
__version__ = "0.1.0"
