"""A LlamaIndex reader that turns files into nodes with mmrag's loaders and chunking."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from typing import Any

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import BaseNode, NodeRelationship
from llama_index.vector_stores.mmrag.convert import chunk_to_node

from mmrag.chunking import Chunker, WindowOptions
from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder
from mmrag.errors import InvalidArgument, LoaderError
from mmrag.ingest import doc_id_for, iter_files
from mmrag.loaders import Loader, default_loaders, find_loader, video_of


class MmragReader(BaseReader):
    """Files to ``TextNode``/``ImageNode``s, chunked the way ``mmrag ingest`` chunks them.

    Example::

        from llama_index.readers.mmrag import MmragReader
        nodes = MmragReader().load_data(["examples/data"])
        index = VectorStoreIndex(nodes, embed_model=MmragEmbedding())

    Each node keeps source, page/slide, section path and context header in its
    metadata; ``SOURCE`` points at the file, ``PARENT`` at its page/slide/section,
    and ``PREVIOUS``/``NEXT`` link the chunks of a file in reading order. The
    returned nodes are already chunked: give them to an index as nodes, not as
    documents to split again. A file that cannot be read raises ``LoaderError``
    naming it (``errors="skip"`` records it in ``self.failures`` and goes on).
    """

    def __init__(
        self,
        tokenizer: Any = None,
        window: WindowOptions | None = None,
        *,
        errors: str = "raise",
        loaders: list[Loader] | None = None,
    ) -> None:
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
        self._tokenizer = tokenizer
        self.window = window or WindowOptions()
        self.errors = errors
        self.failures: list[LoaderError] = []
        # No page renders by default: a text index cannot embed an ImageNode that
        # points into a PDF; pass default_loaders() to get them for a multimodal index.
        self.loaders = loaders if loaders is not None else default_loaders(render_pages=False)

    @property
    def tokenizer(self) -> Any:
        """The tokenizer chunks are counted in (the default MiniLM's, loaded on first use)."""
        if self._tokenizer is None:
            self._tokenizer = SentenceTransformerEmbedder().tokenizer
        return self._tokenizer

    def load_data(  # type: ignore[override]
        self,
        file: str | Path | Iterable[str | Path] | None = None,
        extra_info: dict[str, Any] | None = None,
        *,
        paths: str | Path | Iterable[str | Path] | None = None,
        **load_kwargs: Any,
    ) -> list[BaseNode]:
        """Nodes of ``file`` (a file, a folder, or several; ``paths`` is the same),
        following ``BaseReader``: ``SimpleDirectoryReader(file_extractor=...)`` calls
        ``load_data(path, extra_info=...)`` and its ``extra_info`` (file_path,
        file_name, dates) lands in every node's metadata beside mmrag's own keys."""
        if (file is None) == (paths is None):
            raise InvalidArgument("give the files to read once: load_data(file) or load_data(paths=...)")
        if load_kwargs.get("fs") is not None:
            raise InvalidArgument("MmragReader reads local files only; fs= is not supported")
        given = file if file is not None else paths
        if isinstance(given, (str, Path)):
            given = [given]
        self.failures = []
        nodes: list[BaseNode] = []
        for path in iter_files(given):
            if video_of(path) is not None:
                continue  # a video's sidecar subtitles: read with that video as its speech
            try:
                nodes.extend(self._file_nodes(path))
            except LoaderError as exc:
                if self.errors == "raise":
                    raise
                self.failures.append(exc)
        for node in nodes:
            node.metadata.update({k: v for k, v in (extra_info or {}).items() if k not in node.metadata})
        return nodes

    def _file_nodes(self, path: Path) -> list[BaseNode]:
        if not path.exists():
            raise LoaderError(path, "no such file")
        loader, _ = find_loader(path, self.loaders)
        chunker = Chunker(self.tokenizer, self.window)
        nodes = [chunk_to_node(c) for c in chunker.chunk(doc_id_for(path), loader.load(path, str(path)))]
        for prev, nxt in pairwise(nodes):
            prev.relationships[NodeRelationship.NEXT] = nxt.as_related_node_info()
            nxt.relationships[NodeRelationship.PREVIOUS] = prev.as_related_node_info()
        return nodes

