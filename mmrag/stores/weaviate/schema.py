"""The Weaviate collection schema: names, properties, named vectors (MUVERA
included) and the ``mmrag:`` description that records the embedding specs and
the ASR model. Pure functions, unit-tested without a server."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import StoreError

if TYPE_CHECKING:
    from mmrag.asr.base import AsrSpec

try:
    from weaviate.classes.config import (
        Configure,
        DataType,
        MultiVectorAggregation,
        Property,
        Tokenization,
        VectorDistances,
    )
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pass

DESCRIPTION_PREFIX = "mmrag:"
ASR_KEY = "mmrag.asr"  # beside the spaces in the description; no space name has a dot
MUVERA_MIN_VERSION = (1, 31, 0)


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


def server_version(meta: Mapping[str, Any]) -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", str(meta.get("version", "")))
    if not m:
        raise StoreError(f"cannot read the Weaviate server version from {meta.get('version')!r}")
    return int(m[1]), int(m[2]), int(m[3])
