from llama_index.vector_stores.mmrag.base import MmragVectorStore, to_mmrag_filters

__all__ = ["MmragVectorStore", "to_mmrag_filters"]
