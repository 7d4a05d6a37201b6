"""A selective filter's rows of an IVF,SQ8 field scored on their uint8 codes (`indexer.sq8_scoring`): the same
rows, in the same order, as scoring their decoded vectors (`exact_search_decoded`, the reference), scores to
float rounding; every other index keeps the decoding path."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
from faiss.contrib.datasets import SyntheticDataset

import indexer.vector_index as vector_index
from indexer.ivf_codes import RowCodes, row_codes
from indexer.vector_index import build_vector_index, exact_search_decoded, search_vectors, top_k_of_rows
from indexer.vector_store import FieldSpec, RowFilter, create_store


def normalised(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def dataset() -> tuple[np.ndarray, np.ndarray]:
    ds = SyntheticDataset(48, 0, 4000, 30, metric="IP")
    return normalised(ds.get_database()), normalised(ds.get_queries())


def uniform_sq8(x: np.ndarray, by_residual: bool) -> faiss.Index:
    """IVF8 with one 8-bit range for every dimension (no factory string makes it), with or without residuals."""
    quantizer = faiss.IndexFlatIP(x.shape[1])
    index = faiss.IndexIVFScalarQuantizer(quantizer, x.shape[1], 8, faiss.ScalarQuantizer.QT_8bit_uniform,
                                          faiss.METRIC_INNER_PRODUCT, by_residual)
    index.train(x)
    index.add(x)
    index.make_direct_map()
    index.this.disown()  # keep the quantizer alive with the index
    quantizer.this.disown()
    return index


def sq8_indexes(x: np.ndarray) -> dict[str, faiss.Index]:
    no_residual = faiss.index_factory(x.shape[1], "IVF16,SQ8", faiss.METRIC_INNER_PRODUCT)
    faiss.extract_index_ivf(no_residual).by_residual = False
    no_residual.train(x)
    no_residual.add(x)
    faiss.extract_index_ivf(no_residual).make_direct_map()
    return {"IVF16,SQ8": build_vector_index(x, "IVF16,SQ8"),
            "IVF300,SQ8 (two-byte list numbers)": build_vector_index(x, "IVF300,SQ8"),
            "IVF16,SQ8 without residuals": no_residual,
            "IVF8,SQ8 uniform": uniform_sq8(x, True),
            "IVF8,SQ8 uniform without residuals": uniform_sq8(x, False),
            "IVF16,SQ8 L2": build_l2(x)}


def build_l2(x: np.ndarray) -> faiss.Index:
    """An L2 IVF,SQ8 index: the exact path still scores by inner product, on the same decoded vectors."""
    index = faiss.index_factory(x.shape[1], "IVF16,SQ8", faiss.METRIC_L2)
    index.train(x)
    index.add(x)
    faiss.extract_index_ivf(index).make_direct_map()
    return index


@pytest.fixture(scope="module")
def indexes(dataset) -> dict[str, faiss.Index]:
    return sq8_indexes(dataset[0])


NAMES = ["IVF16,SQ8", "IVF300,SQ8 (two-byte list numbers)", "IVF16,SQ8 without residuals", "IVF8,SQ8 uniform",
         "IVF8,SQ8 uniform without residuals", "IVF16,SQ8 L2"]


@pytest.mark.parametrize("name", NAMES)
def test_scores_on_the_codes_are_the_decoded_vectors_scores(dataset, indexes, name):
    x, q = dataset
    index = indexes[name]
    codes = row_codes(index)
    assert codes is not None and codes.scorer is not None
    rows = np.array([0, 1, 7, 3999, 7, 2500], np.int64)  # any order, repeats allowed
    np.testing.assert_allclose(codes.scores(q, rows), q @ index.reconstruct_batch(rows).T, rtol=1e-5, atol=2e-6)
    assert codes.scores(q, np.zeros(0, np.int64)).shape == (len(q), 0)
    nan_query = q[:1].copy()
    nan_query[0, 3] = np.nan  # a non-finite query scores NaN, as the decoded path does (no fastmath no-NaN assumption)
    assert np.isnan(codes.scores(nan_query, rows)).all()
    for outside in (-1, len(x)):  # the compiled kernel reads without checking: refused before it
        with pytest.raises(IndexError, match="outside"):
            codes.scores(q, np.array([0, outside], np.int64))


def same_result(fast: tuple[np.ndarray, np.ndarray], reference: tuple[np.ndarray, np.ndarray]) -> None:
    np.testing.assert_array_equal(fast[1], reference[1])
    np.testing.assert_allclose(fast[0], reference[0], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("allowed_rows", [1, 2, 10, 40, 150])
def test_filtered_search_returns_the_reference_rows(dataset, indexes, name, allowed_rows, monkeypatch):
    x, q = dataset
    index = indexes[name]
    codes = row_codes(index)
    rng = np.random.default_rng(allowed_rows)
    allowed = np.zeros(len(x), bool)
    allowed[rng.choice(len(x), allowed_rows, replace=False)] = True  # <= 5% of rows: the exact path
    reference = exact_search_decoded(index, q, 20, np.flatnonzero(allowed), codes)
    monkeypatch.setattr(RowCodes, "vectors", lambda *a: pytest.fail("the SQ8 path decoded rows"))
    fast = search_vectors(index, q, 20, allowed, codes=codes)
    same_result(fast, reference)
    hits = min(20, allowed_rows)  # k > allowed rows: padded with -1 / -inf
    assert (fast[1][:, hits:] == -1).all() and np.isneginf(fast[0][:, hits:]).all()
    assert allowed[fast[1][:, :hits]].all()


def test_no_rows_allowed_gives_empty_results(dataset, indexes):
    x, q = dataset
    index = indexes["IVF16,SQ8"]
    D, I = search_vectors(index, q, 10, np.zeros(len(x), bool), codes=row_codes(index))
    assert D.shape == I.shape == (len(q), 0)


def test_every_row_scored_exactly_is_the_reference(dataset, indexes):
    """With every row allowed search_vectors asks the IVF (approximate); the exact path itself must still agree."""
    x, q = dataset
    index = indexes["IVF16,SQ8"]
    codes = row_codes(index)
    rows = np.arange(len(x), dtype=np.int64)
    fast = vector_index._exact_search(index, q, 50, rows, codes)
    same_result(fast, exact_search_decoded(index, q, 50, rows, codes))
    # and the top k of every row is the exact top k of the decoded vectors (a flat search over them)
    decoded = index.reconstruct_n(0, index.ntotal)
    np.testing.assert_array_equal(fast[1][:, :10], faiss.knn(q, decoded, 10, metric=faiss.METRIC_INNER_PRODUCT)[1])


def test_codes_not_covering_every_row_are_not_read(dataset):
    x, q = dataset
    index = build_vector_index(x[:3000], "IVF16,SQ8")
    stale = row_codes(index)
    index.add(x[3000:])  # the table still has 3000 rows: the search must decode rows 3000+ through FAISS
    allowed = np.zeros(len(x), bool)
    allowed[[5, 3500, 3999, 100]] = True
    reference = exact_search_decoded(index, q, 3, np.flatnonzero(allowed))
    same_result(search_vectors(index, q, 3, allowed, codes=stale), reference)
    stale.extend()
    same_result(search_vectors(index, q, 3, allowed, codes=stale), reference)


@pytest.mark.parametrize("factory", ["IVF16,Flat", "IVF16,SQ4", "IVF16,SQ8_direct", "PCA16,IVF8,SQ8"])
def test_other_codes_keep_the_decoding_path(dataset, factory):
    x, q = dataset
    index = build_vector_index(x, factory)
    codes = row_codes(index)
    assert codes is not None and codes.scorer is None
    allowed = np.random.default_rng(0).random(len(x)) < 0.02
    same_result(search_vectors(index, q, 10, allowed, codes=codes),
                exact_search_decoded(index, q, 10, np.flatnonzero(allowed)))


def test_store_uses_the_codes_scoring_after_add_and_upsert(dataset, tmp_path):
    x, q = dataset
    store = create_store("faiss", {"text": x[:3000]}, {"text": FieldSpec("IVF16,SQ8", {"nprobe": 4})}, tmp_path,
                         device="cpu")
    store.add("text", x[3000:])
    store.upsert("text", np.array([7]), q[:1])  # row 7 now in the exact overlay
    allowed = np.random.default_rng(2).random(len(x)) < 0.03
    allowed[7] = True
    index = store.faiss_index("text")
    D, I = store.search("text", q[:1], 10, RowFilter(mask=allowed))
    assert I[0, 0] == 7 and D[0, 0] == pytest.approx(1.0, abs=1e-5)
    in_index = allowed.copy()
    in_index[7] = False
    reference = exact_search_decoded(index, q[:1], 9, np.flatnonzero(in_index))
    np.testing.assert_array_equal(I[:, 1:], reference[1])


@pytest.mark.parametrize("k", [1, 3, 7, 25, 60, 200])
def test_top_k_is_a_stable_sort_also_at_ties(k):
    rng = np.random.default_rng(k)
    scores = rng.integers(0, 6, (4, 100)).astype(np.float32)  # many ties, also at the k-th score
    rows = np.sort(rng.choice(10_000, 100, replace=False)).astype(np.int64)
    D, I = top_k_of_rows(scores, rows, k)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    kk = min(k, 100)
    np.testing.assert_array_equal(I[:, :kk], rows[order])
    np.testing.assert_array_equal(D[:, :kk], np.take_along_axis(scores, order, axis=1))
    assert (I[:, kk:] == -1).all()
