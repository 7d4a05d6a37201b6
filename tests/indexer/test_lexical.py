"""The lexical index: built from token ids, it ranks and scores exactly as bm25s does from token strings, and its
compiled scoring gives bm25s's own retrieval's scores and ranking (any filter, either filter path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bm25s
import numpy as np
import pytest

from indexer import lexical
from indexer.catalog import Product, product_text
from indexer.lexical import LexicalIndex, tokenize

TEXTS = ["Red cotton T-shirt for men", "Blue denim jeans", "red red dress", "", "Navy blue t-shirt, women",
         "Leather shoes in black", "the and of"]


def _from_strings(texts: list[str]) -> LexicalIndex:
    retriever = bm25s.BM25()
    retriever.index([tokenize(t) or ["<empty>"] for t in texts], show_progress=False)
    return LexicalIndex(retriever, len(texts))


def test_ids_build_scores_like_a_string_build():
    ours, reference = LexicalIndex.build(TEXTS), _from_strings(TEXTS)
    mask = np.array([True, False, True, True, True, False, True])
    for query in ["red t-shirt", "tshirt", "blue", "shoes black", "unknownword", "the", ""]:
        for allowed in (None, mask):
            s1, d1 = ours.search(query, 5, allowed)
            s2, d2 = reference.search(query, 5, allowed)
            assert d1.tolist() == d2.tolist(), query
            np.testing.assert_allclose(s1, s2, rtol=1e-6)
    scores, docs = ours.search("red", 5)
    assert docs[0] == 2 and set(docs.tolist()) == {0, 2} and (scores > 0).all()


def test_ids_build_survives_save_and_load(tmp_path):
    LexicalIndex.build(TEXTS).save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.n_docs == len(TEXTS)
    assert loaded.search("denim", 3)[1].tolist() == [1]


# -- the compiled scoring against bm25s's own retrieval, on the fixture catalog ----------------------
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def fixture_index() -> LexicalIndex:
    products = [Product.model_validate(json.loads(line))
                for line in (FIXTURES / "catalog.jsonl").read_text().splitlines() if line.strip()]
    return LexicalIndex.build([product_text(p) for p in products])


def _queries() -> list[str]:
    rows = [json.loads(line) for line in (FIXTURES / "relevance" / "queries.jsonl").read_text().splitlines() if line.strip()]
    texts = [row["text"] for row in rows if row.get("text")]
    return [*texts, "shirt shirt men", "the", "qqqq unknown", "", "T-Shirt RED red"]


def _masks(n: int) -> list[np.ndarray | None]:
    rng = np.random.default_rng(7)
    return [None, rng.random(n) < 0.01, rng.random(n) < 0.1, rng.random(n) < 0.6, np.zeros(n, bool)]


def assert_same_ranking(new: tuple[np.ndarray, np.ndarray], old: tuple[np.ndarray, np.ndarray], k: int) -> None:
    """Same scores rank by rank (within 1e-5) and the same documents, up to the order of equal scores
    (bm25s orders ties arbitrarily) and which of the tied documents at the k-th place made the cut."""
    (s1, d1), (s2, d2) = new, old
    assert len(s1) == len(s2)
    order = np.argsort(-s2, kind="stable")
    s2, d2 = s2[order], d2[order]
    np.testing.assert_allclose(s1, s2, rtol=0, atol=1e-5)
    if not len(s1):
        return
    cut = s1[-1]
    full = s2 > cut + 1e-5 if len(s1) == k else np.ones(len(s2), bool)  # ties at the cut may differ
    assert set(d1[s1 > cut + 1e-5 if len(s1) == k else slice(None)].tolist()) == set(d2[full].tolist())
    assert np.all(np.diff(s1) <= 0)


# (rows, track): always intersect with the allowed rows; walk postings and scan the dense scores; walk postings
# and track the rows reached; the default cost model
@pytest.mark.parametrize(("rows", "track"), [(0, 8), (10**9, 0), (10**9, 10**9), (16, 8)])
def test_compiled_search_equals_bm25s(fixture_index, monkeypatch, rows, track):
    monkeypatch.setattr(lexical, "ROWS_COST_FACTOR", rows)
    monkeypatch.setattr(lexical, "TRACK_FACTOR", track)
    for query in _queries():
        for allowed in _masks(fixture_index.n_docs):
            for k in (1, 10, 1000):
                new = fixture_index.search(query, k, allowed)
                assert_same_ranking(new, fixture_index.reference_search(query, k, allowed), k)
                if allowed is not None:
                    assert allowed[new[1]].all(), "a refused row came back"
                assert (new[0] > 0).all() and len(set(new[1].tolist())) == len(new[1])


def test_scores_are_bm25s_sums(fixture_index):
    """Every score equals the sum of bm25s's stored per-term scores (bit for bit: same float32 adds)."""
    retriever = fixture_index.retriever
    for query in _queries():
        scores, docs = fixture_index.search(query, 1000)
        if len(docs):
            full = retriever.get_scores(tokenize(query))
            assert np.array_equal(scores, full[docs])
            assert np.count_nonzero(full > 0) == len(docs)


