"""Weaviate schema, object and query construction as pure functions (no server:
these check what we would send, built with the real weaviate-client classes)."""

from __future__ import annotations

import numpy as np
import pytest

import mmrag

pytest.importorskip("weaviate")

from weaviate.classes.query import HybridFusion
from weaviate.collections.classes.batch import BatchObject, ErrorObject

from mmrag.embedding.base import EmbedderSpec
from mmrag.errors import FilterError, StoreError
from mmrag.stores import Fusion, Range, SearchMode, SearchRequest, open_store
from mmrag.stores.late import pool_tokens
from mmrag.stores.uris import is_weaviate_uri, parse_weaviate_uri
from mmrag.stores.weaviate import (
    batch_errors,
    chunk_properties,
    collection_config,
    hybrid_args,
    late_args,
    meta_types,
    near_vector_args,
    object_uuid,
    object_vectors,
    properties_to_chunk,
    specs_from_description,
    to_weaviate_filter,
)
from mmrag.types import Chunk, ImageKind, ImageRef, Modality

SPACES = {
    "text": EmbedderSpec("minilm", 4, query_instruction="q: "),
    "image": EmbedderSpec("clip", 3),
    "pages": EmbedderSpec("colpali", 2, multivector=True),
}


def flat(f):
    """A filter tree as comparable tuples: (target, operator, value) leaves."""
    if hasattr(f, "filters"):
        return [flat(x) for x in f.filters]
    return (f.target, f.operator.value, f.value)


def test_uris_pick_the_backend_and_connection():
    assert is_weaviate_uri("weaviate://localhost:8080")
    assert is_weaviate_uri("https://abc123.c0.europe-west3.gcp.weaviate.cloud")
    assert not is_weaviate_uri("http://milvus:19530") and not is_weaviate_uri("store.db")
    name, kw = parse_weaviate_uri("weaviate://wv.internal:8081?grpc_port=50052").connect_kwargs(None)
    assert name == "connect_to_custom"
    assert kw == {"http_host": "wv.internal", "http_port": 8081, "http_secure": False,
                  "grpc_host": "wv.internal", "grpc_port": 50052, "grpc_secure": False}
    _, kw = parse_weaviate_uri("weaviate://h?secure=true&grpc_host=g").connect_kwargs("key")
    assert (kw["http_port"], kw["http_secure"], kw["grpc_host"], kw["grpc_secure"], kw["auth_credentials"]) == (
        443, True, "g", True, "key")
    name, kw = parse_weaviate_uri("https://abc.weaviate.cloud").connect_kwargs("key")
    assert (name, kw) == ("connect_to_weaviate_cloud", {"cluster_url": "https://abc.weaviate.cloud",
                                                        "auth_credentials": "key"})
    with pytest.raises(StoreError, match="WEAVIATE_API_KEY"):
        parse_weaviate_uri("https://abc.weaviate.cloud").connect_kwargs(None)
    with pytest.raises(StoreError, match="unknown Weaviate URI option"):
        parse_weaviate_uri("weaviate://h?grpcport=1")
    with pytest.raises(StoreError, match="use true or false"):
        parse_weaviate_uri("weaviate://h?secure=yes")


def test_open_store_reports_an_unreachable_weaviate_clearly():
    with pytest.raises(StoreError, match="cannot connect to Weaviate at weaviate://127.0.0.1:9"):
        open_store("weaviate://127.0.0.1:9?grpc_port=10")


