from llama_index.postprocessor.mmrag.base import MmragRerank

__all__ = ["MmragRerank"]
