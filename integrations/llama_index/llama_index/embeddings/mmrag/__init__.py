from llama_index.embeddings.mmrag.base import MmragEmbedding

__all__ = ["MmragEmbedding"]