def test_collection_config_records_specs_and_declares_vectors():
    cfg = collection_config("docs", SPACES, muvera=True)
    assert cfg["name"] == "Docs"
    assert specs_from_description("Docs", cfg["description"]) == SPACES
    props = {p.name: p for p in cfg["properties"]}
    assert [n for n, p in props.items() if p.indexSearchable] == ["content"]  # BM25 sees content only
    assert props["source"].tokenization.value == "field" and props["page"].dataType.value == "int"
    vectors = {v.name: v._to_dict() for v in cfg["vector_config"]}
    assert set(vectors) == {"text", "image", "pages", "pages__pooled"}
    assert all(v["vectorizer"] == {"none": {}} for v in vectors.values())  # self-provided
    assert vectors["text"]["vectorIndexConfig"]["distance"] == "cosine"
    multi = vectors["pages"]["vectorIndexConfig"]
    assert multi["distance"] == "dot"
    assert multi["multivector"] == {"enabled": True, "aggregation": "maxSim", "muvera": {"enabled": True}}
    plain = {v.name: v._to_dict() for v in collection_config("docs", SPACES)["vector_config"]}
    assert "muvera" not in plain["pages"]["vectorIndexConfig"]["multivector"]
    named = {v.name: v._to_dict() for v in collection_config(
        "docs", SPACES, muvera={"repetitions": 10, "simhash_bits": 4, "projection_dim": 8})["vector_config"]}
    assert named["pages"]["vectorIndexConfig"]["multivector"]["muvera"] == {
        "enabled": True, "ksim": 4, "dprojections": 8, "repetitions": 10}  # MilvusStore's names, Weaviate's keys
    with pytest.raises(StoreError, match="has no final_dim, seed"):
        collection_config("docs", SPACES, muvera={"final_dim": 2048, "seed": 1})
    assert cfg["inverted_index_config"].indexNullState is True
    with pytest.raises(StoreError, match="not made by mmrag"):
        specs_from_description("X", "someone else's collection")
    with pytest.raises(StoreError, match="invalid space name"):
        collection_config("docs", {"a__b": SPACES["text"]})


def test_objects_round_trip_with_deterministic_uuids():
    chunk = Chunk("c1", "d1", "talk.mp4", Modality.IMAGE, "a slide", context="Talk > 00:30",
                  image=ImageRef("talk.mp4", ImageKind.EMBEDDED, index=2), start=30.0, end=45.5,
                  metadata={"lang": "en", "n": 3, "tags": ["a", "b"], "nested": {"x": 1}})
    props = chunk_properties(chunk)
    assert props["content"] == chunk.embed_text and "page" not in props  # None is left out
    assert (props["meta_lang"], props["meta_n"], props["meta_tags"]) == ("en", 3, ["a", "b"])
    assert "meta_nested" not in props  # nested values stay in the JSON only
    assert properties_to_chunk(props) == chunk
    assert object_uuid("c1") == object_uuid("c1") != object_uuid("c2")
    assert str(object_uuid("c1")) == "b62be537-6958-5a99-ba91-f8a8ce8cc54d"  # pinned: stored ids must never change


def test_object_vectors_carry_tokens_and_their_pool():
    tokens = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    vecs = object_vectors(SPACES, {"text": np.ones((1, 4)), "image": np.ones((1, 3)), "pages": [tokens]}, 0)
    assert vecs["pages"] == tokens.tolist()
    np.testing.assert_allclose(vecs["pages__pooled"], pool_tokens(tokens))
    assert len(vecs["text"]) == 4 and len(vecs["image"]) == 3


def test_meta_types_widen_numbers_and_refuse_mixed_kinds():
    a = Chunk("a", "d", "s", Modality.TEXT, "x", metadata={"n": 1, "lang": "en"})
    b = Chunk("b", "d", "s", Modality.TEXT, "y", metadata={"n": 2.5})
    assert {k: v.value for k, v in meta_types([a, b]).items()} == {"n": "number", "lang": "text"}
    c = Chunk("c", "d", "s", Modality.TEXT, "z", metadata={"lang": 7})
    with pytest.raises(StoreError, match="metadata 'lang' mixes"):
        meta_types([a, c])


def test_filters_translate_to_typed_weaviate_filters():
    f = to_weaviate_filter({"source": 'a.pdf" or 1=1', "page": Range(gte=2, lte=3), "start": Range(gte=10),
                            "tag": ["y", "x"], "kind": None, "n": 3}, {"meta_n": "number"})
    assert flat(f) == [
        ("source", "Equal", 'a.pdf" or 1=1'),  # the whole string is one value: nothing to inject into
        ("page", "GreaterThanEqual", 2),
        ("page", "LessThanEqual", 3),
        ("t_start", "GreaterThanEqual", 10.0),
        ("meta_tag", "ContainsAny", ["x", "y"]),
        ("meta_kind", "IsNull", True),
        ("meta_n", "Equal", 3.0),
    ]
    assert isinstance(flat(to_weaviate_filter({"start": Range(gte=1)}))[2], float)
    assert to_weaviate_filter({}) is None
    assert flat(to_weaviate_filter({"chunk_id": "c1"})) == ("chunk_id", "Equal", "c1")
    with pytest.raises(FilterError, match="invalid filter key"):
        to_weaviate_filter({'x") or ("1': 1})
    with pytest.raises(FilterError, match="whole number"):
        to_weaviate_filter({"page": 2.5})
    with pytest.raises(FilterError, match="empty list"):
        to_weaviate_filter({"page": []})


