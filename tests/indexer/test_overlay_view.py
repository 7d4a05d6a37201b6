"""The faiss store's exact overlay (rows replaced in an HNSW/IVF field) is stacked once per change, not per query:
searches must answer exactly what stacking the overlay at each query answered, and see every later write."""

from __future__ import annotations

import numpy as np
import pytest
from faiss.contrib.datasets import SyntheticDataset

from indexer.faiss_store import _merge
from indexer.vector_index import check_vectors, search_vectors
from indexer.vector_store import FieldSpec, RowFilter, create_store


@pytest.fixture(scope="module")
def dataset() -> tuple[np.ndarray, np.ndarray]:
    ds = SyntheticDataset(32, 0, 2000, 40, metric="IP")
    x, q = ds.get_database(), ds.get_queries()
    return (np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), np.float32),
            np.ascontiguousarray(q / np.linalg.norm(q, axis=1, keepdims=True), np.float32))


def stacked_per_query(store, field: str, queries: np.ndarray, k: int, mask: np.ndarray | None):  # type: ignore[no-untyped-def]
    """The search as the store answered before the cache: the live overlay rows stacked at every query."""
    index, overlay = store.faiss_index(field), store._overlay[field]
    rows = np.fromiter(overlay, np.int64, len(overlay))
    live = rows[mask[rows]] if mask is not None else rows
    in_index = mask.copy() if mask is not None else np.ones(index.ntotal, bool)
    in_index[rows] = False
    D, I = search_vectors(index, queries, k, in_index)
    if not len(live):
        return D, I
    scores = check_vectors(queries, index.d, "queries") @ np.stack([overlay[int(r)] for r in live]).T
    return _merge((D, I), (scores, np.broadcast_to(live, scores.shape)), min(k, index.ntotal))


@pytest.mark.parametrize("spec", [FieldSpec("HNSW16"), FieldSpec("IVF16,Flat", {"nprobe": 4})])
def test_overlay_searches_equal_stacking_per_query_and_follow_each_write(dataset, tmp_path, spec):
    x, q = dataset
    store = create_store("faiss", {"text": x}, {"text": spec}, tmp_path, device="cpu")
    rng = np.random.default_rng(3)
    moved = rng.choice(len(x), 60, replace=False)
    store.upsert("text", moved, -x[moved])  # far from where they were: only the overlay finds them
    half = np.zeros(len(x), bool)
    half[::2] = True
    for mask in (None, half):
        D, I = store.search("text", q, 50, None if mask is None else RowFilter(mask=mask))
        D0, I0 = stacked_per_query(store, "text", q, 50, mask)
        assert np.array_equal(I, I0) and np.array_equal(D, D0)
    assert set(moved.tolist()) & set(I[:, :5].ravel().tolist())  # the overlay rows do rank

    # a later write to an overlay row, and a new overlay row, are searched at once
    store.upsert("text", moved[:1], x[moved[:1]] * 0 + q[:1])
    assert store.search("text", q[:1], 1)[1].tolist() == [[int(moved[0])]]
    fresh = np.setdiff1d(np.arange(len(x)), moved)[:1]
    store.upsert("text", fresh, q[1:2])
    assert store.search("text", q[1:2], 1)[1].tolist() == [[int(fresh[0])]]
    store.delete("text", moved[1:3])  # deleted overlay rows: the rest of the overlay is searched
    for mask in (None, half):
        D, I = store.search("text", q, 50, None if mask is None else RowFilter(mask=mask))
        allowed = ~store.deleted("text") if mask is None else mask & ~store.deleted("text")
        D0, I0 = stacked_per_query(store, "text", q, 50, allowed)
        assert np.array_equal(I, I0) and np.array_equal(D, D0)
        assert not set(moved[1:3].tolist()) & set(I.ravel().tolist())
