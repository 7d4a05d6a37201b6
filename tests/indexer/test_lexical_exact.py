"""The compiled BM25 kernels against a plain numpy reference, result for result: the same rows, the same float32
scores bit for bit, the same order (higher score first, equal scores by ascending row), on a corpus made to trip
the fast paths: long lists of common words, many texts repeated word for word (ties at every rank, at the k-th
place too), words said twice in a row (one walk adds both), unit and other weights, every filter path."""

from __future__ import annotations

import numpy as np
import pytest

from indexer import lexical
from indexer.lexical import LexicalIndex

N_DOCS = 12_000
WORDS = [f"w{i}" for i in range(40)]  # w0 in about half the texts, w39 in about 1%


@pytest.fixture(scope="module")
def corpus() -> LexicalIndex:
    rng = np.random.default_rng(11)
    freq = 1 / np.arange(1, len(WORDS) + 1) ** 0.9
    texts: list[str] = []
    for i in range(N_DOCS):
        if i % 3 == 0 and texts:  # a third repeat an earlier text: equal scores everywhere
            texts.append(texts[int(rng.integers(len(texts)))])
        else:
            texts.append(" ".join(rng.choice(WORDS, int(rng.integers(1, 9)), p=freq / freq.sum())))
    return LexicalIndex.build(texts)


QUERIES = ["w0 w1", "w0 w1 w2 w3", "w30 w0 w1", "w0", "w39 w38", "w5 w5 w0", "w1 w0 w0 w0 w20 w2",
           "w0 w1 w0", "w39 w0 w1 w2 w3 w4 w5 w6", "zzz", "zzz w0 qq w0", "w2 w2", "w0 w0 w0 w1 w1"]


def reference(index: LexicalIndex, term_ids: np.ndarray, weights: np.ndarray, k: int,
              allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Term by term in the query's order, float32 adds of float32(stored score x weight) for the positive ones,
    then every positive sum sorted by (score descending, row ascending)."""
    data, indices, indptr = index._data, index._indices, index._indptr
    acc = np.zeros(index.n_docs, np.float32)
    for t, w in zip(term_ids, weights, strict=True):
        rows = indices[indptr[t]:indptr[t + 1]]
        v = (data[indptr[t]:indptr[t + 1]].astype(np.float64) * w).astype(np.float32)
        keep = v > 0 if allowed is None else (v > 0) & allowed[rows]
        acc[rows[keep]] += v[keep]  # a row once per term: one float32 add each
    positive = np.flatnonzero(acc > 0)
    best = positive[np.lexsort((positive, -acc[positive]))][:k]
    return acc[best], best


def _masks() -> list[np.ndarray | None]:
    rng = np.random.default_rng(5)
    return [None, rng.random(N_DOCS) < 0.01, rng.random(N_DOCS) < 0.3, np.zeros(N_DOCS, bool)]


def assert_identical(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> None:
    assert got[1].tolist() == want[1].tolist()
    assert got[0].dtype == np.float32 and np.array_equal(got[0], want[0])  # bit for bit, not within a tolerance


# (rows, track): always intersect with the allowed rows; walk postings and scan the dense sums; walk postings and
# track the rows reached; the default cost model
PATHS = [(0, 8), (10**9, 0), (10**9, 10**9), (lexical.ROWS_COST_FACTOR, lexical.TRACK_FACTOR)]


@pytest.mark.parametrize(("rows", "track"), PATHS)
def test_every_path_equals_the_reference(corpus, monkeypatch, rows, track):
    monkeypatch.setattr(lexical, "ROWS_COST_FACTOR", rows)
    monkeypatch.setattr(lexical, "TRACK_FACTOR", track)
    for query in QUERIES:
        ids = corpus.term_ids(query)
        for allowed in _masks():
            for k in (1, 7, 300, N_DOCS + 10):  # k beyond the matches too
                assert_identical(corpus.search(query, k, allowed), reference(corpus, ids, np.ones(len(ids)), k, allowed))


@pytest.mark.parametrize(("rows", "track"), PATHS)
def test_weights_equal_the_reference(corpus, monkeypatch, rows, track):
    """The live delta's weights (float64, the product rounded to float32), mixed with unit ones in repeated words."""
    monkeypatch.setattr(lexical, "ROWS_COST_FACTOR", rows)
    monkeypatch.setattr(lexical, "TRACK_FACTOR", track)
    rng = np.random.default_rng(9)
    for query in QUERIES:
        ids = corpus.term_ids(query)
        for _ in range(3):
            weights = np.where(rng.random(len(ids)) < 0.5, 1.0, rng.uniform(0.2, 3.0, len(ids)))
            for allowed in _masks()[:3]:
                for k in (1, 50, 2000):
                    assert_identical(corpus.search_ids(ids, weights, k, allowed),
                                     reference(corpus, ids, weights, k, allowed))


def test_a_word_said_twice_adds_twice(corpus):
    """"w2 w2" is not "w2": each occurrence adds its score (bm25s counts a term once per occurrence)."""
    once, twice = corpus.search("w2", N_DOCS), corpus.search("w2 w2", N_DOCS)
    assert once[1].tolist() == twice[1].tolist()
    assert np.array_equal(twice[0], once[0] + once[0])


def test_scratch_left_zeroed(corpus):
    for query in QUERIES:
        for allowed in _masks():
            corpus.search(query, 20, allowed)
            assert all(not s.any() for s in corpus._scratch.idle)


def test_gallop_is_a_lower_bound():
    from indexer.lexical_kernels import _gallop

    arr = np.array([1, 3, 3, 5, 8, 13, 21, 34, 55, 89], np.int32)
    for lo in range(len(arr) + 1):
        for hi in range(lo, len(arr) + 1):
            for value in range(-1, 92):
                assert _gallop(arr, lo, hi, value) == lo + int(np.searchsorted(arr[lo:hi], value))
