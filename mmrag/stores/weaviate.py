"""Weaviate store (weaviate-client v4): the same contract as the Milvus store.

Schema: one object per chunk, uuid5 of the chunk id (so a re-write replaces it),
``content`` (context header + text) as the one BM25-searchable property, the
location fields as filterable properties, the full metadata as JSON plus each
scalar metadata key as a filterable ``meta_<key>`` property, and one
self-provided named vector per embedding space. A multi-vector space gets a
self-provided multi-vector named after the space (MaxSim, optionally MUVERA on
servers >= 1.31) and its pooled vector as ``<space>__pooled`` for dense/hybrid.

The schema, filter translation, object building and query arguments are pure
functions (unit-tested without a server); ``WeaviateStore`` only calls the
client with them. The embedding specs are recorded in the collection's
description (``mmrag:`` + JSON), the one free-form field Weaviate keeps.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mmrag.embedding.base import EmbedderSpec, batched
from mmrag.errors import FilterError, MissingDependencyError, StoreError
from mmrag.stores.base import (
    CollectionInfo,
    SearchRequest,
    SourceInfo,
    VectorStore,
    check_specs,
    source_tree,
)
from mmrag.stores.boundary import map_store_errors
from mmrag.stores.filters import FIELDS, And, Eq, Filters, In, Match, Not, Or, Range, to_filter
from mmrag.stores.filters import Filter as FilterNode
from mmrag.stores.late import check_write, dense_query, pool_tokens
from mmrag.stores.uris import parse_weaviate_uri
from mmrag.types import Chunk, Hit, ImageRef, Modality

if TYPE_CHECKING:
    from mmrag.asr.base import AsrSpec
    from mmrag.stores.weaviate_manifest import WeaviateManifest

try:
    import weaviate
    from weaviate.classes.config import (
        Configure,
        DataType,
        MultiVectorAggregation,
        Property,
        Tokenization,
        VectorDistances,
    )
    from weaviate.classes.query import Filter, HybridFusion, MetadataQuery
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    weaviate = None

NAMESPACE = uuid.UUID("6b0f7d52-3f0e-5d6b-9a57-6d6d72616701")  # fixed: the same chunk id gives the same uuid forever
DESCRIPTION_PREFIX = "mmrag:"
ASR_KEY = "mmrag.asr"  # beside the spaces in the description; no space name has a dot
FIELD_PROPS = {key: "chunk_id" if col == "id" else col for key, col in FIELDS.items()}  # Weaviate reserves ``id``
RETURN_PROPS = ["chunk_id", "doc_id", "source", "modality", "page", "slide", "t_start", "t_end", "text", "context",
                "image", "metadata"]
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
BATCH_OBJECTS = 200
PAGE = 1000
MUVERA_MIN_VERSION = (1, 31, 0)


def _require() -> None:
    if weaviate is None:
        raise MissingDependencyError("weaviate-client", "weaviate", "The Weaviate store")


# -- schema -----------------------------------------------------------------
def class_name(collection: str) -> str:
    """Weaviate collection names start with a capital letter."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,200}", collection):
        raise StoreError(f"invalid collection name {collection!r}: use letters, digits and _ (start with a letter)")
    return collection[0].upper() + collection[1:]


def pooled_name(space: str) -> str:
    return f"{space}__pooled"


def base_properties() -> list[Any]:
    """Chunk fields: exact-match (``FIELD``) strings for filters, ``content`` the only BM25 property."""

    def exact(name: str) -> Any:
        return Property(name=name, data_type=DataType.TEXT, tokenization=Tokenization.FIELD,
                        index_searchable=False, index_filterable=True)

    def stored(name: str) -> Any:
        return Property(name=name, data_type=DataType.TEXT, index_searchable=False, index_filterable=False)

    return [
        exact("chunk_id"), exact("doc_id"), exact("source"), exact("modality"),
        Property(name="page", data_type=DataType.INT),
        Property(name="slide", data_type=DataType.INT),
        Property(name="t_start", data_type=DataType.NUMBER),
        Property(name="t_end", data_type=DataType.NUMBER),
        stored("text"), stored("context"), stored("image"), stored("metadata"),
        Property(name="content", data_type=DataType.TEXT, tokenization=Tokenization.WORD,
                 index_searchable=True, index_filterable=False),
    ]


