"""Milvus store: Milvus Lite file by default, a server or cluster by URI, same code.

Schema: one row per chunk with scalar location fields, the text with an
analyzer, a dense vector per embedding space, and a sparse vector that Milvus'
built-in BM25 function fills from ``content`` (the context header + text).

Late interaction (a multi-vector space such as ColPali/ColBERT): the chunk row
holds the pooled vector (normalised token mean) in the space's dense field, and
its MUVERA encoding in ``fde_<space>`` (the late search's first stage, params
recorded in the collection), and the token/patch vectors live one per row in a companion collection
``<collection>__tok_<space>`` (Milvus Lite has no array-of-vector fields);
``tokens_per_row=B`` packs B consecutive token vectors into one row instead,
which reads back ~B times fewer rows (Lite returns rows one by one, so reading
the candidates' tokens dominates a late search) at the cost of ANN over tokens. On a
Milvus server >= 2.6.4 a collection is instead created with an array-of-structs
field searched natively with ``MAX_SIM_IP`` (see ``late.NativeLate``); which layout
a collection uses is recorded in it, so reopening never guesses.

Writes are all-or-nothing per source: token rows are written under a fresh
generation tag, then chunk rows (which point at that tag); only after every
batch succeeded are the rows they replace removed. On a failure the new rows
are deleted and overwritten rows restored from a snapshot.

The package: ``rows`` (field names, row conversion, batching), ``schema``
(collections and their properties), ``late`` (token rows and the native
layout), ``filters`` (the filter algebra as an expression), ``collection`` (the
connection), ``writer``, ``queries``, ``manifest``.
"""

from mmrag.stores.milvus.collection import RETRIES
from mmrag.stores.milvus.filters import to_milvus_filter
from mmrag.stores.milvus.late import server_version
from mmrag.stores.milvus.rows import (
    BATCH_BYTES,
    OUTPUT_FIELDS,
    chunk_to_row,
    dense_field,
    plan_batches,
    row_to_chunk,
    token_collection,
)
from mmrag.stores.milvus.schema import parse_uri
from mmrag.stores.milvus.store import MilvusStore

__all__ = [
    "BATCH_BYTES",
    "OUTPUT_FIELDS",
    "RETRIES",
    "MilvusStore",
    "chunk_to_row",
    "dense_field",
    "parse_uri",
    "plan_batches",
    "row_to_chunk",
    "server_version",
    "to_milvus_filter",
    "token_collection",
]
