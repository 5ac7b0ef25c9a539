from llama_index.vector_stores.mmrag.base import MmragVectorStore
from llama_index.vector_stores.mmrag.filters import to_mmrag_filters

__all__ = ["MmragVectorStore", "to_mmrag_filters"]