# mmrag's MUVERA option names (as MilvusStore's ``muvera=`` and MuveraParams spell them) ->
# Weaviate's; Weaviate has no final projection, seed or empty-partition switch.
WEAVIATE_MUVERA = {"simhash_bits": "ksim", "projection_dim": "dprojections", "repetitions": "repetitions"}


def muvera_encoding(muvera: bool | Mapping[str, Any]) -> Any:
    """Weaviate's MUVERA encoding for ``muvera`` (True: Weaviate's defaults; a mapping in
    MuveraParams' names), None for False; an option Weaviate lacks is refused by name."""
    if muvera is False:
        return None
    options = {} if muvera is True else dict(muvera)
    unknown = sorted(set(options) - set(WEAVIATE_MUVERA))
    if unknown:
        raise StoreError(f"Weaviate's MUVERA takes {', '.join(WEAVIATE_MUVERA)}; it has no {', '.join(unknown)}")
    return Configure.VectorIndex.MultiVector.Encoding.muvera(**{WEAVIATE_MUVERA[k]: v for k, v in options.items()})


def vector_config(spaces: Mapping[str, EmbedderSpec], *, muvera: bool | Mapping[str, Any] = False) -> list[Any]:
    """One self-provided named vector per pooled space (cosine HNSW); a multi-vector
    space gets a MaxSim multi-vector (dot product: MaxSim sums best inner products)
    plus its pooled vector."""
    out = []
    for space, spec in spaces.items():
        if spec.multivector:
            out.append(Configure.MultiVectors.self_provided(
                name=space,
                encoding=muvera_encoding(muvera),
                multi_vector_config=Configure.VectorIndex.MultiVector.multi_vector(
                    aggregation=MultiVectorAggregation.MAX_SIM),
                vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.DOT),
            ))
            out.append(Configure.Vectors.self_provided(
                name=pooled_name(space),
                vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE),
            ))
        else:
            out.append(Configure.Vectors.self_provided(
                name=space, vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE)))
    return out


def collection_config(
    collection: str, spaces: Mapping[str, EmbedderSpec], *, muvera: bool | Mapping[str, Any] = False
) -> dict[str, Any]:
    """Keyword arguments for ``client.collections.create``."""
    for space in spaces:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", space) or "__" in space:
            raise StoreError(f"invalid space name {space!r}: use letters, digits and single _")
    return {
        "name": class_name(collection),
        "description": DESCRIPTION_PREFIX + json.dumps({s: spec.to_json() for s, spec in spaces.items()}),
        "properties": base_properties(),
        "vector_config": vector_config(spaces, muvera=muvera),
        "inverted_index_config": Configure.inverted_index(index_null_state=True),
    }


def specs_from_description(name: str, description: str | None) -> dict[str, EmbedderSpec]:
    if not description or not description.startswith(DESCRIPTION_PREFIX):
        raise StoreError(f"collection '{name}' was not made by mmrag (its description holds no specs)")
    raw = json.loads(description[len(DESCRIPTION_PREFIX):])
    # Keys with a dot are mmrag's own (the ASR model, the manifest token): no space name has one.
    return {space: EmbedderSpec.from_json(spec) for space, spec in raw.items() if "." not in space}


def asr_from_description(description: str | None) -> AsrSpec | None:
    """The ASR model recorded beside the specs (a key no space name can take)."""
    from mmrag.asr.base import AsrSpec

    if not description or not description.startswith(DESCRIPTION_PREFIX):
        return None
    raw = json.loads(description[len(DESCRIPTION_PREFIX):]).get(ASR_KEY)
    return AsrSpec.from_json(raw) if raw else None


