import numpy as np
import pytest

from mmrag.embedding.maxsim import maxsim


def brute_force(q: np.ndarray, d: np.ndarray) -> float:
    return float(sum(max(float(qi @ dj) for dj in d) for qi in q))


def test_maxsim_matches_brute_force_on_random_ragged_docs():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((7, 16)).astype(np.float32)
    docs = [rng.standard_normal((n, 16)).astype(np.float32) for n in (1, 5, 33, 2, 17)]
    got = maxsim(q, docs)
    want = [brute_force(q, d) for d in docs]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_empty_document_scores_minus_inf_and_shape_errors_are_clear():
    q = np.ones((2, 4), dtype=np.float32)
    assert maxsim(q, [np.zeros((0, 4), dtype=np.float32)])[0] == -np.inf
    with pytest.raises(ValueError, match="n_tokens"):
        maxsim(np.ones(4, dtype=np.float32), [np.ones((2, 4))])
