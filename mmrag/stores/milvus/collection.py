"""A Milvus connection and the collection it serves: opening, creating and
reading back what the collection records (its spaces and late layout)."""

from __future__ import annotations

import re
from contextlib import nullcontext
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import MissingDependencyError, ModelMismatchError, StoreError
from mmrag.stores.base import check_specs
from mmrag.embedding.muvera import Muvera
from mmrag.stores.milvus.late import late_layout, muvera_params, read_muvera
from mmrag.stores.milvus.lite import check_path, opening
from mmrag.stores.milvus.sidecar import TokenSidecar
from mmrag.stores.milvus.rows import BATCH_BYTES, QUERY_PAGE, token_collection
from mmrag.stores.milvus.schema import (
    ASR_PROPERTY,
    LAYOUT_PROPERTY,
    MUVERA_PROPERTY,
    TOKENS_PER_ROW_PROPERTY,
    create_collection,
    owner_token,
    parse_uri,
    read_spaces,
)

if TYPE_CHECKING:
    from mmrag.asr.base import AsrSpec

try:
    import pymilvus
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pymilvus = None

RETRIES = 2  # extra attempts for a batch that failed on the server side
# Token vectors per companion row on Milvus Lite, which returns rows one by one: a
# top-100 rerank of 256-token pages took 14.3 s at 1 per row and 1.6 s at 32
# (benchmarks/results/query_latency.json). Servers keep 1 (ANN over single tokens).
LITE_TOKENS_PER_ROW = 32
TOKEN_STORES = ("sidecar", "rows")  # where a companion-layout collection keeps its token vectors


