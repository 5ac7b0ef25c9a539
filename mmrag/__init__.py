"""mmrag: search text, images, PDF pages, slides and transcripts in one place.

The public names load on first use (PEP 562 ``__getattr__``): ``import mmrag``
costs milliseconds, so a BM25-only command never imports the store's or the
models' dependencies it does not need.
"""

from importlib import import_module as _import_module
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING

from mmrag.version import __version__ as __version__

if TYPE_CHECKING:  # type checkers and IDEs see the real names
    from mmrag.errors import InvalidArgument, LoaderError, MmragError, ModelMismatchError, StoreError
    from mmrag.index import Index
    from mmrag.stores import And, Eq, Filter, In, Match, Not, Or, Range, SearchMode
    from mmrag.types import Chunk, Element, Hit, ImageRef, Modality

# public name -> the module that defines it
_HOMES = {
    "And": "mmrag.stores.filters",
    "Chunk": "mmrag.types",
    "Element": "mmrag.types",
    "Eq": "mmrag.stores.filters",
    "Filter": "mmrag.stores.filters",
    "Hit": "mmrag.types",
    "ImageRef": "mmrag.types",
    "In": "mmrag.stores.filters",
    "Index": "mmrag.index",
    "InvalidArgument": "mmrag.errors",
    "LoaderError": "mmrag.errors",
    "Match": "mmrag.stores.filters",
    "MmragError": "mmrag.errors",
    "Modality": "mmrag.types",
    "ModelMismatchError": "mmrag.errors",
    "Not": "mmrag.stores.filters",
    "Or": "mmrag.stores.filters",
    "Range": "mmrag.stores",
    "SearchMode": "mmrag.stores",
    "StoreError": "mmrag.errors",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mmrag' has no attribute {name!r}")
    value = getattr(_import_module(home), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    """The public names (loaded or not), the loaded submodules and the dunders."""
    present = {n for n, v in globals().items() if n.startswith("__") or isinstance(v, _ModuleType) and not n.startswith("_")}
    return sorted(present | set(__all__))
