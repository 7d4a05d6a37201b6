"""The live delta's compiled vector scan and its append-only postings (what a search reads per snapshot)."""

from __future__ import annotations

import numpy as np

from indexer.live.arrays import Postings
from indexer.live.kernels import delta_top
from indexer.live.lexical import DeltaTerms


def test_delta_top_equals_a_stable_sort_of_the_allowed_inner_products():
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((500, 16)).astype(np.float32)
    vectors[100:110] = vectors[5]  # ties: the lower row first, as a stable sort gives
    query = rng.standard_normal(16).astype(np.float32)
    allowed = rng.random(500) > 0.3
    allowed[[5, 100, 104]] = True
    for k in (1, 10, 300, 1000):
        rows, scores = delta_top(vectors, query, allowed, k)
        exact = (vectors @ query).astype(np.float64)
        exact[~allowed] = -np.inf
        order = np.argsort(-exact, kind="stable")[:min(k, int(allowed.sum()))]
        assert rows.tolist() == order.tolist()
        np.testing.assert_allclose(scores, exact[order], rtol=1e-5, atol=1e-5)
    rows, scores = delta_top(vectors[:0], query, allowed[:0], 5)
    assert len(rows) == len(scores) == 0
    assert len(delta_top(vectors, query, np.zeros(500, bool), 5)[0]) == 0


def test_postings_below_a_snapshot_count_do_not_change_as_documents_are_added():
    posting = Postings()
    for position in (0, 3, 7, 20):
        posting.add(position, position + 1)
    rows, values = posting.below(8)
    for position in range(21, 200):  # grows its buffers several times
        posting.add(position, 1)
    assert rows.tolist() == [0, 3, 7] and values.tolist() == [1, 4, 8]
    again_rows, again_values = posting.below(8)
    assert again_rows.tolist() == [0, 3, 7] and again_values.tolist() == [1, 4, 8]
    assert len(posting.below(1000)[0]) == 4 + 179


def test_delta_terms_rows_and_counts_of_a_term_for_live_documents_only():
    terms = DeltaTerms.empty()
    terms.append(["red", "shirt", "red"])
    terms.append(["blue", "shirt"])
    terms.append(["red"])
    live = np.array([True, True, False])
    rows, tf = terms.term_rows("red", 3, live)
    assert rows.tolist() == [0] and tf.tolist() == [2.0]
    rows, tf = terms.term_rows("shirt", 1, live)  # a snapshot of the first document only
    assert rows.tolist() == [0] and tf.tolist() == [1.0]
    assert terms.term_rows("green", 3, live)[0].tolist() == []
    assert [terms.length(i) for i in range(3)] == [3, 2, 1]
