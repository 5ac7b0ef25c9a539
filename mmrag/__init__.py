"""mmrag: search text, images, PDF pages, slides and transcripts in one place."""

from mmrag.errors import InvalidArgument, LoaderError, MmragError, ModelMismatchError, StoreError
from mmrag.index import Index
from mmrag.stores import Range, SearchMode
from mmrag.types import Chunk, Element, Hit, ImageRef, Modality
from mmrag.version import __version__ as __version__

__all__ = [
    "Chunk",
    "Element",
    "Hit",
    "ImageRef",
    "Index",
    "InvalidArgument",
    "LoaderError",
    "MmragError",
    "Modality",
    "ModelMismatchError",
    "Range",
    "SearchMode",
    "StoreError",
]