def test_equal_scores_rank_by_row(fixture_index):
    scores, docs = fixture_index.search("shirt", 1000)
    for s in np.unique(scores):
        tied = docs[scores == s]
        assert tied.tolist() == sorted(tied.tolist())


def test_weighted_term_ids(fixture_index):
    """The live delta's hook: each term's contribution times its weight."""
    retriever = fixture_index.retriever
    ids = fixture_index.term_ids("red t-shirt")
    weights = np.linspace(0.5, 2.0, len(ids))
    expected = sum(retriever.get_scores_from_ids([int(t)]).astype(np.float64) * w for t, w in zip(ids, weights, strict=True))
    allowed = np.random.default_rng(3).random(fixture_index.n_docs) < 0.5
    scores, docs = fixture_index.search_ids(ids, weights, 1000, allowed)
    assert allowed[docs].all() and set(docs.tolist()) == set(np.flatnonzero((expected > 0) & allowed).tolist())
    np.testing.assert_allclose(scores, expected[docs], rtol=1e-5)


def test_wrong_mask_length_is_refused(fixture_index):
    with pytest.raises(ValueError, match="rows"):
        fixture_index.search("red", 5, np.ones(3, bool))


def test_save_load_roundtrip_searches_the_same(fixture_index, tmp_path):
    fixture_index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.n_docs == fixture_index.n_docs
    assert loaded._rows_sorted is True
    for query in _queries():
        for allowed in _masks(loaded.n_docs):
            a, b = loaded.search(query, 50, allowed), fixture_index.search(query, 50, allowed)
            assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_load_compiles_the_kernels_before_any_search(fixture_index, tmp_path):
    """In a fresh process (this one has compiled them already): after `load`, both kernels are ready."""
    fixture_index.save(tmp_path)
    code = ("import sys; from pathlib import Path; from indexer.lexical import LexicalIndex; "
            "from indexer import lexical_kernels as k; LexicalIndex.load(Path(sys.argv[1])); "
            "print(len(k.score_postings.signatures), len(k.score_rows.signatures))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300,
                         cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1"]


def _tokenize_before(text: str) -> list[str]:
    """tokenize as it was before the anchored hyphen pattern (the look-behind must change no token)."""
    import re

    lowered = text.lower()
    tokens = [t for t in lexical.TOKEN_RE.findall(lowered) if t not in lexical.STOPWORDS]
    return tokens + [w.replace("-", "") for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", lowered)]


def test_tokenize_hyphens_unchanged():
    products = [Product.model_validate(json.loads(line))
                for line in (FIXTURES / "catalog.jsonl").read_text().splitlines() if line.strip()]
    tricky = ["x--a-b", "a-b-", "-a-b", "T-Shirt", "ab-cd-ef gh-", "é-a-b", "a_b-c", "1-2-3", "a--b", "x-ü-y",
              "Off-White anti-fit t-shirt", "re-re-re-issue", "---", "a-", "-"]
    for text in [*tricky, *(product_text(p) for p in products)]:
        assert tokenize(text) == _tokenize_before(text), text
    assert tokenize("Red T-Shirt") == ["red", "t", "shirt", "tshirt"]


@pytest.mark.parametrize("k", [1, 10, 1000, 5000])
def test_top_k_positive_is_exact_with_ties(k):
    """The dense selection (one pass in row order) keeps exactly the true top k, ties by ascending row."""
    from indexer import lexical_kernels

    rng = np.random.default_rng(k)
    for values in (rng.integers(0, 50, 300_000).astype(np.float32),  # heavy ties, a third zero-ish
                   np.where(rng.random(300_000) < 0.002, rng.random(300_000), 0).astype(np.float32),  # few positive
                   np.sort(rng.random(300_000)).astype(np.float32)):  # the best rows all at the end
        scores, rows = lexical_kernels.top_k_positive(values, k)
        positive = np.flatnonzero(values > 0)
        expected = positive[np.lexsort((positive, -values[positive]))][:k]
        assert rows.tolist() == expected.tolist()
        assert np.array_equal(scores, values[expected])


def test_searches_leave_the_scratch_zeroed(fixture_index):
    """Each search borrows one zeroed array of every row for its sums and gives it back zeroed (both the tracked and
    the dense-scan paths): search after search, results stay the reference's."""
    from indexer import lexical

    for track_factor in (0, 10**9):  # every search tracks its rows; none does (the dense scan)
        old, lexical.TRACK_FACTOR = lexical.TRACK_FACTOR, track_factor
        try:
            for _ in range(2):
                for query in _queries():
                    for allowed in _masks(fixture_index.n_docs):
                        assert_same_ranking(fixture_index.search(query, 20, allowed),
                                            fixture_index.reference_search(query, 20, allowed), 20)
                        assert all(not s.any() for s in fixture_index._scratch.idle)
        finally:
            lexical.TRACK_FACTOR = old
    assert fixture_index._scratch.idle
