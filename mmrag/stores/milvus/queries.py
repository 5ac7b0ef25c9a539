"""Reads from a Milvus collection: dense, BM25, fused and late searches, and look-ups."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mmrag.embedding.base import batched
from mmrag.errors import FilterError, StoreError
from mmrag.stores.base import CollectionInfo, SearchRequest, SourceInfo, source_tree
from mmrag.stores.filters import Filter, Filters, Match
from mmrag.stores.late import dense_query, rerank_maxsim
from mmrag.stores.milvus.collection import MilvusCollection
from mmrag.stores.milvus.filters import holds, literal_matches, loose_match, to_milvus_filter
from mmrag.stores.milvus.late import NativeLate, tokens_by_chunk
from mmrag.stores.milvus.rows import (
    IDS_PER_EXPR,
    OUTPUT_FIELDS,
    QUERY_PAGE,
    dense_field,
    DOC_ID_KEY,
    fde_field,
    is_hashed,
    keys_expr,
    row_key,
    row_to_chunk,
    token_collection,
)
from mmrag.stores.milvus.schema import read_spaces
from mmrag.types import Chunk, Hit

try:
    import pymilvus
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pymilvus = None


class MilvusQueries(MilvusCollection):
    """Searches and look-ups."""

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids or not self.spaces():
            return []
        found: dict[str, Chunk] = {}
        for part in batched(list(dict.fromkeys(ids)), IDS_PER_EXPR):
            rows = self.client.get(self.collection, ids=[row_key(i) for i in part], output_fields=OUTPUT_FIELDS)
            found.update((c.id, c) for c in map(row_to_chunk, rows))
        return [found[i] for i in ids if i in found]

    def vectors(self, ids: Sequence[str], space: str) -> dict[str, np.ndarray]:
        stored = self.spaces()
        if space not in stored:
            raise StoreError(f"collection '{self.collection}' has no '{space}' space (it has: {', '.join(stored) or 'none'})")
        out: dict[str, np.ndarray] = {}
        for part in batched(list(dict.fromkeys(ids)), IDS_PER_EXPR):
            asked = {row_key(i): i for i in part}
            for row in self.client.get(self.collection, ids=list(asked), output_fields=["id", dense_field(space)]):
                out[asked[row["id"]]] = np.asarray(row[dense_field(space)], dtype=np.float32)
        return out

    def _select(self, where: Filter, limit: int | None) -> list[Chunk]:
        expr = self._where(where)
        if limit is not None and limit <= QUERY_PAGE:
            rows = self.client.query(self.collection, filter=expr, output_fields=OUTPUT_FIELDS, limit=limit)
        else:
            rows = self._query_all(self.collection, expr, OUTPUT_FIELDS)[:limit]
        return [row_to_chunk(r) for r in rows]

    # -- the primitives under VectorStore.search ---------------------------------
    def _pooled(self, request: SearchRequest) -> dict[str, np.ndarray]:
        stored = self._spaces or {}
        return {s: dense_query(s, stored[s], v) for s, v in request.vectors.items()}

    def _expr(self, request: SearchRequest) -> str:
        """The request's filters as a Milvus expression (id and doc_id values as their stored keys)."""
        return self._where(request.filters)

    def _where(self, filters: Filters | None) -> str:
        """``filters`` as an expression, metadata text matches holding ``%`` or ``_`` resolved to row keys."""
        return to_milvus_filter(filters, keys=row_key, resolved={m: self._holding(m) for m in literal_matches(filters)})

    def _holding(self, match: Match) -> list[str]:
        """The keys of the rows whose ``match.key`` value holds ``match.text``: a loose
        LIKE finds the candidates, Python checks each (see ``milvus.filters``)."""
        rows = self._query_all(self.collection, loose_match(match), ["id", "metadata"])
        keys = [r["id"] for r in rows if holds(match, r["metadata"])]
        if len(keys) > QUERY_PAGE:
            raise FilterError(f"filter '{match.key}': {len(keys):,} chunks hold {match.text!r}, more than a text match "
                              f"with % or _ in a metadata value can list ({QUERY_PAGE:,}); narrow the text")
        return keys

    def dense_hits(self, request: SearchRequest, limit: int) -> list[Hit]:
        return self._dense(self._pooled(request), self._expr(request), limit)

    def bm25_hits(self, request: SearchRequest, limit: int) -> list[Hit]:
        return self._bm25(request.text, self._expr(request), limit)

    def rrf_hits(self, request: SearchRequest) -> list[Hit]:
        return self._fused(self._pooled(request), request.text, self._expr(request), request.k, request.depth, request.rrf_k)

    def late_hits(self, request: SearchRequest) -> list[Hit]:
        return self._late(request, self._pooled(request), self._expr(request))

    def _hits(self, rows: Sequence[Mapping[str, Any]], key: str, transform: Callable[[float], float] = float) -> list[Hit]:
        hits = []
        for r in rows:
            score = transform(float(r["distance"]))
            hits.append(Hit(row_to_chunk(r["entity"] | {"id": r["id"]}), score, {key: score}))
        return hits

    def _dense(self, pooled: Mapping[str, np.ndarray], expr: str, limit: int) -> list[Hit]:
        """Cosine hits per space (a chunk may come once per space)."""
        hits: list[Hit] = []
        for space, vec in pooled.items():
            res = self.client.search(
                self.collection,
                data=[vec.tolist()],
                anns_field=dense_field(space),
                limit=limit,
                filter=expr,
                output_fields=OUTPUT_FIELDS,
                search_params={"metric_type": "COSINE"},
            )[0]
            hits.extend(self._hits(res, "dense"))
        return hits

    def _bm25(self, text: str, expr: str, limit: int) -> list[Hit]:
        if not text.strip():
            return []
        res = self.client.search(
            self.collection,
            data=[text],
            anns_field="sparse",
            limit=limit,
            filter=expr,
            output_fields=OUTPUT_FIELDS,
            search_params={"metric_type": "BM25"},
        )[0]
        # BM25 scores are >= 0; Milvus Lite reports them negated, a server does not.
        return self._hits(res, "bm25", abs)

    def _fused(
        self, pooled: Mapping[str, np.ndarray], text: str, expr: str, limit: int, depth: int, rrf_k: int
    ) -> list[Hit]:
        return self._hits(self._fused_rows(pooled, text, expr, limit, depth, rrf_k), "rrf")

    def _fused_rows(
        self,
        pooled: Mapping[str, np.ndarray],
        text: str,
        expr: str,
        limit: int,
        depth: int,
        rrf_k: int,
        extra_fields: Sequence[str] = (),
        fde: Mapping[str, np.ndarray] | None = None,
    ) -> list[dict[str, Any]]:
        """Every dense space (and BM25 when there is text) in one ``hybrid_search``, fused by RRF.
        A space in ``fde`` (its query's MUVERA encoding) is searched by that encoding
        (inner product) instead of its pooled vector; a single retriever is one plain search."""
        fde = fde or {}
        reqs = [
            pymilvus.AnnSearchRequest(
                data=[vec.tolist()], anns_field=fde_field(space), param={"metric_type": "IP"}, limit=depth, expr=expr or None
            )
            for space, vec in fde.items()
        ]
        reqs += [
            pymilvus.AnnSearchRequest(
                data=[vec.tolist()],
                anns_field=dense_field(space),
                param={"metric_type": "COSINE"},
                limit=depth,
                expr=expr or None,
            )
            for space, vec in pooled.items()
            if space not in fde
        ]
        if text.strip():
            reqs.append(
                pymilvus.AnnSearchRequest(
                    data=[text], anns_field="sparse", param={"metric_type": "BM25"}, limit=depth, expr=expr or None
                )
            )
        fields = [*OUTPUT_FIELDS, *extra_fields]
        if len(reqs) == 1 and fde:  # the MUVERA first stage alone: no fusion to pay for
            (req,) = reqs
            return self.client.search(self.collection, data=req.data, anns_field=req.anns_field, limit=limit, filter=expr,
                                      output_fields=fields, search_params=req.param)[0]
        return self.client.hybrid_search(self.collection, reqs, pymilvus.RRFRanker(rrf_k), limit=limit, output_fields=fields)[0]

    def _late(self, request: SearchRequest, pooled: Mapping[str, np.ndarray], expr: str) -> list[Hit]:
        """First stage (each query space's MUVERA encoding where the collection has one, else its
        pooled vector; BM25 when there is text), then exact MaxSim over the candidates' tokens."""
        stored = self._spaces or {}
        queries = {s: np.asarray(v, dtype=np.float32) for s, v in request.vectors.items() if stored[s].multivector}
        if not queries:
            raise StoreError(f"late search needs a query in a multi-vector space; this collection's are: {self._multi() or 'none'}")
        if self._layout == "native":
            return NativeLate.search(self.client, self.collection, queries, expr, request.k)
        fde = {s: self._fde[s].encode_query(q) for s, q in queries.items() if s in self._fde}
        rows = self._fused_rows(pooled, request.text, expr, request.depth, request.depth, request.rrf_k, ["late_gen"], fde)
        first = self._hits(rows, "first_stage")
        gens = {r["id"]: r["entity"]["late_gen"] for r in rows}
        ids = {r["id"]: hit.chunk.id for r, hit in zip(rows, first)}
        tokens = {s: {ids[key]: vecs for key, vecs in self._tokens(s, gens).items()} for s in queries}
        for space, found in tokens.items():
            if missing := [h.chunk for h in first if h.chunk.id not in found]:
                raise StoreError(
                    f"{len(missing)} of {len(first)} late-search candidates have no token vectors for '{space}' in "
                    f"collection '{self.collection}' (sources: {', '.join(sorted({c.source for c in missing})[:3])}): "
                    "delete those sources (mmrag delete --source) and ingest them again")
        return rerank_maxsim(first, queries, tokens, request.k)

    def _tokens(self, space: str, gens: Mapping[str, str]) -> dict[str, np.ndarray]:
        """The stored token vectors of these chunks by row key (only rows of each chunk's current generation)."""
        if self._sidecar is not None:
            return self._sidecar.read(space, gens)
        name = token_collection(self.collection, space)
        rows: list[dict[str, Any]] = []
        for part in batched(list(gens), IDS_PER_EXPR):
            rows.extend(self._query_all(name, keys_expr("chunk_id", part), ["chunk_id", "gen", "n", "vec"]))
        return tokens_by_chunk(rows, gens, (self._spaces or {})[space].dim)

    def sources(self) -> list[SourceInfo]:
        if not self.spaces():
            return []
        counts: Counter[tuple[str, str]] = Counter()
        for row in self._query_all(self.collection, "", ["doc_id", "source"]):
            counts[row["doc_id"], row["source"]] += 1
        doc_ids = {key: self._caller_doc_id(key) for key, _ in counts}
        return source_tree({(doc_ids[key], src): n for (key, src), n in counts.items()})

    def _caller_doc_id(self, key: str) -> str:
        """The caller's doc_id stored under ``key`` (read back from one of its rows when hashed)."""
        if not is_hashed(key):
            return key
        (row,) = self.client.query(self.collection, filter=keys_expr("doc_id", [key]), output_fields=["metadata"], limit=1)
        return row["metadata"][DOC_ID_KEY]

    def info(self) -> list[CollectionInfo]:
        out = []
        for name in sorted(self.client.list_collections()):
            try:
                spaces = read_spaces(self.client, name)
            except StoreError:
                continue
            self.client.load_collection(name)
            rows = self.client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]
            out.append(CollectionInfo(name, int(rows), spaces))
        return out