def description_with_asr(description: str, spec: AsrSpec | None) -> str:
    raw = json.loads(description[len(DESCRIPTION_PREFIX):])
    raw.pop(ASR_KEY, None)
    if spec is not None:
        raw[ASR_KEY] = spec.to_json()
    return DESCRIPTION_PREFIX + json.dumps(raw)


def meta_property(key: str) -> str:
    return f"meta_{key}"


def meta_types(chunks: Sequence[Chunk]) -> dict[str, Any]:
    """The filterable property type of each scalar metadata key in ``chunks``
    (nested values stay only in the ``metadata`` JSON); mixed types are refused."""
    types: dict[str, Any] = {}
    for chunk in chunks:
        for key, value in chunk.metadata.items():
            kind = _meta_type(value)
            if kind is None or not _KEY.match(key):
                continue
            have = types.setdefault(key, kind)
            if have != kind:
                if {have, kind} == {DataType.INT, DataType.NUMBER}:
                    types[key] = DataType.NUMBER
                else:
                    raise StoreError(f"metadata '{key}' mixes {have.value} and {kind.value} values in {chunk.source}")
    return types


def _meta_type(value: Any) -> Any:
    if isinstance(value, bool):
        return DataType.BOOL
    if isinstance(value, int):
        return DataType.INT
    if isinstance(value, float):
        return DataType.NUMBER
    if isinstance(value, str):
        return DataType.TEXT
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return DataType.TEXT_ARRAY
    return None


def meta_property_def(key: str, kind: Any) -> Any:
    tokenization = Tokenization.FIELD if kind in (DataType.TEXT, DataType.TEXT_ARRAY) else None
    return Property(name=meta_property(key), data_type=kind, tokenization=tokenization, index_searchable=False)


# -- objects ----------------------------------------------------------------
def object_uuid(chunk_id: str) -> uuid.UUID:
    """Deterministic: the same chunk id is the same object, so a re-write replaces it."""
    return uuid.uuid5(NAMESPACE, chunk_id)


def chunk_properties(chunk: Chunk) -> dict[str, Any]:
    props: dict[str, Any] = {
        "chunk_id": chunk.id,
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "modality": chunk.modality.value,
        "page": chunk.page,
        "slide": chunk.slide,
        "t_start": chunk.start,
        "t_end": chunk.end,
        "text": chunk.text,
        "context": chunk.context,
        "content": chunk.embed_text,
        "image": json.dumps(chunk.image.to_dict()) if chunk.image else None,
        "metadata": json.dumps(dict(chunk.metadata), sort_keys=True),
    }
    for key, value in chunk.metadata.items():
        if _meta_type(value) is not None and _KEY.match(key):
            props[meta_property(key)] = list(value) if isinstance(value, tuple) else value
    return {k: v for k, v in props.items() if v is not None}


def properties_to_chunk(props: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=props["chunk_id"],
        doc_id=props["doc_id"],
        source=props["source"],
        modality=Modality(props["modality"]),
        text=props.get("text") or "",
        context=props.get("context") or "",
        image=ImageRef.from_dict(json.loads(props["image"])) if props.get("image") else None,
        page=None if props.get("page") is None else int(props["page"]),
        slide=None if props.get("slide") is None else int(props["slide"]),
        start=props.get("t_start"),
        end=props.get("t_end"),
        metadata=json.loads(props["metadata"]) if props.get("metadata") else {},
    )


def object_vectors(spaces: Mapping[str, EmbedderSpec], vectors: Mapping[str, Any], i: int) -> dict[str, Any]:
    """The named vectors of chunk ``i``: pooled spaces as lists, multi-vector spaces as a
    list of token vectors plus their pooled vector."""
    out: dict[str, Any] = {}
    for space, spec in spaces.items():
        value = vectors[space][i]
        if spec.multivector:
            tokens = np.asarray(value, dtype=np.float32)
            out[space] = tokens.tolist()
            out[pooled_name(space)] = pool_tokens(tokens).tolist()
        else:
            out[space] = np.asarray(value, dtype=np.float32).tolist()
    return out


