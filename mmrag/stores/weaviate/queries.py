"""Reads from a Weaviate collection: the pure query arguments (dense, RRF hybrid,
MaxSim late) and the searches and look-ups that send them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from mmrag.embedding.base import EmbedderSpec, batched
from mmrag.errors import StoreError
from mmrag.stores.base import CollectionInfo, SearchRequest, SourceInfo, source_tree
from mmrag.stores.filters import Filter as FilterNode
from mmrag.stores.late import dense_query
from mmrag.stores.weaviate.collection import PAGE, WeaviateCollection
from mmrag.stores.weaviate.filters import to_weaviate_filter
from mmrag.stores.weaviate.objects import RETURN_PROPS, hit, object_uuid, properties_to_chunk
from mmrag.stores.weaviate.schema import pooled_name, specs_from_description
from mmrag.types import Chunk, Hit

try:
    from weaviate.classes.query import HybridFusion, MetadataQuery
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pass

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


def _targets(vectors: dict[str, list[float]]) -> tuple[Any, Any]:
    """The query vector(s) and target vector name(s) in the form Weaviate takes:
    plain for one named vector, a mapping and the sorted names for several."""
    if len(vectors) == 1:
        [(name, vector)] = vectors.items()
        return vector, name
    return vectors, sorted(vectors)


def hybrid_args(
    request: SearchRequest, spaces: Mapping[str, EmbedderSpec], meta_kinds: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``collection.query.hybrid`` as RRF (Weaviate's ranked
    fusion, both sides weighted equally as in Milvus). Weighted and adaptive fusion
    run in ``VectorStore.search`` over both candidate lists, the same in every store."""
    vector, target = _targets(query_vectors(request, spaces))
    return {
        "query": request.text,
        "alpha": 0.5,
        "vector": vector,
        "target_vector": target,
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
    vector, target = _targets(query_vectors(request, spaces))
    return {
        "near_vector": vector,
        "target_vector": target,
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


class WeaviateQueries(WeaviateCollection):
    """Searches and look-ups."""

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
        return [hit(o, "rrf", o.metadata.score) for o in res.objects]

    def late_hits(self, request: SearchRequest) -> list[Hit]:
        res = self._handle().query.near_vector(**late_args(request, self.spaces(), self._meta))
        return [hit(o, "maxsim", -o.metadata.distance) for o in res.objects]

    def _bm25(self, request: SearchRequest, limit: int) -> list[Hit]:
        if not request.text.strip():
            return []
        res = self._handle().query.bm25(
            request.text, query_properties=["content"], limit=limit,
            filters=to_weaviate_filter(request.filters, self._meta), return_metadata=MetadataQuery(score=True),
            return_properties=RETURN_PROPS,
        )
        return [hit(o, "bm25", o.metadata.score) for o in res.objects]

    def _dense(self, request: SearchRequest, stored: Mapping[str, EmbedderSpec], limit: int) -> list[Hit]:
        args = near_vector_args(replace(request, k=limit), stored, self._meta)
        res = self._handle().query.near_vector(**args)
        return [hit(o, "dense", 1.0 - o.metadata.distance) for o in res.objects]

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
