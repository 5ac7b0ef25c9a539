"""MUVERA encodings: exact identities on degenerate parameters, agreement with
exact MaxSim on clustered multi-vectors, determinism by seed."""

import numpy as np
import pytest

from mmrag.embedding.base import l2_normalize
from mmrag.embedding.maxsim import maxsim
from mmrag.embedding.muvera import Muvera, MuveraParams


def clustered(rng: np.random.Generator, n_docs: int, tokens: int, dim: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Documents whose tokens sit around a few of 64 topic centres; queries are noisy token samples of one document."""
    centres = l2_normalize(rng.standard_normal((64, dim)))
    docs = []
    for _ in range(n_docs):
        topics = rng.choice(64, 4, replace=False)
        docs.append(l2_normalize(centres[rng.choice(topics, tokens)] + 0.3 * rng.standard_normal((tokens, dim)) / np.sqrt(dim)))
    queries = [l2_normalize(docs[i][rng.choice(tokens, 6)] + 0.2 * rng.standard_normal((6, dim)) / np.sqrt(dim))
               for i in rng.choice(n_docs, 15, replace=False)]
    return docs, queries


def test_one_partition_no_projection_is_the_exact_sum_mean_product() -> None:
    rng = np.random.default_rng(0)
    q, d = rng.standard_normal((5, 8)), rng.standard_normal((9, 8))
    fde = Muvera(MuveraParams(dim=8, repetitions=1, simhash_bits=0, projection_dim=None))
    assert fde.output_dim == 8
    assert fde.encode_query(q) @ fde.encode_document(d) == pytest.approx(float(q.sum(0) @ d.mean(0)), rel=1e-5)


def test_agrees_with_exact_maxsim_on_clustered_multivectors() -> None:
    rng = np.random.default_rng(1)
    docs, queries = clustered(rng, 120, 40, 32)
    fde = Muvera(MuveraParams(dim=32, repetitions=10, simhash_bits=4, projection_dim=8, final_dim=1024))
    encoded = fde.encode_documents(docs)
    mean_pooled = l2_normalize(np.stack([d.mean(0) for d in docs]))
    found, found_pooled = [], []
    for q in queries:
        best = set(np.argsort(-maxsim(q, docs))[:5])
        found.append(len(best & set(np.argsort(-(encoded @ fde.encode_query(q)))[:20])) / 5)
        found_pooled.append(len(best & set(np.argsort(-(mean_pooled @ l2_normalize(q.mean(0))))[:20])) / 5)
    assert np.mean(found) >= 0.9
    assert np.mean(found) >= np.mean(found_pooled)  # never worse than the plain mean it replaces


def test_empty_document_partitions_are_filled_from_the_nearest_token() -> None:
    token = np.random.default_rng(2).standard_normal((1, 16))
    params = dict(dim=16, repetitions=2, simhash_bits=3, projection_dim=None)
    filled = Muvera(MuveraParams(**params)).encode_document(token).reshape(2, 8, 16)
    assert np.allclose(filled, token[0])  # every partition holds the document's only token
    bare = Muvera(MuveraParams(**params, fill_empty=False)).encode_document(token).reshape(2, 8, 16)
    assert (np.abs(bare).sum(axis=2) > 0).sum() == 2  # one partition per repetition
    query = Muvera(MuveraParams(**params)).encode_query(token).reshape(2, 8, 16)
    assert (np.abs(query).sum(axis=2) > 0).sum() == 2  # queries are never filled


def test_same_seed_same_encoding_other_seed_other_encoding() -> None:
    x = np.random.default_rng(3).standard_normal((30, 16))
    a = Muvera(MuveraParams(dim=16, final_dim=256, seed=7)).encode_document(x)
    b = Muvera(MuveraParams(dim=16, final_dim=256, seed=7)).encode_document(x)
    c = Muvera(MuveraParams(dim=16, final_dim=256, seed=8)).encode_document(x)
    assert a.shape == (256,) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.allclose(a, c)
    params = MuveraParams(dim=16, final_dim=256, seed=7)
    assert MuveraParams.from_json(params.to_json()) == params


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"dim": 0}, "dim"), ({"dim": 8, "simhash_bits": 11}, "simhash_bits"), ({"dim": 8, "final_dim": 0}, "final_dim")],
)
def test_bad_parameters_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MuveraParams(**kwargs)


def test_bad_token_matrix_is_refused() -> None:
    fde = Muvera(MuveraParams(dim=8))
    with pytest.raises(ValueError, match=r"\(n_tokens>0, 8\)"):
        fde.encode_query(np.zeros((0, 8)))
    with pytest.raises(ValueError, match=r"\(n_tokens>0, 8\)"):
        fde.encode_document(np.zeros((3, 4)))