# -- filters and queries ----------------------------------------------------
FIELD_TYPES = {"page": "int", "slide": "int", "t_start": "number", "t_end": "number"}


def _typed(value: Any, kind: str | None, key: str) -> Any:
    """A filter value in its property's type: Weaviate will not compare an int value with a number property."""
    if isinstance(value, bool) or kind not in ("int", "number") or not isinstance(value, (int, float)):
        return value
    if kind == "number":
        return float(value)
    if float(value) != int(value):
        raise FilterError(f"filter '{key}': {value} is not a whole number")
    return int(value)


def to_weaviate_filter(filters: Filters | None, meta_kinds: Mapping[str, str] | None = None) -> Any:
    """Our filters as a Weaviate ``Filter`` (``None`` for no filter). Values go into
    typed filter objects, never into a query string, so they cannot inject.
    ``Not`` is Weaviate's own NOT, an exact complement (rows without the property
    are kept, as in every store). ``meta_kinds`` maps ``meta_<key>`` properties to
    their Weaviate data type name."""
    f = to_filter(filters)
    return None if f is None else _weaviate_filter(f, {**FIELD_TYPES, **(meta_kinds or {})})


def _weaviate_filter(f: FilterNode, kinds: Mapping[str, str]) -> Any:
    parts = _conjuncts(f, kinds)
    return parts[0] if len(parts) == 1 else Filter.all_of(parts)


def _conjuncts(f: FilterNode, kinds: Mapping[str, str]) -> list[Any]:
    """``f`` as Weaviate filters that must all hold (nested ANDs and ranges flattened)."""
    if isinstance(f, And):
        return [p for g in f.filters for p in _conjuncts(g, kinds)]
    if isinstance(f, Not):
        return [Filter.not_(_weaviate_filter(f.filter, kinds))]
    if isinstance(f, Or):
        return [Filter.any_of([_weaviate_filter(g, kinds) for g in f.filters])]
    return _leaf_filters(f, kinds)


def _leaf_filters(f: FilterNode, kinds: Mapping[str, str]) -> list[Any]:
    assert isinstance(f, (Eq, In, Range, Match)) and f.key is not None
    name = FIELD_PROPS.get(f.key, meta_property(f.key))
    prop, kind = Filter.by_property(name), kinds.get(name)
    if isinstance(f, Match):
        if "*" in f.text or "?" in f.text:  # Weaviate's like has wildcards and no escape
            raise FilterError(f"filter '{f.key}': on Weaviate a text match cannot hold * or ?")
        return [prop.like(f"*{f.text}*")]
    if isinstance(f, Eq):
        return [prop.is_none(True) if f.value is None else prop.equal(_typed(f.value, kind, f.key))]
    if isinstance(f, In):
        return [prop.contains_any([_typed(v, kind, f.key) for v in f.values])]
    ops = [(f.gt, prop.greater_than), (f.gte, prop.greater_or_equal), (f.lt, prop.less_than), (f.lte, prop.less_or_equal)]
    return [op(_typed(bound, kind, f.key)) for bound, op in ops if bound is not None]


def query_vectors(request: SearchRequest, spaces: Mapping[str, EmbedderSpec]) -> dict[str, list[float]]:
    """The named vectors a dense/hybrid query targets: the spaces the query has a
    vector in (a text query brings every space, an image query only image spaces),
    multi-vector queries pooled onto ``<space>__pooled``."""
    out = {}
    for space, vec in request.vectors.items():
        if space not in spaces:
            raise StoreError(f"the collection has no '{space}' space (it has: {', '.join(spaces)})")
        name = pooled_name(space) if spaces[space].multivector else space
        out[name] = dense_query(space, spaces[space], vec).tolist()
    return out