def tree(f):
    """A filter tree with its combining operators: ("And", [...]) nodes, (target, operator, value) leaves."""
    if hasattr(f, "filters"):
        return (f.operator.value, [tree(x) for x in f.filters])
    return (f.target, f.operator.value, f.value)


def test_not_or_and_nesting_become_weaviate_operators():
    """NOT is Weaviate's own (an exact complement: objects without the property are
    kept, as on Milvus); $ne/$nin/$not from the dict form arrive as Not."""
    f = to_weaviate_filter({"$or": [{"lang": {"$ne": "en"}}, {"page": {"$gt": 2}}], "n": {"$nin": [2, 1]},
                            "start": Range(gt=1, lt=5)}, {"meta_n": "int"})
    assert tree(f) == ("And", [
        ("Or", [("Not", [("meta_lang", "Equal", "en")]), ("page", "GreaterThan", 2)]),
        ("Not", [("meta_n", "ContainsAny", [1, 2])]),
        ("t_start", "GreaterThan", 1.0),
        ("t_start", "LessThan", 5.0),
    ])
    assert tree(to_weaviate_filter(mmrag.Not(mmrag.Eq("id", "c1") & mmrag.Eq("kind", None)))) == (
        "Not", [("And", [("chunk_id", "Equal", "c1"), ("meta_kind", "IsNull", True)])])
    with pytest.raises(mmrag.InvalidArgument, match="unknown operator"):
        to_weaviate_filter({"page": {"$like": "x"}})
    assert tree(to_weaviate_filter(mmrag.Match("source", "report"))) == ("source", "Like", "*report*")
    with pytest.raises(mmrag.InvalidArgument, match="cannot hold"):
        to_weaviate_filter(mmrag.Match("source", "a*b"))


def test_alpha_means_weighted_fusion_in_every_store():
    q = {"text": np.ones(4)}
    assert SearchRequest("x", q, alpha=0.25).fusion is Fusion.WEIGHTED
    assert SearchRequest("x", q, alpha=0.25).weights == (0.25, 0.75)
    with pytest.raises(mmrag.InvalidArgument, match="RRF fuses ranks"):
        SearchRequest("x", q, alpha=0.5, fusion=Fusion.RRF)
    with pytest.raises(ValueError, match="alpha"):
        SearchRequest("x", q, alpha=1.5)


def test_hybrid_targets_the_query_modality_and_fusion():
    text_q = SearchRequest("solar", {"text": np.ones(4), "image": np.ones(3)}, k=7, fusion=Fusion.RRF,
                           filters={"page": 1})
    args = hybrid_args(text_q, SPACES)
    assert args["target_vector"] == ["image", "text"] and set(args["vector"]) == {"image", "text"}
    assert (args["alpha"], args["fusion_type"], args["limit"]) == (0.5, HybridFusion.RANKED, 7)
    assert args["query_properties"] == ["content"] and flat(args["filters"]) == ("page", "Equal", 1)
    image_q = SearchRequest("", {"image": np.ones(3)}, mode=SearchMode.DENSE)
    nv = near_vector_args(image_q, SPACES)
    assert nv["target_vector"] == "image" and nv["near_vector"] == [1.0, 1.0, 1.0]
    tokens = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    pooled = hybrid_args(SearchRequest("p", {"pages": tokens}), SPACES)
    assert pooled["target_vector"] == "pages__pooled" and pooled["fusion_type"] == HybridFusion.RANKED
    np.testing.assert_allclose(pooled["vector"], pool_tokens(tokens))
    with pytest.raises(StoreError, match=r"expected \(4,\)"):
        hybrid_args(SearchRequest("x", {"text": np.ones(5)}), SPACES)
    with pytest.raises(StoreError, match="no 'audio' space"):
        hybrid_args(SearchRequest("x", {"audio": np.ones(5)}), SPACES)


