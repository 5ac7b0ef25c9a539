from llama_index.tools.mmrag.base import mmrag_search_tool

__all__ = ["mmrag_search_tool"]
