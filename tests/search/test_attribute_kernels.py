"""The compiled `attributes` scoring (`search.attribute_kernels`) against its numpy reference, exactly: the same
rows and the same float64 scores for random queries (many groups, several values a group, random confidences so
that scores fall in many tiers), masks, depths and row counts; and the relevant-set mask the same way."""

from __future__ import annotations

import numpy as np
import pytest
from test_latency_equivalence import PRODUCTS, QUERIES, SYNONYMS

from indexer.vector_index import kth_largest
from search.attribute_scoring import _best_tiers, _reference_top_scored, first_kept
from search.understanding import Group, Match, ParsedQuery, QueryUnderstanding


@pytest.fixture(scope="module")
def qu() -> QueryUnderstanding:
    from search.synonyms import parse_synonyms

    understanding = QueryUnderstanding.build(PRODUCTS, parse_synonyms(SYNONYMS))
    understanding.compiled_from_rows = 0  # the kernels at any size (a catalog this small is scored by numpy)
    assert understanding._compiled()
    return understanding


def test_small_catalogs_are_scored_by_numpy_and_large_ones_by_the_kernels():
    from search.synonyms import parse_synonyms

    understanding = QueryUnderstanding.build(PRODUCTS, parse_synonyms(SYNONYMS))
    assert len(PRODUCTS) < QueryUnderstanding.compiled_from_rows and not understanding._compiled()
    understanding.prepare()
    assert "_postings" not in understanding.__dict__  # no kernel lists built for it
    understanding.compiled_from_rows = len(PRODUCTS)
    assert understanding._compiled()


def _values(qu: QueryUnderstanding) -> list[tuple[str, int]]:
    return [(name, code) for name, f in qu.vocabulary.fields.items() for code in range(len(f.values))]


def _random_query(qu: QueryUnderstanding, rng: np.random.Generator, values: list[tuple[str, int]]) -> ParsedQuery:
    groups = []
    for _ in range(int(rng.integers(1, 6))):
        picks = rng.choice(len(values), size=int(rng.integers(1, 4)), replace=False)
        confidence = rng.choice([1.0, 0.9, 0.8, 0.72, float(np.round(rng.random(), 3)) + 0.001])
        matches = tuple(Match(values[i][0], qu.vocabulary.value(*values[i]), values[i][1],
                              float(confidence if j == 0 else rng.choice([1.0, 0.9, 0.64])), "value")
                        for j, i in enumerate(picks))
        groups.append(Group("w", None, matches))
    return ParsedQuery(tuple(groups))


def _same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> None:
    assert a[0].dtype == b[0].dtype == np.int64 and np.array_equal(a[0], b[0])
    assert a[1].dtype == b[1].dtype == np.float64 and np.array_equal(a[1], b[1])  # bit for bit
    assert np.all(np.diff(a[0]) > 0)