def test_late_search_is_a_maxsim_near_vector_on_the_multivector():
    tokens = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    args = late_args(SearchRequest("", {"pages": tokens}, mode=SearchMode.LATE, k=3), SPACES)
    assert (args["target_vector"], args["near_vector"], args["limit"]) == ("pages", tokens.tolist(), 3)
    with pytest.raises(ValueError, match="multi-vector query"):
        SearchRequest("", {"text": np.ones(4)}, mode=SearchMode.LATE)


def test_batch_errors_name_each_failed_chunk():
    err = ErrorObject(message="vector lengths don't match: 3 vs 4",
                      object_=BatchObject(collection="Docs", properties={}, index=1))
    assert batch_errors({1: err}, ["c0", "c1"]) == ["chunk c1: vector lengths don't match: 3 vs 4"]


def test_manifest_entries_round_trip_exactly_with_stable_uuids():
    from mmrag.manifest import ManifestEntry
    from mmrag.stores.weaviate.manifest import entry_properties, entry_uuid, manifest_config, properties_entry

    e = ManifestEntry("d1", "/x/a.pdf", "a.pdf", 10, 1_764_650_000_123_456_789, "ab" * 32, 3, '{"w": 1}', 1.25)
    props = entry_properties(e)
    assert props["mtime_ns"] == "1764650000123456789"  # text: a float64 would round the last digits
    assert float(e.mtime_ns) != e.mtime_ns and properties_entry(props) == e
    assert entry_uuid("d1") == entry_uuid("d1") != entry_uuid("d2") != object_uuid("d2")
    cfg = manifest_config("Docs", "tok")
    assert (cfg["name"], cfg["description"]) == ("Docs__manifest", "mmrag-manifest:tok")
    props_cfg = {p.name: p for p in cfg["properties"]}
    assert set(props_cfg) == set(e.to_dict()) and props_cfg["mtime_ns"].dataType.value == "text"
    assert [n for n, p in props_cfg.items() if p.indexFilterable] == ["doc_id"]
    with pytest.raises(StoreError, match="not made by mmrag"):  # never listed by info() as a chunk collection
        specs_from_description(cfg["name"], cfg["description"])


def test_manifest_token_lives_beside_the_specs_and_decides_opening():
    from mmrag.stores.weaviate.manifest import (
        Opening,
        manifest_token,
        opening,
        owner_token,
        with_owner_token,
    )

    description = collection_config("docs", SPACES)["description"]
    assert owner_token(description) is None
    stamped = with_owner_token(description, "t1")
    assert owner_token(stamped) == "t1" and specs_from_description("Docs", stamped) == SPACES  # specs intact
    assert manifest_token("mmrag-manifest:t1") == "t1" and manifest_token("someone's") is None
    assert opening(False, None, False, create=True) is Opening.NONE  # no chunks: nothing to describe
    assert opening(True, "t1", "t1", create=False) is Opening.OPEN
    assert opening(True, "t1", False, create=False) is Opening.NONE  # reads never create
    assert opening(True, None, False, create=True) is Opening.CREATE
    # a manifest left by an earlier collection of that name never speaks for this one
    assert opening(True, "t2", "t1", create=False) is Opening.NONE
    assert opening(True, "t2", "t1", create=True) is Opening.REPLACE
    assert opening(True, None, "t1", create=True) is Opening.REPLACE


def test_weaviate_store_offers_its_manifest():
    """A real, never connected client: building the manifest sends nothing."""
    import weaviate
    from weaviate.connect import ConnectionParams

    from mmrag.manifest import Manifest, open_manifest
    from mmrag.stores.weaviate import WeaviateStore

    client = weaviate.WeaviateClient(connection_params=ConnectionParams.from_url("http://127.0.0.1:9", 10),
                                     skip_init_checks=True)
    manifest = open_manifest(WeaviateStore(client, "docs"))
    assert isinstance(manifest, Manifest) and (manifest.of, manifest.name) == ("Docs", "Docs__manifest")
