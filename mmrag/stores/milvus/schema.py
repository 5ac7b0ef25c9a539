"""The Milvus schema: the chunk collection, its token collections, the
properties that record what a collection holds, and the URI forms.

One row per chunk with scalar location fields, the text with an analyzer, a
dense vector per embedding space, and a sparse vector that Milvus' built-in BM25
function fills from ``content`` (the context header + text). Which embedding
models and which late layout a collection uses are recorded in its properties,
so reopening never guesses.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import StoreError
from mmrag.stores.uris import parse_milvus_uri as parse_uri  # noqa: F401 - the old home of the name
from mmrag.embedding.muvera import MuveraParams
from mmrag.stores.milvus.late import NativeLate
from mmrag.stores.milvus.rows import MAX_VARCHAR, dense_field, fde_field, token_collection

try:
    import pymilvus
except ImportError:  # pragma: no cover - exercised by the no-extras test run
    pymilvus = None

SPACES_PROPERTY = "mmrag.spaces"
LAYOUT_PROPERTY = "mmrag.late_layout"
TOKENS_PER_ROW_PROPERTY = "mmrag.tokens_per_row"
MUVERA_PROPERTY = "mmrag.muvera"  # {space: MuveraParams} of the fde_<space> fields
ASR_PROPERTY = "mmrag.asr"  # the AsrSpec (JSON) the collection's speech was transcribed with
# A random token stamped on a chunk collection and on what lives beside it (its manifest, its
# token sidecar): Milvus Lite gives every collection id 0, so the token is what tells "the same
# collection" from "one of that name made again".
TOKEN_PROPERTY = "mmrag.manifest_token"


def create_collection(
    client: Any,
    collection: str,
    spaces: Mapping[str, EmbedderSpec],
    layout: str,
    tokens_per_row: int,
    *,
    lite: bool = False,
    muvera: Mapping[str, MuveraParams] | None = None,
) -> None:
    """The chunk collection (and, in the companion layout, one token collection per
    multi-vector space); ``muvera`` adds an ``fde_<space>`` encoding field per space
    it names, indexed for inner-product ANN, and records the params."""
    DataType = pymilvus.DataType
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
    schema.add_field("source", DataType.VARCHAR, max_length=4096)
    schema.add_field("modality", DataType.VARCHAR, max_length=32)
    schema.add_field("page", DataType.INT64, nullable=True)
    schema.add_field("slide", DataType.INT64, nullable=True)
    schema.add_field("t_start", DataType.DOUBLE, nullable=True)
    schema.add_field("t_end", DataType.DOUBLE, nullable=True)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("context", DataType.VARCHAR, max_length=4096)
    schema.add_field("content", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True)
    schema.add_field("image", DataType.JSON, nullable=True)
    schema.add_field("metadata", DataType.JSON)
    schema.add_field("late_gen", DataType.VARCHAR, max_length=32)  # which token rows belong to this chunk row
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        pymilvus.Function(
            name="bm25",
            function_type=pymilvus.FunctionType.BM25,
            input_field_names=["content"],
            output_field_names=["sparse"],
        )
    )
    index = client.prepare_index_params()
    for space, spec in spaces.items():
        schema.add_field(dense_field(space), DataType.FLOAT_VECTOR, dim=spec.dim)
        index.add_index(dense_field(space), index_type="AUTOINDEX", metric_type="COSINE")
        if spec.multivector and layout == "native":
            NativeLate.add_field(client, schema, index, space, spec.dim)
    for space, params in (muvera or {}).items():
        schema.add_field(fde_field(space), DataType.FLOAT_VECTOR, dim=params.output_dim)
        index.add_index(fde_field(space), index_type="AUTOINDEX", metric_type="IP")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    index.add_index("doc_id", index_type="INVERTED")
    props = {
        SPACES_PROPERTY: json.dumps({s: spec.to_json() for s, spec in spaces.items()}),
        LAYOUT_PROPERTY: layout,
        TOKENS_PER_ROW_PROPERTY: str(tokens_per_row),
    }
    if muvera:
        props[MUVERA_PROPERTY] = json.dumps({s: p.to_json() for s, p in muvera.items()})
    create_indexed(client, collection, schema, index, lite=lite, properties=props)
    if layout == "companion":
        for space, spec in spaces.items():
            if spec.multivector:
                create_token_collection(client, token_collection(collection, space), spec.dim, tokens_per_row, lite=lite)


def create_indexed(
    client: Any, name: str, schema: Any, index: Any, *, lite: bool, properties: Mapping[str, str] | None = None
) -> None:
    """Create and load a collection with its indexes. On Milvus Lite the indexes are
    made without waiting on them: pymilvus' wait asks for ``AllocTimestamp``, which
    Lite does not implement, and its in-process server logs a traceback for every
    index (shown by any app that configures logging). An empty collection's index
    is ready at once, so there is nothing to wait for."""
    if not lite:
        client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong", properties=properties or {})
        return
    client.create_collection(name, schema=schema, consistency_level="Strong", properties=properties or {})
    client.create_index(name, index, sync=False)
    client.load_collection(name)


def create_token_collection(client: Any, name: str, dim: int, tokens_per_row: int, *, lite: bool = False) -> None:
    """A companion collection: ``tokens_per_row`` token vectors of one chunk per row, tagged with their write."""
    DataType = pymilvus.DataType
    schema = client.create_schema(auto_id=True, enable_dynamic_field=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("chunk_id", DataType.VARCHAR, max_length=64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
    schema.add_field("gen", DataType.VARCHAR, max_length=32)
    schema.add_field("n", DataType.INT64)  # how many of the row's token slots are used
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim * tokens_per_row)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="AUTOINDEX", metric_type="IP")
    index.add_index("chunk_id", index_type="INVERTED")
    create_indexed(client, name, schema, index, lite=lite)


def owner_token(client: Any, name: str, *, create: bool) -> str | None:
    """Collection ``name``'s token; with ``create``, one is stamped on a collection that has none."""
    token = client.describe_collection(name).get("properties", {}).get(TOKEN_PROPERTY)
    if token is None and create:
        token = uuid.uuid4().hex
        client.alter_collection_properties(name, {TOKEN_PROPERTY: token})
    return token


def read_spaces(client: Any, name: str) -> dict[str, EmbedderSpec]:
    """The embedding spaces recorded on collection ``name``; a StoreError for a collection mmrag did not make."""
    props = client.describe_collection(name).get("properties", {})
    raw = props.get(SPACES_PROPERTY)
    if raw is None:
        raise StoreError(f"collection '{name}' was not made by mmrag (no {SPACES_PROPERTY} property)")
    return {space: EmbedderSpec.from_json(spec) for space, spec in json.loads(raw).items()}
