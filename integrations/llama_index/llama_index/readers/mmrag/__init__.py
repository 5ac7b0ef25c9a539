from llama_index.readers.mmrag.base import MmragReader

__all__ = ["MmragReader"]
