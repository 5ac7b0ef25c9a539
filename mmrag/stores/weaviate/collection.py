"""A Weaviate connection and the collection it serves: connecting, creating the
collection, reading back its spaces and ASR model, and paged fetches."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import MissingDependencyError, StoreError
from mmrag.stores.base import check_specs
from mmrag.stores.uris import parse_weaviate_uri
from mmrag.stores.weaviate.objects import meta_property, meta_property_def, meta_types
from mmrag.stores.weaviate.schema import (
    MUVERA_MIN_VERSION,
    asr_from_description,
    class_name,
    collection_config,
    description_with_asr,
    server_version,
    specs_from_description,
)
from mmrag.types import Chunk

if TYPE_CHECKING:
    from mmrag.asr.base import AsrSpec
    from mmrag.stores.weaviate.store import WeaviateStore

try:
    import weaviate
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    weaviate = None

PAGE = 1000


def _require() -> None:
    if weaviate is None:
        raise MissingDependencyError("weaviate-client", "weaviate", "The Weaviate store")


class WeaviateCollection:
    """The client and one collection's recorded spaces and ``meta_<key>`` properties."""

    def __init__(self, client: Any, collection: str = "mmrag", *, muvera: bool | Mapping[str, Any] = False) -> None:
        _require()
        self.client = client
        self.collection = collection
        self.name = class_name(collection)
        self.muvera = muvera
        self._spaces: dict[str, EmbedderSpec] | None = None
        self._meta: dict[str, str] | None = None  # meta_<key> property -> Weaviate data type

    @classmethod
    def from_uri(cls, uri: str, collection: str = "mmrag", *, api_key: str | None = None, **kw: Any) -> WeaviateStore:
        """Connect by URI; ``api_key`` defaults to the ``WEAVIATE_API_KEY`` environment variable."""
        _require()
        name, kwargs = parse_weaviate_uri(uri).connect_kwargs(api_key or os.environ.get("WEAVIATE_API_KEY"))
        try:
            client = getattr(weaviate, name)(**kwargs)
        except Exception as exc:
            raise StoreError(f"cannot connect to Weaviate at {uri}: {exc}") from exc
        return cls(client, collection, **kw)

    @classmethod
    def embedded(
        cls, collection: str = "mmrag", *, binary_path: str, persistence_path: str | None = None, **kw: Any
    ) -> WeaviateStore:
        """Embedded Weaviate run from the server binary in ``binary_path``. Without a binary
        there the client downloads one from GitHub; we require the path so that never happens silently."""
        _require()
        kwargs: dict[str, Any] = {"binary_path": binary_path}
        if persistence_path:
            kwargs["persistence_data_path"] = persistence_path
        return cls(weaviate.connect_to_embedded(**kwargs), collection, **kw)

    # -- collection ---------------------------------------------------------
    def _handle(self) -> Any:
        return self.client.collections.get(self.name)

    def spaces(self) -> dict[str, EmbedderSpec]:
        if self._spaces is None:
            if not self.client.collections.exists(self.name):
                return {}
            config = self._handle().config.get()
            self._spaces = specs_from_description(self.name, config.description)
            self._meta = {p.name: p.data_type.value for p in config.properties if p.name.startswith("meta_")}
        return dict(self._spaces)

    def asr_model(self) -> AsrSpec | None:
        if not self.client.collections.exists(self.name):
            return None
        return asr_from_description(self._handle().config.get().description)

    def record_asr_model(self, spec: AsrSpec | None) -> None:
        description = self._handle().config.get().description
        self._handle().config.update(description=description_with_asr(description, spec))

    def ensure_collection(self, spaces: Mapping[str, EmbedderSpec]) -> None:
        stored = self.spaces()
        if stored:
            check_specs(self.collection, stored, spaces)
            return
        multi = any(s.multivector for s in spaces.values())
        version = server_version(self.client.get_meta())
        if multi and version < (1, 29, 0):
            raise StoreError(f"multi-vector spaces need Weaviate >= 1.29; this server is {'.'.join(map(str, version))}")
        if self.muvera is not False and version < MUVERA_MIN_VERSION:
            raise StoreError(f"MUVERA needs Weaviate >= 1.31; this server is {'.'.join(map(str, version))}")
        self.client.collections.create(**collection_config(self.collection, spaces, muvera=self.muvera if multi else False))
        self._spaces = dict(spaces)
        self._meta = {}

    def _ensure_meta(self, chunks: Sequence[Chunk]) -> None:
        for key, kind in meta_types(chunks).items():
            if self._meta is not None and meta_property(key) not in self._meta:
                self._handle().config.add_property(meta_property_def(key, kind))
                self._meta[meta_property(key)] = kind.value

    def _fetch(self, filters: Any, props: list[str]) -> list[Any]:
        """Every object matching ``filters`` (paged; the server caps offset + limit at
        QUERY_MAXIMUM_RESULTS, 10,000 by default: far above one source's chunks)."""
        out, offset = [], 0
        while True:
            res = self._handle().query.fetch_objects(filters=filters, limit=PAGE, offset=offset, return_properties=props)
            out.extend(res.objects)
            if len(res.objects) < PAGE:
                return out
            offset += PAGE

    def close(self) -> None:
        self.client.close()
