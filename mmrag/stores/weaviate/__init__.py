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

The package: ``schema`` (names, properties, named vectors, the description),
``objects`` (chunks as objects and back), ``filters`` (the filter algebra as
Weaviate filters), ``collection`` (the connection), ``writer``, ``queries``,
``store``, ``manifest``.
"""

from mmrag.stores.weaviate.collection import PAGE
from mmrag.stores.weaviate.filters import (
    FIELD_PROPS,
    FIELD_TYPES,
    to_weaviate_filter,
)
from mmrag.stores.weaviate.objects import (
    NAMESPACE,
    RETURN_PROPS,
    batch_errors,
    chunk_properties,
    meta_property,
    meta_property_def,
    meta_types,
    object_uuid,
    object_vectors,
    properties_to_chunk,
)
from mmrag.stores.weaviate.queries import (
    hybrid_args,
    late_args,
    near_vector_args,
    query_vectors,
)
from mmrag.stores.weaviate.schema import (
    ASR_KEY,
    DESCRIPTION_PREFIX,
    MUVERA_MIN_VERSION,
    WEAVIATE_MUVERA,
    asr_from_description,
    base_properties,
    class_name,
    collection_config,
    description_with_asr,
    muvera_encoding,
    pooled_name,
    server_version,
    specs_from_description,
    vector_config,
)
from mmrag.stores.weaviate.store import WeaviateStore
from mmrag.stores.weaviate.writer import BATCH_OBJECTS

__all__ = [
    "ASR_KEY",
    "BATCH_OBJECTS",
    "DESCRIPTION_PREFIX",
    "FIELD_PROPS",
    "FIELD_TYPES",
    "MUVERA_MIN_VERSION",
    "NAMESPACE",
    "PAGE",
    "RETURN_PROPS",
    "WEAVIATE_MUVERA",
    "WeaviateStore",
    "asr_from_description",
    "base_properties",
    "batch_errors",
    "chunk_properties",
    "class_name",
    "collection_config",
    "description_with_asr",
    "hybrid_args",
    "late_args",
    "meta_property",
    "meta_property_def",
    "meta_types",
    "muvera_encoding",
    "near_vector_args",
    "object_uuid",
    "object_vectors",
    "pooled_name",
    "properties_to_chunk",
    "query_vectors",
    "server_version",
    "specs_from_description",
    "to_weaviate_filter",
    "vector_config",
]
