"""Scale-out ingestion on Daft (extra ``distributed``): the same loaders,
chunker, embedders and store as ``mmrag.ingest``, on Daft's local runner or a
Ray cluster. See docs/scale-out.md."""

from mmrag.distributed.pipeline import DaftIngestor, StoreConfig, text_spaces, use_ray

__all__ = ["DaftIngestor", "StoreConfig", "text_spaces", "use_ray"]