@pytest.mark.parametrize("seed", range(6))
def test_top_scored_is_the_numpy_reference(qu, seed):
    rng = np.random.default_rng(seed)
    values = _values(qu)
    n0 = len(PRODUCTS)
    queries = [qu.parse(t) for t in QUERIES] + [_random_query(qu, rng, values) for _ in range(60)]
    compared = 0
    for parsed in queries:
        for n in (n0, n0 + 17, n0 // 2):  # live rows past the vocabulary's; fewer rows than the vocabulary
            for mask in (None, rng.random(n) < 0.5, rng.random(n) < 0.03):
                for depth in (1, 5, 40, 300, 5000):
                    new = qu.top_scored(parsed, n, mask, depth)
                    old = _reference_top_scored(qu, parsed, n, mask, depth) if parsed else (
                        np.zeros(0, np.int64), np.zeros(0, np.float64))
                    _same(new, (np.asarray(old[0], np.int64), old[1]))
                    compared += len(new[0])
    assert compared > 10_000
    assert not qu._scratch._free or not any(a.any() for a in qu._scratch._free)  # scratch given back zeroed


def test_many_tiers_fall_back_to_a_sort(qu):
    """Nine groups of distinct confidences: more score tiers than `MAX_TIERS` above the depth-th best."""
    values = _values(qu)
    rng = np.random.default_rng(99)
    groups = tuple(Group("w", None, (Match(*values[i][:1], qu.vocabulary.value(*values[i]), values[i][1],
                                           0.5 + 0.05 * k, "value"),))
                   for k, i in enumerate(rng.choice(len(values), 9, replace=False)))
    parsed = ParsedQuery(groups)
    for depth in (50, 200, 400):
        _same(qu.top_scored(parsed, len(PRODUCTS), None, depth),
              _reference_top_scored(qu, parsed, len(PRODUCTS), None, depth))


@pytest.mark.parametrize("seed", range(3))
def test_matching_mask_is_the_numpy_reference(qu, seed):
    rng = np.random.default_rng(seed)
    values = _values(qu)
    queries = [qu.parse(t) for t in QUERIES] + [_random_query(qu, rng, values) for _ in range(60)]
    for parsed in queries:
        for skip in (frozenset(), {"colour"}, {"gender", "brand", "category"}):
            for n in (None, len(PRODUCTS) + 9, len(PRODUCTS) // 3):
                new, old = qu.matching_mask(parsed, skip, n), qu.reference_matching_mask(parsed, skip, n)
                assert (new is None and old is None) or np.array_equal(new, old)


def test_replaced_holders_are_used(qu):
    """`search.live` replaces `_holders` (live rows' values): the kernels' own lists would miss those rows."""
    import copy

    live = copy.copy(qu)
    base = qu._holders
    live._holders = lambda m: np.concatenate([base(m), [len(PRODUCTS) + 3]])  # type: ignore[method-assign]
    parsed = qu.parse("men black shirts")
    rows, _ = live.top_scored(parsed, len(PRODUCTS) + 5, None, 10_000)
    assert len(PRODUCTS) + 3 in rows.tolist()
    assert live.matching_mask(parsed, n=len(PRODUCTS) + 5)[len(PRODUCTS) + 3]


@pytest.mark.parametrize("seed", range(3))
def test_matching_count_is_the_reference_masks_count(qu, seed):
    """`matching_count` (the response's `total`, counted over the posting lists) is the reference mask's count within
    the filter's rows, for random queries whose groups name several values a row may hold together."""
    rng = np.random.default_rng(100 + seed)
    values = _values(qu)
    queries = [qu.parse(t) for t in QUERIES] + [_random_query(qu, rng, values) for _ in range(60)]
    counted = 0
    for parsed in queries:
        for skip in (frozenset(), {"colour"}, {"gender", "brand", "category"}):
            for n in (None, len(PRODUCTS) + 9, len(PRODUCTS) // 3):
                rows = len(PRODUCTS) if n is None else n
                for allowed in (None, rng.random(rows) < 0.5, np.zeros(rows, bool)):
                    old = qu.reference_matching_mask(parsed, skip, n)
                    new = qu.matching_count(parsed, skip, n, allowed)
                    if old is None:
                        assert new is None
                        continue
                    assert new == int(np.count_nonzero(old if allowed is None else old & allowed))
                    counted += new
    assert counted > 1000


# -- the early stop: a hand-made catalog where many rows hold every best value -------------------------------------
def _hand_made(n: int, seed: int):
    """``n`` rows: `type` (one value a row, type 0 common), `colour` (1-3 values a row: rows on several lists),
    `gender` (one value, or none); the kernels' lists and, per field, every row's values."""
    from search.attribute_postings import build_postings

    rng = np.random.default_rng(seed)
    held = {"type": [[int(rng.random() < 0.6) and int(rng.integers(1, 4))] for _ in range(n)],
            "colour": [sorted({int(c) for c in rng.integers(0, 4, int(rng.integers(1, 4)))}) for _ in range(n)],
            "gender": [[] if rng.random() < 0.1 else [int(rng.random() < 0.3)] for _ in range(n)]}
    fields = {}
    for name, per_row in held.items():
        pairs = sorted((code, r) for r, codes in enumerate(per_row) for code in codes)
        codes = np.array([c for c, _ in pairs], np.int64)
        offsets = np.searchsorted(codes, np.arange(int(codes.max()) + 2))
        fields[name] = (np.array([r for _, r in pairs], np.int64), offsets, codes)
    return build_postings(fields, n), fields, held


def _spans(fields, groups):
    return [[(name, code, conf, int(fields[name][1][code]), int(fields[name][1][code + 1])) for name, code, conf in g]
            for g in groups]


def _brute_scores(held, groups, factors, n):
    """Every row's score the way `match_scores` adds it (group by group, factor x the best confidence held)."""
    out = np.zeros(n)
    for r in range(n):
        total = 0.0
        for group, factor in zip(groups, factors, strict=True):
            best = max([conf for name, code, conf in group if code in held[name][r]], default=0.0)
            if best > 0.0:
                total += best * factor
        out[r] = total
    return out


def _brute_first(scores, n, mask, depth):
    """The first ``depth`` rows below ``n`` in ``mask`` scoring above 0, by score descending then row, ascending."""
    rows = np.flatnonzero((scores[:n] > 0) & (True if mask is None else mask))
    rows = np.sort(rows[np.lexsort((rows, -scores[rows]))[:depth]])
    return rows, scores[rows]


HAND_QUERIES = [  # (groups of (field, code, confidence), factors)
    ([[("type", 0, 1.0)], [("colour", 1, 1.0), ("colour", 2, 0.9)], [("gender", 0, 0.8)]], [3.0, 1.0, 1.0]),
    ([[("colour", 1, 1.0), ("colour", 2, 1.0)], [("gender", 0, 1.0)]], [1.0, 1.0]),  # the seed's rows on two lists
    ([[("colour", 0, 0.9), ("colour", 3, 1.0)]], [1.0]),  # one group of two values
    ([[("type", 0, 1.0)]], [1.0]),
    ([[("gender", 1, 1.0)], [("type", 2, 0.72)], [("colour", 3, 0.64), ("colour", 0, 0.64)]], [1.0, 3.0, 1.0]),
    ([[("type", 0, 1.0), ("type", 1, 1.0)], [("colour", 2, 0.9)], [("gender", 0, 1.0), ("gender", 1, 0.5)]],
     [3.0, 1.0, 1.0]),
    # The seed (the shortest lists) adds a share lost in the sum (1 + 1e-17 == 1): rows without it score the most
    # too, and are not on its lists: no early stop.
    ([[("type", 0, 1.0)], [("gender", 1, 1e-17)]], [1.0, 1.0]),
]


@pytest.mark.parametrize("seed", range(3))
def test_early_stop_gives_the_first_rows_by_score_then_row(seed):
    """Many more rows score the most a row can than the depth: the walk stops early and must still give exactly the
    first ``depth`` rows by score, then row (brute force), with masks, fewer rows than the lists', depths above the
    count of such rows (no early stop) and seeds whose rows lie on several lists; the scratch comes back zeroed."""
    from indexer.scratch import ScratchPool
    from search.attribute_kernels import top_rows
    from search.attribute_postings import query_lists

    n = 3000
    postings, fields, held = _hand_made(n, seed)
    rng = np.random.default_rng(seed)
    pool = ScratchPool(n)
    stopped_early = 0
    for groups, factors in HAND_QUERIES:
        lists = query_lists(postings, _spans(fields, groups), factors)
        scores = _brute_scores(held, groups, factors, n)
        most = scores.max()
        for rows in (n, n // 2, 7):
            for mask in (None, rng.random(rows) < 0.5, rng.random(rows) < 0.02):
                perfect = int(np.count_nonzero((scores[:rows] == most) & (True if mask is None else mask)))
                for depth in (1, 3, 40, 300, perfect, perfect + 1, 5000):
                    if depth < 1:
                        continue
                    got = top_rows(postings, lists, rows, mask, depth, pool)
                    want = _brute_first(scores, rows, mask, depth)
                    assert np.array_equal(got[0], want[0]) and got[0].dtype == np.int64
                    assert np.array_equal(got[1], want[1])  # bit for bit
                    stopped_early += depth <= perfect
    assert stopped_early > 100
    assert pool.idle and not any(a.any() for a in pool.idle)


@pytest.mark.parametrize("seed", range(2))
def test_scores_of_is_the_row_score(seed):
    from search.attribute_kernels import scores_of
    from search.attribute_postings import query_lists

    n = 500
    postings, fields, held = _hand_made(n, seed)
    rng = np.random.default_rng(seed)
    for groups, factors in HAND_QUERIES:
        lists = query_lists(postings, _spans(fields, groups), factors)
        scores = _brute_scores(held, groups, factors, n)
        docs = np.concatenate([rng.choice(n, 60, replace=False), [n, n + 5, -1]])
        for rows in (n, n // 2):
            mask = rng.random(rows) < 0.5
            for m in (None, mask):
                want = np.where((docs >= 0) & (docs < rows), scores[np.clip(docs, 0, n - 1)], 0.0)
                if m is not None:
                    want[(docs >= 0) & (docs < rows)] *= m[docs[(docs >= 0) & (docs < rows)]]
                assert np.array_equal(scores_of(postings, lists, docs, rows, m), want)


def test_compiled_and_reference_scores_of_agree(qu):
    rng = np.random.default_rng(5)
    values = _values(qu)
    n = len(PRODUCTS)
    for parsed in [qu.parse(t) for t in QUERIES] + [_random_query(qu, rng, values) for _ in range(30)]:
        docs = rng.choice(n + 10, 80, replace=False)
        mask = rng.random(n) < 0.6
        for m in (None, mask):
            got = qu.scores_of(parsed, docs, n, m)
            dense = qu.match_scores(parsed, n + 10)[docs]
            dense[docs >= n] = 0.0
            if m is not None:
                dense[docs < n] *= m[docs[docs < n]]
            assert np.array_equal(got, dense)
            qu.compiled = False
            try:
                assert np.array_equal(qu.scores_of(parsed, docs, n, m), dense)
            finally:
                qu.compiled = True


@pytest.mark.parametrize("compiled", [True, False])
def test_top_scored_adds_the_rows_tied_with_the_last_kept(qu, compiled, monkeypatch):
    """``also``'s rows come back too when they score as much as the depth-th kept row (they may pass it with a
    tie-break bonus), with their `match_scores`; compiled and numpy alike."""
    monkeypatch.setattr(qu, "compiled", compiled)
    rng = np.random.default_rng(11)
    n = len(PRODUCTS)
    added = 0
    for parsed in [qu.parse(t) for t in QUERIES] + [_random_query(qu, rng, _values(qu)) for _ in range(30)]:
        if not parsed:
            continue
        for mask in (None, rng.random(n) < 0.5):
            dense = qu.match_scores(parsed, n) * (1 if mask is None else mask)
            for depth in (1, 10, 100):
                more = np.sort(rng.choice(n, 40, replace=False))
                rows, values = qu.top_scored(parsed, n, mask, depth, also=lambda more=more: more)
                first, first_values = qu.top_scored(parsed, n, mask, depth)
                cut = first_values.min() if len(first) >= depth else np.inf
                want = np.union1d(first, more[(dense[more] > 0) & (dense[more] >= cut)])
                assert np.array_equal(rows, want) and np.array_equal(values, dense[want])
                added += len(rows) - len(first)
    assert added > 50


@pytest.mark.parametrize("shape", ["random", "tiers", "tiers and bonuses", "one value"])
def test_kth_largest_and_the_kept_rows_match_a_full_sort(shape):
    """The depth-th best score, as a sort finds it, on the shapes attribute scores take (a few tiers, a few rows
    lifted by the tie-break bonus) and on random values; first_kept keeps exactly depth rows, ties by position."""
    rng = np.random.default_rng(7)
    n = 5000
    values = {"random": rng.random(n), "tiers": rng.choice([0.9, 1.4, 1.8], n, p=[0.7, 0.29, 0.01]),
              "tiers and bonuses": np.r_[np.full(n - 40, 1.4), 1.4 + rng.random(40) / 100],
              "one value": np.full(n, 2.0)}[shape]
    for k in (1, 7, 300, n):
        want = float(np.sort(values)[::-1][k - 1])
        assert kth_largest(values, k) == want
        kept = first_kept(values.copy(), k)
        assert np.count_nonzero(kept) == k and values[kept].min() == want
        assert not (values[~kept] > want).any()  # nothing better left out
        tied = np.flatnonzero(values == want)
        assert kept[tied].tolist() == sorted(kept[tied].tolist(), reverse=True)  # the first tied positions kept
        if k < n:
            assert np.array_equal(_best_tiers(values, k), values >= want)