def hybrid_args(
    request: SearchRequest, spaces: Mapping[str, EmbedderSpec], meta_kinds: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``collection.query.hybrid`` as RRF (Weaviate's ranked
    fusion, both sides weighted equally as in Milvus). Weighted and adaptive fusion
    run in ``VectorStore.search`` over both candidate lists, the same in every store."""
    vectors = query_vectors(request, spaces)
    single = len(vectors) == 1
    return {
        "query": request.text,
        "alpha": 0.5,
        "vector": next(iter(vectors.values())) if single else vectors,
        "target_vector": next(iter(vectors)) if single else sorted(vectors),
        "fusion_type": HybridFusion.RANKED,
        "query_properties": ["content"],
        "limit": request.k,
        "filters": to_weaviate_filter(request.filters, meta_kinds),
        "return_metadata": MetadataQuery(score=True),
        "return_properties": RETURN_PROPS,
    }


def near_vector_args(
    request: SearchRequest, spaces: Mapping[str, EmbedderSpec], meta_kinds: Mapping[str, str] | None = None
) -> dict[str, Any]:
    vectors = query_vectors(request, spaces)
    single = len(vectors) == 1
    return {
        "near_vector": next(iter(vectors.values())) if single else vectors,
        "target_vector": next(iter(vectors)) if single else sorted(vectors),
        "limit": request.k,
        "filters": to_weaviate_filter(request.filters, meta_kinds),
        "return_metadata": MetadataQuery(distance=True),
        "return_properties": RETURN_PROPS,
    }


def late_args(
    request: SearchRequest, spaces: Mapping[str, EmbedderSpec], meta_kinds: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A MaxSim ``near_vector`` on the multi-vector space(s) of the query."""
    multi = {s: v for s, v in request.vectors.items() if spaces.get(s) and spaces[s].multivector}
    if len(multi) != 1:
        raise StoreError(f"late search on Weaviate needs a query in exactly one multi-vector space, got {sorted(multi)}")
    (space, tokens), = multi.items()
    tokens = np.asarray(tokens, dtype=np.float32)
    if tokens.ndim != 2 or tokens.shape[1] != spaces[space].dim:
        raise StoreError(f"late query for '{space}' must be (n_tokens, {spaces[space].dim}), got {tokens.shape}")
    return {
        "near_vector": tokens.tolist(),
        "target_vector": space,
        "limit": request.k,
        "filters": to_weaviate_filter(request.filters, meta_kinds),
        "return_metadata": MetadataQuery(distance=True),
        "return_properties": RETURN_PROPS,
    }


def batch_errors(errors: Mapping[int, Any], ids: Sequence[str]) -> list[str]:
    """``"chunk <id>: <reason>"`` for each failed object of one ``insert_many``."""
    return [f"chunk {ids[i]}: {err.message}" for i, err in sorted(errors.items())]


def server_version(meta: Mapping[str, Any]) -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", str(meta.get("version", "")))
    if not m:
        raise StoreError(f"cannot read the Weaviate server version from {meta.get('version')!r}")
    return int(m[1]), int(m[2]), int(m[3])


# -- the store --------------------------------------------------------------
@map_store_errors(*([weaviate.exceptions.WeaviateBaseError] if weaviate else []))
class WeaviateStore(VectorStore):
    """Chunks in a Weaviate collection, searched by dense, BM25, hybrid or late interaction.

    Example::

        store = WeaviateStore.from_uri("weaviate://localhost:8080", "docs")   # gRPC on 50051
        store = WeaviateStore.from_uri("https://abc.weaviate.cloud", "docs", api_key="...")
        store = WeaviateStore.embedded("docs", binary_path="/opt/weaviate")   # no download
        store.ensure_collection({"text": embedder.spec()})
        hits = store.search(SearchRequest("query", {"text": qvec}, k=5, alpha=0.0))  # pure BM25

    ``muvera=True`` encodes multi-vectors with MUVERA (servers >= 1.31): a faster,
    approximate first stage, rescored by exact MaxSim on the server; a mapping
    (``{"repetitions": 20, "simhash_bits": 5, "projection_dim": 16}``) sets it in the
    names MilvusStore's ``muvera=`` uses. Off by default here, as in Weaviate.
    """

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

    # -- writes -------------------------------------------------------------
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

    def chunk_ids(self, doc_id: str) -> set[str]:
        if not self.spaces():
            return set()
        objs = self._fetch(Filter.by_property("doc_id").equal(doc_id), ["chunk_id"])
        return {o.properties["chunk_id"] for o in objs}

    def write_source(
        self, doc_id: str, chunks: Sequence[Chunk], vectors: Mapping[str, Any], keep: set[str]
    ) -> None:
        from weaviate.classes.data import DataObject

        stored = self.spaces()
        check_write(self.collection, stored, vectors, len(chunks))
        if any(c.doc_id != doc_id for c in chunks):
            raise StoreError(f"write_source({doc_id!r}) got chunks of another source")
        self._ensure_meta(chunks)
        before = self.chunk_ids(doc_id)
        snapshot = self._snapshot([c.id for c in chunks if c.id in before])
        written: list[str] = []
        try:
            for part in batched(range(len(chunks)), BATCH_OBJECTS):
                objs = [DataObject(properties=chunk_properties(chunks[i]), uuid=object_uuid(chunks[i].id),
                                   vector=object_vectors(stored, vectors, i)) for i in part]
                result = self._handle().data.insert_many(objs)
                ok = [chunks[i].id for n, i in enumerate(part) if n not in result.errors]
                written.extend(ok)
                if result.errors:
                    reasons = batch_errors(result.errors, [chunks[i].id for i in part])
                    raise StoreError(f"{len(reasons)} object(s) failed: " + "; ".join(reasons[:5]))
        except Exception as exc:
            self._rollback(before, written, snapshot)
            where = chunks[0].source if chunks else doc_id
            raise StoreError(f"writing {len(chunks)} chunks of {where} failed, nothing changed: {exc}") from exc
        self.delete(sorted(before - keep - set(written)))

    def _snapshot(self, ids: Sequence[str]) -> list[Any]:
        out = []
        for part in batched(list(ids), PAGE):
            res = self._handle().query.fetch_objects_by_ids(
                [object_uuid(i) for i in part], limit=len(part), include_vector=True)
            out.extend(res.objects)
        return out

    def _rollback(self, before: set[str], written: list[str], snapshot: list[Any]) -> None:
        from weaviate.classes.data import DataObject

        self.delete([i for i in written if i not in before])
        for part in batched(snapshot, BATCH_OBJECTS):
            self._handle().data.insert_many(
                [DataObject(properties=o.properties, uuid=o.uuid, vector=o.vector) for o in part])

    def delete(self, ids: Sequence[str]) -> int:
        if not ids or not self.spaces():
            return 0
        removed = 0
        for part in batched(list(dict.fromkeys(ids)), PAGE):
            res = self._handle().data.delete_many(where=Filter.by_id().contains_any([object_uuid(i) for i in part]))
            removed += res.successful
        return removed

    def delete_source(self, doc_id: str) -> int:
        if not self.spaces():
            return 0
        removed = 0
        while True:  # one delete_many removes at most the server's QUERY_MAXIMUM_RESULTS objects
            done = self._handle().data.delete_many(where=Filter.by_property("doc_id").equal(doc_id)).successful
            removed += done
            if not done:
                return removed

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids or not self.spaces():
            return []
        found: dict[str, Chunk] = {}
        for part in batched(list(dict.fromkeys(ids)), PAGE):
            res = self._handle().query.fetch_objects_by_ids(
                [object_uuid(i) for i in part], limit=len(part), return_properties=RETURN_PROPS)
            found.update({o.properties["chunk_id"]: properties_to_chunk(o.properties) for o in res.objects})
        return [found[i] for i in ids if i in found]

    def vectors(self, ids: Sequence[str], space: str) -> dict[str, np.ndarray]:
        stored = self.spaces()
        if space not in stored:
            raise StoreError(f"collection '{self.collection}' has no '{space}' space (it has: {', '.join(stored) or 'none'})")
        name = pooled_name(space) if stored[space].multivector else space
        out: dict[str, np.ndarray] = {}
        for part in batched(list(dict.fromkeys(ids)), PAGE):
            res = self._handle().query.fetch_objects_by_ids(
                [object_uuid(i) for i in part], limit=len(part), include_vector=[name], return_properties=["chunk_id"])
            out.update({o.properties["chunk_id"]: np.asarray(o.vector[name], dtype=np.float32) for o in res.objects})
        return out

    def _select(self, where: FilterNode, limit: int | None) -> list[Chunk]:
        objs = self._fetch(to_weaviate_filter(where, self._meta), RETURN_PROPS)  # bounded: see _fetch
        return [properties_to_chunk(o.properties) for o in objs[:limit]]

    # -- reads --------------------------------------------------------------
    # -- the primitives under VectorStore.search ---------------------------------
    def dense_hits(self, request: SearchRequest, limit: int) -> list[Hit]:
        return self._dense(request, self.spaces(), limit)

    def bm25_hits(self, request: SearchRequest, limit: int) -> list[Hit]:
        return self._bm25(request, limit)

    def rrf_hits(self, request: SearchRequest) -> list[Hit]:
        res = self._handle().query.hybrid(**hybrid_args(request, self.spaces(), self._meta))
        return [_hit(o, "rrf", o.metadata.score) for o in res.objects]

    def late_hits(self, request: SearchRequest) -> list[Hit]:
        res = self._handle().query.near_vector(**late_args(request, self.spaces(), self._meta))
        return [_hit(o, "maxsim", -o.metadata.distance) for o in res.objects]

    def _bm25(self, request: SearchRequest, limit: int) -> list[Hit]:
        if not request.text.strip():
            return []
        res = self._handle().query.bm25(
            request.text, query_properties=["content"], limit=limit,
            filters=to_weaviate_filter(request.filters, self._meta), return_metadata=MetadataQuery(score=True),
            return_properties=RETURN_PROPS,
        )
        return [_hit(o, "bm25", o.metadata.score) for o in res.objects]

    def _dense(self, request: SearchRequest, stored: Mapping[str, EmbedderSpec], limit: int) -> list[Hit]:
        args = near_vector_args(replace(request, k=limit), stored, self._meta)
        res = self._handle().query.near_vector(**args)
        return [_hit(o, "dense", 1.0 - o.metadata.distance) for o in res.objects]

    def sources(self) -> list[SourceInfo]:
        if not self.spaces():
            return []
        counts: Counter[tuple[str, str]] = Counter()
        for obj in self._handle().iterator(return_properties=["doc_id", "source"]):  # a cursor: no result cap
            counts[obj.properties["doc_id"], obj.properties["source"]] += 1
        return source_tree(counts)

    def info(self) -> list[CollectionInfo]:
        out = []
        for name, config in sorted(self.client.collections.list_all(simple=True).items()):
            try:
                spaces = specs_from_description(name, config.description)
            except StoreError:
                continue
            total = self.client.collections.get(name).aggregate.over_all(total_count=True).total_count
            out.append(CollectionInfo(name, int(total or 0), spaces))
        return out

    def manifest(self) -> WeaviateManifest:
        from mmrag.stores.weaviate_manifest import WeaviateManifest

        return WeaviateManifest(self.client, self.name)

    def close(self) -> None:
        self.client.close()


def _hit(obj: Any, key: str, score: float | None) -> Hit:
    value = float(score or 0.0)
    return Hit(properties_to_chunk(obj.properties), value, {key: value})
