"""mmrag: search text, images, PDF pages, slides and transcripts in one place."""

from mmrag.errors import LoaderError, MmragError, ModelMismatchError, StoreError
from mmrag.index import Index
from mmrag.stores import Range, SearchMode
from mmrag.types import Chunk, Element, Hit, ImageRef, Modality

__all__ = [
    "Chunk",
    "Element",
    "Hit",
    "ImageRef",
    "Index",
    "LoaderError",
    "MmragError",
    "Modality",
    "ModelMismatchError",
    "Range",
    "SearchMode",
    "StoreError",
]
__version__ = "0.1.0"
