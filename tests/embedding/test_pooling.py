import numpy as np
import pytest

from mmrag.embedding.base import EmbedderSpec
from mmrag.embedding.maxsim import maxsim
from mmrag.embedding.pooling import pool_tokens, round_float16


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_pooling_merges_near_duplicate_tokens_into_their_mean():
    rng = np.random.default_rng(0)
    centers = unit(rng.standard_normal((4, 16)))
    tokens = unit(np.repeat(centers, 3, axis=0) + 0.01 * rng.standard_normal((12, 16)))
    pooled = pool_tokens(tokens, 3)
    assert pooled.shape == (4, 16) and pooled.dtype == np.float32
    for i in range(4):  # clusters come out in order of their first token, each the mean of its three tokens
        np.testing.assert_allclose(pooled[i], tokens[3 * i : 3 * i + 3].mean(axis=0), atol=1e-6)


def test_pool_factor_bounds_the_count_and_keeps_maxsim_close():
    rng = np.random.default_rng(1)
    doc = unit(rng.standard_normal((100, 32)))
    query = unit(rng.standard_normal((8, 32)))
    for factor in (1, 2, 3, 7):
        assert len(pool_tokens(doc, factor)) == -(-100 // factor)
    np.testing.assert_array_equal(pool_tokens(doc, 1), doc)
    assert len(pool_tokens(doc[:2], 3)) == 1 and len(pool_tokens(doc[:1], 3)) == 1
    assert maxsim(query, [pool_tokens(doc, 2)])[0] <= maxsim(query, [doc])[0] + 1e-5
    with pytest.raises(ValueError, match="pool_factor"):
        pool_tokens(doc, 0)


def test_float16_rounding_is_exactly_representable_and_close():
    v = unit(np.random.default_rng(2).standard_normal((5, 8)))
    r = round_float16(v)
    assert r.dtype == np.float32
    np.testing.assert_array_equal(r.astype(np.float16).astype(np.float32), r)
    np.testing.assert_allclose(r, v, atol=1e-3)


def test_spec_describes_instructions_so_a_mismatch_message_shows_them():
    spec = EmbedderSpec("m", 8, multivector=True, query_instruction="query: ")
    assert spec.describe() == "m (multi-vector, dim 8, query instruction 'query: ')"
    assert EmbedderSpec.from_json(spec.to_json()) == spec
