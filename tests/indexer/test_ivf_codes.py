"""Row-ordered IVF codes: a selective filter's rows decoded in one call, with the same vectors and the same
top k as the one-by-one `reconstruct_batch` path, kept right through adds, upserts, deletes and a reopen."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
from faiss.contrib.datasets import SyntheticDataset

from indexer.ivf_codes import row_codes
from indexer.vector_index import build_vector_index, search_vectors
from indexer.vector_store import FieldSpec, RowFilter, create_store, open_store


def normalised(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def dataset() -> tuple[np.ndarray, np.ndarray]:
    ds = SyntheticDataset(32, 0, 2000, 20, metric="IP")
    return normalised(ds.get_database()), normalised(ds.get_queries())


@pytest.mark.parametrize("factory", ["IVF16,SQ8", "IVF16,Flat", "IVF16,PQ8", "IVF16,SQ4", "PCA16,IVF8,SQ8"])
def test_decoded_rows_are_the_vectors_reconstruct_gives(dataset, factory):
    x, _ = dataset
    index = build_vector_index(x, factory)
    codes = row_codes(index)
    assert codes is not None and len(codes) == len(x)
    rows = np.array([0, 1, 7, 1999, 7, 500], np.int64)  # any order, repeats allowed
    if factory.startswith("IVF"):  # to the bit
        np.testing.assert_array_equal(codes.vectors(rows), index.reconstruct_batch(rows))
    else:  # the PCA's inverse is applied in another order: float rounding
        np.testing.assert_allclose(codes.vectors(rows), index.reconstruct_batch(rows), atol=1e-6)
    assert codes.vectors(np.zeros(0, np.int64)).shape == (0, 32)


@pytest.mark.parametrize("factory", ["Flat", "HNSW8"])
def test_indexes_without_inverted_lists_have_no_row_codes(dataset, factory):
    assert row_codes(build_vector_index(dataset[0][:100], factory)) is None


def test_a_hand_checkable_filter_over_three_rows():
    # Four well-separated directions; rows 0-3 are exactly them (IVF4,Flat stores them unchanged).
    x = np.eye(4, dtype=np.float32)
    index = build_vector_index(np.repeat(x, 4, axis=0), "IVF4,Flat")  # rows 4r..4r+3 are direction r
    allowed = np.zeros(16, bool)
    allowed[[1, 9, 14]] = True  # one row each of directions 0, 2 and 3
    query = np.array([[0.1, 0.0, 0.9, 0.3]], np.float32)
    # 3 allowed rows <= k: they are scored exactly (the row-codes path), whatever the lists and nprobe
    D, I = search_vectors(index, query, 4, allowed, codes=row_codes(index))
    assert I.tolist() == [[9, 14, 1, -1]]  # direction 2 scores 0.9, direction 3 0.3, direction 0 0.1
    np.testing.assert_allclose(D[:, :3], [[0.9, 0.3, 0.1]], rtol=1e-6)


@pytest.mark.parametrize("factory", ["IVF16,SQ8", "IVF16,PQ8"])
def test_filtered_search_with_row_codes_matches_the_one_by_one_path(dataset, factory):
    x, q = dataset
    index = build_vector_index(x, factory)
    allowed = np.random.default_rng(1).random(len(x)) < 0.02  # under EXACT_FILTER_FRACTION: the exact path
    fast = search_vectors(index, q, 10, allowed, codes=row_codes(index))
    slow = search_vectors(index, q, 10, allowed)
    np.testing.assert_array_equal(fast[1], slow[1])
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-5)
    assert allowed[fast[1]].all()
    # and it is the true top k of the decoded allowed rows
    rows = np.flatnonzero(allowed)
    truth = rows[np.argsort(-(q @ index.reconstruct_batch(rows).T), axis=1, kind="stable")[:, :10]]
    np.testing.assert_array_equal(fast[1], truth)


def test_codes_out_of_date_are_not_used(dataset):
    x, q = dataset
    index = build_vector_index(x[:1000], "IVF16,SQ8")
    stale = row_codes(index)
    index.add(x[1000:])  # the table still has 1000 rows: the search must not read it
    allowed = np.zeros(len(x), bool)
    allowed[[5, 1500]] = True
    D, I = search_vectors(index, q[:1], 2, allowed, codes=stale)
    assert sorted(I[0].tolist()) == [5, 1500]
    stale.extend()
    assert len(stale) == len(x)
    np.testing.assert_array_equal(stale.vectors(np.array([1500, 5])), index.reconstruct_batch(np.array([1500, 5])))


def test_store_keeps_row_codes_right_through_add_upsert_delete_and_reopen(dataset, tmp_path):
    x, q = dataset
    store = create_store("faiss", {"text": x[:1500]}, {"text": FieldSpec("IVF16,SQ8", {"nprobe": 4})}, tmp_path,
                         device="cpu")
    assert store.stats()["text"]["row_codes_bytes"] == 1500 * (1 + 32)  # 1 byte of list number + 32 of SQ8 code
    added = store.add("text", x[1500:1510])
    assert added.tolist() == list(range(1500, 1510))
    target = q[:1]
    store.upsert("text", np.array([3]), target)  # row 3 moves to the query itself (exact overlay)
    store.delete("text", np.array([1505]))
    allowed = np.zeros(1510, bool)
    allowed[[3, 1504, 1505, 10]] = True

    def check(s) -> None:
        D, I = s.search("text", target, 4, RowFilter(mask=allowed))
        assert I[0, 0] == 3 and D[0, 0] == pytest.approx(1.0, abs=1e-5)  # the moved row, scored exactly
        assert sorted(I[0].tolist()) == [-1, 3, 10, 1504]  # 1505 is deleted; 3 rows allowed and alive
        np.testing.assert_array_equal(s.vectors("text", np.array([1504])),
                                      s.faiss_index("text").reconstruct_batch(np.array([1504])))

    check(store)
    record = store.save(tmp_path)
    reopened = open_store("faiss", tmp_path, record, device="cpu")
    assert reopened.stats()["text"]["row_codes_bytes"] == 1510 * 33
    check(reopened)


def test_flat_store_keeps_no_row_codes(dataset, tmp_path):
    store = create_store("faiss", {"text": dataset[0][:100]}, {}, tmp_path, device="cpu")
    assert store.stats()["text"]["row_codes_bytes"] == 0
    assert isinstance(faiss.downcast_index(store.faiss_index("text")), faiss.IndexFlat)
