"""The compiled `attributes` scoring (`search.attribute_kernels`) against its numpy reference, exactly: the same
rows and the same float64 scores for random queries (many groups, several values a group, random confidences so
that scores fall in many tiers), masks, depths and row counts; and the relevant-set mask the same way."""

from __future__ import annotations

import numpy as np
import pytest
from test_latency_equivalence import PRODUCTS, QUERIES, SYNONYMS

from search.attribute_scoring import _reference_top_scored
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
