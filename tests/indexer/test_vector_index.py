"""FAISS helpers: typed array errors, factory strings, filtered search returning k hits."""

import numpy as np
import pytest

from indexer.errors import IndexError_, InvalidArrayError
from indexer.vector_index import build_vector_index, check_factory, check_vectors, search_vectors


def unit_vectors(n, d, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("x,message", [
    (np.zeros((3, 4), np.float64), "expected float32, got float64"),
    (np.zeros(4, np.float32), r"expected shape \(n, d\)"),
    ([[1.0]], "expected a numpy array"),
])
def test_check_vectors_names_the_problem_and_fix(x, message):
    with pytest.raises(InvalidArrayError, match=message):
        check_vectors(x)


def test_dimension_mismatch_is_named():
    index = build_vector_index(unit_vectors(10, 8))
    with pytest.raises(InvalidArrayError, match="expected dimension 8, got 4"):
        search_vectors(index, unit_vectors(1, 4), 3)


def test_bad_factory_string():
    with pytest.raises(IndexError_, match="invalid FAISS factory string 'Nope'"):
        check_factory("Nope")


def test_ivf_with_too_few_vectors():
    with pytest.raises(IndexError_, match="needs at least 64 vectors"):
        build_vector_index(unit_vectors(10, 8), "IVF64,Flat")


@pytest.mark.parametrize("factory", ["Flat", "HNSW16", "IVF4,Flat"])
def test_flat_hnsw_ivf_find_a_vector_itself(factory):
    x = unit_vectors(500, 16)
    index = build_vector_index(x, factory)
    D, I = search_vectors(index, x[:5], 3)
    assert D.shape == I.shape == (5, 3)
    if factory == "IVF4,Flat":
        index.nprobe = 4
        D, I = search_vectors(index, x[:5], 3)
    assert I[:, 0].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("factory", ["Flat", "HNSW16", "IVF4,Flat"])
@pytest.mark.parametrize("n_allowed", [3, 10, 200])
def test_filtered_search_returns_k_hits_when_k_rows_match(factory, n_allowed):
    x = unit_vectors(1000, 16, seed=1)
    index = build_vector_index(x, factory)
    allowed = np.zeros(1000, bool)
    allowed[np.random.default_rng(2).choice(1000, n_allowed, replace=False)] = True
    k = min(10, n_allowed)
    D, I = search_vectors(index, x[:1], 10, allowed)
    hits = I[0][I[0] >= 0]
    assert len(hits) >= k and allowed[hits].all()
    if factory == "Flat":  # exact: the best allowed rows, in order
        best = np.flatnonzero(allowed)[np.argsort(-(x[allowed] @ x[0]))][:k]
        assert hits[:k].tolist() == best.tolist()


def test_nothing_allowed_gives_empty_results():
    index = build_vector_index(unit_vectors(20, 4))
    D, I = search_vectors(index, unit_vectors(1, 4), 5, np.zeros(20, bool))
    assert I.shape == (1, 0)


def test_allowed_mask_of_wrong_shape():
    index = build_vector_index(unit_vectors(20, 4))
    with pytest.raises(InvalidArrayError, match=r"shape \(20,\)"):
        search_vectors(index, unit_vectors(1, 4), 5, np.ones(19, bool))


@pytest.mark.parametrize("filtered", [False, True])
def test_a_deep_hnsw_search_gets_k_hits_whatever_efsearch_is(filtered):
    """FAISS keeps efSearch candidates and does not widen that to k; the search must."""
    x = unit_vectors(3000, 16, seed=3)
    index = build_vector_index(x, "HNSW16", {"efSearch": 16})
    allowed = np.ones(3000, bool) if filtered else None
    if filtered:
        allowed[::10] = False
    D, I = search_vectors(index, x[:5], 500, allowed)
    assert (I >= 0).sum(axis=1).tolist() == [500] * 5
    scores = x[:5] @ x.T
    if filtered:
        scores[:, ~allowed] = -np.inf
    exact = np.argsort(-scores, axis=1)[:, :500]
    assert np.mean([len(set(a) & set(b)) / 500 for a, b in zip(I, exact, strict=True)]) > 0.9
    assert index.hnsw.efSearch == 16  # the index's own setting is unchanged


@pytest.mark.parametrize("widen_max,found", [(8, 10), (1, 0)])
def test_a_filtered_ivf_search_probes_more_lists_the_fewer_rows_it_allows(monkeypatch, widen_max, found):
    """A 20% filter whose rows sit in the lists next to the query's own (which it does not allow): at the field's
    nprobe (1) the search sees no allowed row; widened (x min(8, 1/0.2), rounded down: 4 lists) it finds the exact best 10."""
    import faiss

    import indexer.vector_index as vector_index
    monkeypatch.setattr(vector_index, "FILTER_NPROBE_WIDEN_MAX", widen_max)
    rng = np.random.default_rng(3)
    centres = unit_vectors(64, 16, seed=4) * 4
    x = (np.repeat(centres, 100, axis=0) + rng.standard_normal((6400, 16)).astype(np.float32) * 0.05)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = build_vector_index(x, "IVF64,Flat", {"nprobe": 1})
    query = x[:1]
    _, nearest_lists = faiss.extract_index_ivf(index).quantizer.search(query, 64)
    _, list_of_row = faiss.extract_index_ivf(index).quantizer.search(x, 1)
    allowed = np.isin(list_of_row[:, 0], nearest_lists[0, 1:14])  # 13 lists of 64: ~20% of the rows
    assert 0.05 < allowed.mean() < 0.4
    D, I = search_vectors(index, query, 10, allowed)
    best = np.flatnonzero(allowed)[np.argsort(-(x[allowed] @ query[0]))][:10]
    assert len(set(I[0].tolist()) & set(best.tolist())) == found



def _pq_part(index):
    import faiss

    inner = faiss.downcast_index(index)
    inner = faiss.downcast_index(inner.index) if isinstance(inner, faiss.IndexPreTransform) else inner
    return faiss.downcast_index(faiss.extract_index_ivf(index)) if isinstance(inner, faiss.IndexIVF) else inner


@pytest.mark.parametrize("factory", ["IVF16,PQ8", "PQ8", "PCA16,IVF8,PQ4"])
def test_pq_codebooks_are_trained_without_polysemous_reordering(factory):
    """FAISS's polysemous training (on by default; ~9 s per field for 8-bit codes) serves a search mode never used
    here."""
    x = np.random.default_rng(0).standard_normal((600, 32)).astype(np.float32)
    assert _pq_part(build_vector_index(x / np.linalg.norm(x, axis=1, keepdims=True), factory)).do_polysemous_training \
        is False


def test_without_polysemous_training_the_same_rows_come_at_the_same_scores(monkeypatch):
    # 4-bit codes: polysemous training is quick there (8-bit codes: the same result, checked by hand, ~9 s)
    x = np.random.default_rng(1).standard_normal((600, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = build_vector_index(x, "IVF8,PQ8x4", {"nprobe": 4})
    monkeypatch.setattr("indexer.vector_index.without_polysemous_training", lambda index: None)
    polysemous = build_vector_index(x, "IVF8,PQ8x4", {"nprobe": 4})
    assert _pq_part(polysemous).do_polysemous_training is True  # the FAISS default, which this test compares with
    D, I = search_vectors(index, x[:20], 5)
    D2, I2 = search_vectors(polysemous, x[:20], 5)
    np.testing.assert_array_equal(I, I2)
    np.testing.assert_allclose(D, D2, atol=1e-6)


def test_a_spec_asking_for_polysemous_search_keeps_polysemous_training():
    x = np.random.default_rng(2).standard_normal((600, 32)).astype(np.float32)
    index = build_vector_index(x / np.linalg.norm(x, axis=1, keepdims=True), "IVF8,PQ8x4", {"ht": 12})
    assert _pq_part(index).do_polysemous_training is True
