"""The faster `attributes` retrieval, relevant-set count and ranker features/prediction give exactly what the
code before them gave (issue #13's latency work must not change a result). The ``reference_*`` functions are
that earlier code, copied unchanged but for the order among rows exactly tied at the candidate depth (now by row,
defined); every comparison is exact (array equality, NaN where NaN)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from indexer.catalog import Product
from search.attribute_scoring import TIE_BREAK, retrieve_attributes
from search.fusion import Run
from search.ranker import ProductWords, QueryInfo, build_features, feature_names, train_ranker
from search.synonyms import parse_synonyms
from search.understanding import ParsedQuery, QueryUnderstanding

GENDERS = ("Men", "Women", "Unisex", "Boys")
COLOURS = ("Red", "Navy Blue", "Blue", "Black", "White", "Off White", "Green")
TYPES = (("Apparel", "Topwear", "Shirts"), ("Apparel", "Topwear", "Tshirts"), ("Footwear", "Shoes", "Casual Shoes"),
         ("Footwear", "Shoes", "Sports Shoes"), ("Accessories", "Bags", "Handbags"), ("Apparel", "Dresses"))
BRANDS = ("Acme", "Birch", "Cedar", "Dune")
SYNONYMS = "ladies => Women\nnavy => Navy Blue, Blue\nsneakers => Sports Shoes, Casual Shoes\nshoe => Shoes\n"


def _catalog(n: int = 600, seed: int = 3) -> list[Product]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):  # skewed like a shop: "Men" and "Black" are common
        g = GENDERS[min(int(rng.exponential(0.9)), 3)]
        c = COLOURS[min(int(rng.exponential(1.8)), 6)]
        t = TYPES[int(rng.integers(len(TYPES)))]
        b = BRANDS[int(rng.integers(len(BRANDS)))]
        out.append(Product(id=f"p{i}", title=f"{b} {c} {t[-1]} for {g} {i}", brand=b, category=list(t),
                           attributes={"gender": g, "baseColour": c, "usage": "Casual" if i % 3 else "Sports"}))
    return out


PRODUCTS = _catalog()
QUERIES = ["men", "black", "dress", "men black shirts", "ladies navy handbags", "navy", "sneakers for men",
           "women white off white dress", "acme casual shoes", "sports", "unisex green tshirts acme",
           "blue", "boys red", "shoe", "nothing here", "men men", "birch black sports shoes for women"]


@pytest.fixture(scope="module")
def qu() -> QueryUnderstanding:
    return QueryUnderstanding.build(PRODUCTS, parse_synonyms(SYNONYMS))


# -- the code before (reference) ---------------------------------------------------------------------------
def reference_retrieve_attributes(ctx, parsed: ParsedQuery) -> Run:
    u = ctx.searcher.understanding
    scores = u.match_scores(parsed, ctx.searcher.index.n_products)
    if ctx.mask is not None:
        scores[~ctx.mask] = 0.0
    candidates = np.flatnonzero(scores > 0)
    if not len(candidates):
        return Run(np.zeros(0, np.int64), np.zeros(0, np.float64))
    keep = scores > 0
    if len(candidates) > ctx.depth:
        values = scores[candidates]
        keep = scores >= np.partition(values, len(values) - ctx.depth)[len(values) - ctx.depth]
    final = np.where(keep, scores, 0.0)
    if ctx.text is not None:
        lexical = ctx.search_lexical(ctx.text)
        if len(lexical) and float(lexical.scores.max()) > 0:
            bonus = TIE_BREAK * lexical.scores / float(lexical.scores.max())
            final[lexical.docs] += np.where(keep[lexical.docs], bonus, 0.0)
    rows = np.flatnonzero(keep)
    # The first `depth` by final score, then row: the tie order defined when the compiled walk learnt to stop early
    # (this earlier code took an arbitrary `np.argpartition` choice among exactly tied rows at the depth).
    order = np.lexsort((rows, -final[rows]))[:ctx.depth]
    final = final[rows]
    return Run(rows[order].astype(np.int64), final[order])


def reference_signal_columns(run: Run, docs: np.ndarray, slot: np.ndarray):
    n = len(docs)
    score, rrank, norm = np.full(n, np.nan), np.zeros(n), np.zeros(n)
    if not len(run) or not n:
        return score, rrank, norm
    at = slot[run.docs]
    pos = np.flatnonzero(at >= 0)
    where = at[pos]
    s = run.scores.astype(np.float64, copy=False)
    lo, hi = float(s.min()), float(s.max())
    score[where] = s[pos]
    rrank[where] = 1.0 / (pos + 1)
    norm[where] = (s[pos] - lo) / (hi - lo) if hi > lo else 1.0
    return score, rrank, norm


def reference_build_features(runs, fused: Run, query: QueryInfo, product_words, has_photo, signals) -> np.ndarray:
    from search.ranker import _slots, words

    docs = fused.docs.astype(np.int64)
    n = len(docs)
    columns: list[np.ndarray] = []
    slot = _slots(docs, [r for r in runs.values() if len(r)]) if n else None
    for name in signals:
        run = runs.get(name)
        if run is None:
            columns += [np.full(n, np.nan), np.zeros(n), np.zeros(n)]
        else:
            columns += list(reference_signal_columns(run, docs, slot))
    top = float(fused.scores[0]) if n and fused.scores[0] != 0 else 1.0
    columns += [fused.scores / top, 1.0 / np.arange(1, n + 1)]
    q = words(query.text)
    overlap = product_words.overlaps(q, docs) / max(len(q), 1)
    columns += [np.full(n, float(len(q))), *overlap.T]
    columns += [np.full(n, float(query.text is not None)), np.full(n, float(query.has_photo)),
                np.full(n, float(query.has_product)), has_photo[docs].astype(np.float64)]
    return np.column_stack(columns) if n else np.zeros((0, len(columns)))


# -- helpers ---------------------------------------------------------------------------------------------
def _ctx(qu: QueryUnderstanding, n: int, depth: int, mask, text, lexical: Run):
    searcher = SimpleNamespace(understanding=qu, index=SimpleNamespace(n_products=n))
    return SimpleNamespace(searcher=searcher, depth=depth, mask=mask, text=text, product_row=None,
                           search_lexical=lambda _t: lexical)


def _lexical(rng: np.random.Generator, n: int, size: int, ties: bool) -> Run:
    docs = rng.choice(n, size=min(size, n), replace=False).astype(np.int64)
    scores = rng.integers(1, 4, len(docs)).astype(np.float64) if ties else rng.random(len(docs)) * 9
    order = np.lexsort((docs, -scores))
    return Run(docs[order], scores[order])


def assert_same_run(new: Run, old: Run) -> None:
    assert new.docs.dtype == old.docs.dtype and np.array_equal(new.docs, old.docs)
    assert new.scores.dtype == old.scores.dtype and np.array_equal(new.scores, old.scores)


# -- the tests ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("depth", [1, 7, 40, 150, 1000])
def test_attributes_run_is_unchanged(qu, depth, compiled, monkeypatch):
    """Numpy (this small catalog's path) and compiled (the kernels' first `depth` rows, which may stop early, and
    the lexical rows tied with the last of them) alike."""
    monkeypatch.setattr(qu, "compiled_from_rows", 0 if compiled else QueryUnderstanding.compiled_from_rows)
    assert qu._compiled() == compiled
    rng = np.random.default_rng(depth)
    n = len(PRODUCTS)
    compared = 0
    for text in QUERIES:
        parsed = qu.parse(text)
        if not parsed:
            continue
        for trial in range(6):
            mask = None if trial % 3 == 0 else rng.random(n) < (0.5 if trial % 3 == 1 else 0.05)
            lexical = _lexical(rng, n, [0, 30, 400][trial % 3], ties=trial % 2 == 0)
            typed = None if trial == 5 else text
            for rows in (n, n + 25):  # live rows past the vocabulary's hold nothing
                m = None if mask is None else np.concatenate([mask, np.ones(rows - n, bool)])
                old = reference_retrieve_attributes(_ctx(qu, rows, depth, m, typed, lexical), parsed)
                new = retrieve_attributes(_ctx(qu, rows, depth, m, typed, lexical), parsed)
                assert_same_run(new, old)
                compared += len(old)
    assert compared > 0


def test_holders_scores_are_match_scores(qu):
    for text in QUERIES:
        parsed = qu.parse(text)
        dense = qu.match_scores(parsed, len(PRODUCTS))
        rows, scores = qu.holders_scores(parsed, len(PRODUCTS))
        assert np.array_equal(rows, np.flatnonzero(dense > 0)) and np.array_equal(scores, dense[rows])


def _runs(rng: np.random.Generator, n: int) -> tuple[dict[str, Run], Run]:
    runs = {}
    for name, size in (("lexical", 120), ("semantic", 150), ("attributes", 90), ("visual", 0)):
        docs = rng.choice(n, size=size, replace=False).astype(np.int64)
        scores = np.sort(rng.random(size).astype(np.float32))[::-1].astype(np.float64) * 3
        runs[name] = Run(docs, scores)
    fused_docs = np.unique(np.concatenate([r.docs for r in runs.values()]))
    rng.shuffle(fused_docs)
    fused_scores = np.sort(rng.random(len(fused_docs)))[::-1]
    return runs, Run(fused_docs, fused_scores)


def test_ranker_features_and_scores_are_unchanged():
    rng = np.random.default_rng(13)
    n = len(PRODUCTS)
    words = ProductWords(PRODUCTS)
    has_photo = rng.random(n) < 0.8
    signals = ["lexical", "semantic", "visual", "image", "attributes"]
    queries = [QueryInfo(t, i % 4 == 1, i % 5 == 2) for i, t in enumerate(QUERIES)] + [QueryInfo(None, True, False)]
    train_x, train_y, features = [], [], []
    for query in queries:
        runs, fused = _runs(rng, n)
        for depth in (200, 37, 1):
            head = Run(fused.docs[:depth], fused.scores[:depth])
            old = reference_build_features(runs, head, query, words, has_photo, signals)
            new = build_features(runs, head, query, words, has_photo, signals)
            assert new.shape == old.shape == (len(head), len(feature_names(signals)))
            assert np.array_equal(new, old, equal_nan=True)
            features.append(new)
        train_x.append(features[-3])
        train_y.append(rng.integers(0, 3, len(features[-3])))
    empty = Run(np.zeros(0, np.int64), np.zeros(0))
    assert build_features({}, empty, queries[0], words, has_photo, signals).shape == (0, len(feature_names(signals)))
    ranker = train_ranker(train_x, train_y, signals, rounds=30)
    assert ranker._predict is not None  # the direct call is what is being checked
    for x in features:
        old = np.asarray(ranker.booster.predict(np.ascontiguousarray(x), num_threads=1), np.float64)
        assert np.array_equal(ranker.score(x), old)  # column-major, as build_features makes it
        assert np.array_equal(ranker.score(np.ascontiguousarray(x)), old)  # row-major
        assert np.array_equal(ranker.score(x[::2]), old[::2])  # neither (copied)


@pytest.mark.parametrize("tiers", [1, 3, 8, 9, 50, 10_000])
def test_best_tiers_is_the_partition_threshold(tiers):
    from search.attribute_scoring import _best_tiers

    rng = np.random.default_rng(tiers)
    values = rng.integers(1, tiers + 1, 5000) * 0.9 + 0.1
    for depth in (1, 10, 1000, 4999):
        old = values >= np.partition(values, len(values) - depth)[len(values) - depth]
        assert np.array_equal(_best_tiers(values, depth), old)
