"""The lexical signal: BM25 over product text (bm25s builds and stores it; compiled kernels score it)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from indexer import lexical_kernels as kernels
from indexer.scratch import ScratchPool

logger = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import; keep its per-build chatter out of our logs.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Cost model of the scoring paths (lexical_kernels), calibrated on a 1M-row index (benchmarks/lexical_scale.py):
# a galloping-search step of the row intersection costs about as much as this many postings walked (2026-12-01,
# the 1M synthetic fashion texts, ~91 tokens each, a 1% filter: each path timed on 200 queries; 6 gave the best
# p50 and p95 of the chosen path, 1.05 / 2.53 ms CPU against 1.05 / 2.89 with the binary search's 16);
ROWS_COST_FACTOR = 6
# and rows reached are tracked (selection among them) when at most 1/TRACK_FACTOR of all rows can be, else
# the dense scores are scanned once.
TRACK_FACTOR = 8
TOKEN_RE = re.compile(r"[a-z0-9]+")
# Hyphenated words. Matches can only start where a word starts; the look-behind says so, so the engine
# does not retry from every letter of every word (quadratic in word length: 2/3 of build tokenising).
HYPHENATED_RE = re.compile(r"(?<![a-z0-9])[a-z0-9]+(?:-[a-z0-9]+)+")
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "in", "is",
     "it", "its", "of", "on", "or", "that", "the", "this", "to", "with"]
)


def tokenize(text: str) -> list[str]:
    """Lower-case alphanumeric tokens without stopwords; hyphenated words also give their joined form."""
    lowered = text.lower()
    tokens = [t for t in TOKEN_RE.findall(lowered) if t not in STOPWORDS]
    if "-" not in lowered:
        return tokens
    return tokens + [w.replace("-", "") for w in HYPHENATED_RE.findall(lowered)]


class LexicalIndex:
    """BM25 over one text per document; documents are numbered in insertion order.

    bm25s builds and stores the index (its precomputed term x document matrix, unchanged on disk);
    queries are scored by the compiled kernels of `indexer.lexical_kernels` over that matrix, which add
    the same float32 values as bm25s but touch only the query terms' postings (and, for a selective
    filter, only the allowed rows' postings). `reference_search` keeps bm25s's own retrieval, to
    compare against. ``retriever`` stays the bm25s object (the live delta reads its statistics).
    """

    def __init__(self, retriever: bm25s.BM25, n_docs: int):
        self.retriever = retriever
        self.n_docs = n_docs
        scores = retriever.scores
        self._data = np.asarray(scores["data"])
        self._indices = np.asarray(scores["indices"])
        self._indptr = np.asarray(scores["indptr"])
        # BM25L/BM25+ add a score to documents without the term; our kernels score postings only.
        self._compiled = getattr(retriever, "nonoccurrence_array", None) is None
        self._rows_sorted: bool | None = None  # checked on first filtered search (or warm-up)
        self._scratch = ScratchPool(n_docs, np.float32)  # the kernels' per-document sums, lent one per search

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        # Token ids, not token strings: each document becomes a list of references to the vocabulary's
        # ints (8 bytes a token), where lists of strings held ~60 bytes a token and bm25s then built the
        # id lists beside them (measured on the 44k fashion texts: +427 MB peak before, see build_rate).
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(token, len(vocab)) for token in (tokenize(t) or ["<empty>"])] for t in texts]
        retriever.index((ids, vocab), show_progress=False)
        return cls(retriever, len(texts))

    def term_ids(self, query: str) -> np.ndarray:
        """The vocabulary ids of the query's tokens, repeats kept (bm25s counts a term once per occurrence)."""
        vocab = self.retriever.vocab_dict
        return np.array([vocab[t] for t in tokenize(query) if t in vocab], np.int64)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, doc rows) of the top-k documents with a positive BM25 score among the allowed ones,
        best first (equal scores by ascending row)."""
        if not self._compiled:
            return self.reference_search(query, k, allowed)
        ids = self.term_ids(query)
        return self.search_ids(ids, np.ones(len(ids)), k, allowed)

    def search_ids(self, term_ids: np.ndarray, weights: np.ndarray, k: int,
                   allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Like `search` over term ids, each term's BM25 contribution multiplied by its weight (> 0).

        The live delta re-weights main-segment terms by live idf / build idf through this.
        """
        k = min(k, self.n_docs)
        term_ids = np.ascontiguousarray(term_ids, np.int64)
        weights = np.ascontiguousarray(weights, np.float64)
        if not len(term_ids) or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        if allowed is not None and len(allowed) != self.n_docs:
            raise ValueError(f"allowed has {len(allowed)} rows, the lexical index {self.n_docs}")
        indptr = self._indptr
        lengths = indptr[term_ids + 1] - indptr[term_ids]
        postings = int(lengths.sum())
        n_allowed = self.n_docs if allowed is None else int(np.count_nonzero(allowed))
        if allowed is not None and self._use_rows(lengths, n_allowed, postings):
            rows = np.flatnonzero(allowed)
            return kernels.score_rows(self._data, self._indices, indptr, term_ids, weights, rows, k)
        mask = np.zeros(0, np.bool_) if allowed is None else np.ascontiguousarray(allowed, np.bool_)
        track = min(postings, n_allowed) * TRACK_FACTOR < self.n_docs
        acc = self._scratch.take()
        result = kernels.score_postings(self._data, self._indices, indptr, term_ids, weights, self.n_docs,
                                        mask, allowed is not None, track, k, acc)
        self._scratch.give(acc)  # not given back when the kernel raised: it may not be zeroed
        return result

    def _use_rows(self, lengths: np.ndarray, n_allowed: int, postings: int) -> bool:
        """Whether intersecting each term's postings with the allowed rows (galloping searches of the longer
        list, ~ROWS_COST_FACTOR times dearer per step than walking a posting) costs less than walking them all."""
        if n_allowed == 0 or postings == 0:
            return True
        short = np.minimum(lengths, n_allowed).astype(np.float64)
        long = np.maximum(lengths, n_allowed).astype(np.float64)
        steps = float((short * (1 + np.log2(long / np.maximum(short, 1)))).sum())
        if steps * ROWS_COST_FACTOR >= postings:
            return False
        if self._rows_sorted is None:
            self._rows_sorted = bool(kernels.postings_sorted(self._indices, self._indptr))
        if not self._rows_sorted:
            logger.warning("lexical postings are not in row order; filtered searches walk every posting")
        return self._rows_sorted

    def reference_search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """bm25s's own retrieval (numpy backend, a filter as a weight mask over every document): the
        implementation `search` replaced, kept to check it against (tests, benchmarks/lexical_scale.py)."""
        tokens = tokenize(query)
        k = min(k, self.n_docs)
        if not tokens or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        mask = None if allowed is None else allowed.astype(np.float32)
        result = self.retriever.retrieve([tokens], k=k, show_progress=False, weight_mask=mask, n_threads=0)
        docs = np.asarray(result.documents[0], dtype=np.int64)
        scores = np.asarray(result.scores[0], dtype=np.float32)
        keep = scores > 0
        return scores[keep], docs[keep]

    def warm_up(self) -> None:
        """Compile (or load from numba's disk cache) every kernel a search may run, with this index's
        array types, and check the postings' order, so the first query pays for none of it."""
        if not self._compiled or self.n_docs == 0:
            return
        ids, one = np.zeros(1, np.int64), np.ones(1)
        mask = np.ones(self.n_docs, bool)
        for track in (False, True):
            acc = self._scratch.take()
            kernels.score_postings(self._data, self._indices, self._indptr, ids, one, self.n_docs, mask, True, track, 1,
                                   acc)
            self._scratch.give(acc)
        kernels.score_rows(self._data, self._indices, self._indptr, ids, one, np.zeros(1, np.int64), 1)
        if self._rows_sorted is None:
            self._rows_sorted = bool(kernels.postings_sorted(self._indices, self._indptr))

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory))
        (directory / "n_docs.txt").write_text(str(self.n_docs))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(directory))
        index = cls(retriever, int((directory / "n_docs.txt").read_text()))
        started = time.perf_counter()
        index.warm_up()
        logger.debug("lexical kernels ready in %.2f s", time.perf_counter() - started)
        return index
