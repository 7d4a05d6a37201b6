"""The `VectorStore` contract, run against every registered backend (`backend_names()`).

Exact specs (Flat) everywhere, so every backend must give the brute-force answer: the best rows by
inner product, only allowed and undeleted ones, the same after save + reopen.
"""

from __future__ import annotations

import numpy as np
import pytest

from indexer.vector_store import FieldSpec, RowFilter, VectorStore, backend_names, create_store, open_store

N_TEXT, N_IMAGE = 1000, 300
DIMS = {"text": 16, "image": 8}


def unit_vectors(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=backend_names())
def backend(request) -> str:
    return request.param


@pytest.fixture
def data() -> dict[str, np.ndarray]:
    return {"text": unit_vectors(N_TEXT, DIMS["text"], 1), "image": unit_vectors(N_IMAGE, DIMS["image"], 2)}


@pytest.fixture
def store(backend, data, tmp_path):
    s = create_store(backend, data, {name: FieldSpec("Flat") for name in data}, tmp_path, device="cpu")
    yield s
    s.close()


def brute_force(x: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
    scores = x @ q
    rows = np.arange(len(x)) if allowed is None else np.flatnonzero(allowed)
    return rows[np.argsort(-scores[rows], kind="stable")][:k].tolist()


def hits(I: np.ndarray) -> list[int]:
    return [int(i) for i in I[0] if i >= 0]


def test_is_a_vector_store_with_its_fields(store: VectorStore, backend, data):
    assert isinstance(store, VectorStore) and store.backend == backend
    assert set(store.fields()) == {"text", "image"}
    assert (store.dim("text"), store.dim("image")) == (16, 8)
    assert (store.count("text"), store.count("image")) == (N_TEXT, N_IMAGE)


def test_search_returns_the_exact_top_k_by_inner_product(store, data):
    q = data["text"][[5, 17]]
    D, I = store.search("text", q, 10)
    assert I.shape == D.shape == (2, 10)
    for j in range(2):
        assert I[j].tolist() == brute_force(data["text"], q[j], 10)
        assert np.allclose(D[j], data["text"][I[j]] @ q[j], atol=1e-4)
    assert np.all(np.diff(D, axis=1) <= 1e-6)


@pytest.mark.parametrize("fraction", [0.01, 0.2, 0.9])
def test_filtered_search_returns_only_and_the_best_allowed_rows(store, data, fraction):
    rng = np.random.default_rng(3)
    allowed = np.zeros(N_TEXT, bool)
    allowed[rng.choice(N_TEXT, int(fraction * N_TEXT), replace=False)] = True
    q = unit_vectors(1, 16, 4)
    _, I = store.search("text", q, 20, RowFilter(mask=allowed))
    found = hits(I)
    assert found == brute_force(data["text"], q[0], 20, allowed)
    assert len(found) == min(20, allowed.sum()) and allowed[found].all()


def test_nothing_allowed_means_no_hits(store):
    _, I = store.search("image", unit_vectors(1, 8, 5), 5, RowFilter(mask=np.zeros(N_IMAGE, bool)))
    assert hits(I) == []


def test_vectors_returns_the_stored_vectors(store, data):
    rows = np.array([0, 7, 299])
    assert np.allclose(store.vectors("image", rows), data["image"][rows], atol=1e-6)


def test_add_appends_rows_that_search_finds(store):
    new = unit_vectors(3, 8, 6)
    rows = store.add("image", new)
    assert rows.tolist() == [N_IMAGE, N_IMAGE + 1, N_IMAGE + 2] and store.count("image") == N_IMAGE + 3
    _, I = store.search("image", new[1:2], 1)
    assert hits(I) == [N_IMAGE + 1]


def test_upsert_replaces_a_row_in_place(store):
    target = unit_vectors(1, 16, 7)
    store.upsert("text", np.array([42]), target)
    assert store.count("text") == N_TEXT
    _, I = store.search("text", target, 1)
    assert hits(I) == [42]
    assert np.allclose(store.vectors("text", np.array([42])), target, atol=1e-6)


def test_deleted_rows_are_never_returned(store, data):
    q = data["text"][10:11]
    best = brute_force(data["text"], q[0], 5)
    store.delete("text", np.array(best[:2]))
    _, I = store.search("text", q, 5)
    assert hits(I) == brute_force(data["text"], q[0], 7)[2:7]
    allowed = np.zeros(N_TEXT, bool)
    allowed[best[:3]] = True
    _, I = store.search("text", q, 5, RowFilter(mask=allowed))
    assert hits(I) == best[2:3]


def test_save_and_reopen_keep_vectors_and_deletions(store, backend, data, tmp_path):
    store.delete("image", np.array([3]))
    new = unit_vectors(2, 8, 8)
    added = store.add("image", new)
    q = data["image"][3:4]
    before = store.search("image", q, 10)
    record = store.save(tmp_path)
    store.close()
    reopened = open_store(backend, tmp_path, record, device="cpu")
    try:
        assert reopened.count("image") == N_IMAGE + 2 and reopened.count("text") == N_TEXT
        after = reopened.search("image", q, 10)
        assert hits(after[1]) == hits(before[1]) and 3 not in hits(after[1])
        assert np.allclose(reopened.vectors("image", added), new, atol=1e-6)
        assert np.allclose(reopened.vectors("text", np.array([1, 2])), data["text"][[1, 2]], atol=1e-6)
    finally:
        reopened.close()


def test_stats_count_rows_per_field(store):
    store.delete("text", np.array([1, 2]))
    stats = store.stats()
    assert set(stats) >= {"text", "image"}
    assert stats["text"]["rows"] == N_TEXT and stats["image"]["rows"] == N_IMAGE