class MilvusCollection:
    """The state the writer and the queries share: the client, the collection's spaces and its late layout.

    ``muvera`` (companion layout, i.e. Milvus Lite and servers < 2.6.4): ``True``
    gives every multi-vector space a MUVERA encoding field (``late.DEFAULT_MUVERA``)
    that late search's first stage searches; a mapping of MuveraParams fields
    (``{"final_dim": 4096}``) chooses them, and is refused on a collection that
    records other ones; ``False`` keeps the mean-pooled first stage. It applies
    when the collection is made: an existing one keeps what it records.

    ``token_store`` (Milvus Lite only; made collections record it): ``"sidecar"``,
    the default on Lite, keeps token vectors as float16 in a SQLite file inside the
    store folder (``sidecar.TokenSidecar``), which a top-100 rerank reads in
    milliseconds; ``"rows"`` keeps them as token rows in a companion collection
    (``tokens_per_row`` per row), as a server does and as Lite stores made before
    the sidecar do.
    """

    def __init__(
        self,
        uri: str = "mmrag.db",
        collection: str = "mmrag",
        *,
        token: str | None = None,
        retries: int = RETRIES,
        batch_bytes: int = BATCH_BYTES,
        tokens_per_row: int | None = None,
        muvera: bool | Mapping[str, Any] = True,
        token_store: str | None = None,
        create: bool = True,
    ) -> None:
        if pymilvus is None:
            raise MissingDependencyError("pymilvus", "milvus", "The Milvus store")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", collection):
            raise StoreError(f"invalid collection name {collection!r}: use letters, digits and _ (start with a letter)")
        self.uri, self.is_lite = parse_uri(uri)
        if self.is_lite:
            self.local_path = Path(self.uri).expanduser().resolve()
            check_path(self.local_path, create=create)  # before pymilvus creates anything there
            self.local_path.parent.mkdir(parents=True, exist_ok=True)
        self.collection = collection
        if token_store is None:
            token_store = "sidecar" if self.is_lite else "rows"
        if token_store not in TOKEN_STORES:
            raise StoreError(f"unknown token_store {token_store!r}: use one of {', '.join(TOKEN_STORES)}")
        if token_store == "sidecar" and not self.is_lite:
            raise StoreError("token_store='sidecar' is a file inside a Milvus Lite store folder; "
                             "a Milvus server keeps token rows (or its native MAX_SIM field): leave token_store unset")
        if token_store == "sidecar" and tokens_per_row is not None:
            raise StoreError("tokens_per_row packs token rows: it needs token_store='rows'")
        self.token_store = token_store
        self.retries = retries
        self.batch_bytes = batch_bytes
        if tokens_per_row is None:
            tokens_per_row = LITE_TOKENS_PER_ROW if self.is_lite else 1
        if not 1 <= tokens_per_row <= 256:
            raise StoreError(f"tokens_per_row must be in 1..256, got {tokens_per_row}")
        self.tokens_per_row = tokens_per_row
        if not isinstance(muvera, (bool, Mapping)):
            raise StoreError(f"muvera is True, False or a mapping of MUVERA params, got {muvera!r}")
        self.muvera_option = muvera
        self._fde: dict[str, Muvera] = {}  # the collection's encoders by space (recorded, never taken from the caller)
        # Milvus Lite serves gRPC in-process with gRPC's default ping policy, which
        # answers pymilvus' idle keepalive pings (every 10 s) with GOAWAY
        # "too_many_pings"; a client idle for a while (e.g. while a pipeline loads
        # models) then fails to reconnect. A local server needs no keepalive.
        options = {"grpc.keepalive_permit_without_calls": 0, "grpc.keepalive_time_ms": 3_600_000} if self.is_lite else {}
        with opening(self.local_path) if self.is_lite else nullcontext():
            self.client = pymilvus.MilvusClient(uri=self.uri, token=token or "", grpc_options=options)
        self._spaces: dict[str, EmbedderSpec] | None = None
        self._layout = "companion"
        self._sidecar: TokenSidecar | None = None

    # -- collection ---------------------------------------------------------
    def spaces(self) -> dict[str, EmbedderSpec]:
        if self._spaces is None:
            if not self.client.has_collection(self.collection):
                return {}
            spaces = read_spaces(self.client, self.collection)
            described = self.client.describe_collection(self.collection)
            props = described.get("properties", {})
            dims = {f["name"]: int(f.get("params", {}).get("dim", 0)) for f in described.get("fields", [])}
            # A collection made before MUVERA has none recorded: its late search keeps the pooled first stage.
            fde = read_muvera(self.collection, props.get(MUVERA_PROPERTY), spaces, dims)
            layout = props.get(LAYOUT_PROPERTY, "companion")
            if layout != "native":
                self._check_muvera(spaces, fde)
            self._spaces, self._fde, self._layout = spaces, fde, layout
            self.tokens_per_row = int(props.get(TOKENS_PER_ROW_PROPERTY, 1))
            self._open_sidecar()
            for name in [self.collection, *self._token_collections()]:
                self.client.load_collection(name)
        return dict(self._spaces)

    def _multi(self) -> list[str]:
        return [s for s, spec in (self._spaces or {}).items() if spec.multivector]

    def _token_collections(self) -> list[str]:
        if self._layout != "companion":
            return []
        return [token_collection(self.collection, s) for s in self._multi()]

    def supports_native_late(self) -> bool:
        """True on a Milvus server >= 2.6.4 with a pymilvus that can declare arrays of structs;
        read from the server's reported version, never assumed."""
        if self.is_lite:
            return False
        struct = hasattr(pymilvus.DataType, "STRUCT")
        return late_layout(True, False, str(self.client.get_server_version()), struct) == "native"

    def ensure_collection(self, spaces: Mapping[str, EmbedderSpec]) -> None:
        stored = self.spaces()
        if stored:
            check_specs(self.collection, stored, spaces)
            return
        for space in spaces:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", space):
                raise StoreError(f"invalid space name {space!r}: use letters, digits and _")
        multi = any(spec.multivector for spec in spaces.values())
        if multi and self.supports_native_late():
            self._layout = "native"
        else:
            self._layout = "sidecar" if multi and self.token_store == "sidecar" else "companion"
        muvera = {}
        if self._layout != "native" and self.muvera_option is not False:
            options = {} if self.muvera_option is True else self.muvera_option
            muvera = {s: muvera_params(s, spec, options) for s, spec in spaces.items() if spec.multivector}
        create_collection(self.client, self.collection, spaces, self._layout, self.tokens_per_row, lite=self.is_lite,
                          muvera=muvera)
        self._fde = {s: Muvera(p) for s, p in muvera.items()}
        self._spaces = dict(spaces)
        for name in [self.collection, *self._token_collections()]:
            self.client.load_collection(name)
        self._open_sidecar()

    def _open_sidecar(self) -> None:
        """The token file of a sidecar-layout collection, tied to the collection's token."""
        if self._layout == "sidecar" and self._sidecar is None:
            if not self.is_lite:
                raise StoreError(f"collection '{self.collection}' keeps its token vectors in a Milvus Lite store's "
                                 "sidecar file, which a server cannot reach: ingest it into the server again")
            owner = owner_token(self.client, self.collection, create=True)
            self._sidecar = TokenSidecar(self.local_path, self.collection, owner)

    def _check_muvera(self, spaces: Mapping[str, EmbedderSpec], fde: Mapping[str, Muvera]) -> None:
        """Refuse MUVERA options that differ from what the collection's documents were encoded with."""
        if not isinstance(self.muvera_option, Mapping):
            return
        for space, spec in spaces.items():
            if spec.multivector:
                wanted = muvera_params(space, spec, self.muvera_option)
                enc = fde.get(space)
                if enc is None:
                    raise ModelMismatchError(
                        f"collection '{self.collection}' was made without a MUVERA encoding for '{space}'; open it "
                        "without muvera= (its late search uses the pooled first stage) or ingest into a new collection"
                    )
                if wanted != enc.params:
                    raise ModelMismatchError(
                        f"collection '{self.collection}' encodes '{space}' with MUVERA {enc.params.to_json()}, "
                        f"but this store asks for {wanted.to_json()}; open it without muvera= or ingest into a new collection"
                    )

    def asr_model(self) -> AsrSpec | None:
        from mmrag.asr.base import AsrSpec

        if not self.client.has_collection(self.collection):
            return None
        raw = self.client.describe_collection(self.collection).get("properties", {}).get(ASR_PROPERTY)
        return AsrSpec.from_json(raw) if raw else None

    def record_asr_model(self, spec: AsrSpec | None) -> None:
        if spec is not None:
            self.client.alter_collection_properties(self.collection, properties={ASR_PROPERTY: spec.to_json()})
        elif self.asr_model() is not None:
            self.client.drop_collection_properties(self.collection, property_keys=[ASR_PROPERTY])

    def _query_all(self, collection: str, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        rows = self.client.query(collection, filter=expr, output_fields=fields, limit=QUERY_PAGE)
        if len(rows) < QUERY_PAGE:
            return rows
        # More rows than one query window: page through them with an iterator.
        iterator = self.client.query_iterator(collection, batch_size=QUERY_PAGE, filter=expr, output_fields=fields)
        rows = []
        try:
            while page := iterator.next():
                rows.extend(page)
        finally:
            iterator.close()
        return rows


    def flush(self) -> None:
        # Every insert call leaves a small growing segment that each search scans
        # one by one (on Lite 1,500 rows in 15 writes searched ~5x slower than
        # after this); sealing and compacting turns them into a few indexed ones.
        if not self.spaces():
            return
        for name in [self.collection, *self._token_collections()]:
            self.client.flush(name)
            self.client.compact(name)
        if self._sidecar is not None:
            self._sidecar.checkpoint()

    def close(self) -> None:
        if self._sidecar is not None:
            self._sidecar.close()
            self._sidecar = None
        self.client.close()
