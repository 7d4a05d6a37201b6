"""BM25 over the delta segment, scored with the statistics of the live collection.

A fresh build would score a document with N (documents), df (documents holding each term) and
the average length over the whole catalog as it is now. The main segment's bm25s index keeps the
statistics of its build; the delta's documents are scored here with the live ones: main's counts,
less the main documents that were replaced or deleted, plus the live delta documents. So an
upserted product's score equals a fresh build's (up to float32 rounding, tested). Main documents
are scored by bm25s with each query term re-weighted by (live idf / build idf), so both segments
share one idf per term; what is left of the build's statistics is the average document length in
the length normalisation (the drift is measured in tests/indexer/test_live_segment.py and stated in
the README); compaction rebuilds the statistics.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from indexer.catalog import Product, product_text
from indexer.lexical import LexicalIndex, tokenize
from indexer.live.arrays import GrowingRows, Postings

EMPTY_DOC = "<empty>"  # what `LexicalIndex.build` indexes for a text without tokens


def doc_tokens(product: Product) -> list[str]:
    return tokenize(product_text(product)) or [EMPTY_DOC]


class MainStats:
    """The main segment's BM25 statistics: N, total length, and df of a term (from bm25s's matrix)."""

    def __init__(self, lexical: LexicalIndex, products: list[Product], total_len: int | None = None):
        retriever = lexical.retriever
        self.k1, self.b = float(retriever.k1), float(retriever.b)
        self.vocab: Mapping[str, int] = retriever.vocab_dict
        self.indptr = np.asarray(retriever.scores["indptr"])
        self.n_docs = lexical.n_docs
        # Tokenising every main text costs seconds at 44k: a compaction passes the total it already knows.
        self.total_len = sum(len(doc_tokens(p)) for p in products) if total_len is None else int(total_len)

    def df(self, term: str) -> int:
        tid = self.vocab.get(term)
        return 0 if tid is None or tid + 1 >= len(self.indptr) else int(self.indptr[tid + 1] - self.indptr[tid])


class DeltaTerms:
    """The delta's documents, append-only: per term its postings (ascending delta positions, with the term's
    count in each), and each document's length, as numpy arrays (`indexer.live.arrays`): a search reads
    a term's postings as array prefixes, with no Python loop over the documents that hold it.

    A snapshot reads the first ``n`` documents; appending never changes what it sees.
    """

    def __init__(self) -> None:
        self.postings: dict[str, Postings] = {}
        self.lengths = GrowingRows((), np.float64)

    @classmethod
    def empty(cls) -> DeltaTerms:
        return cls()

    def append(self, tokens: list[str]) -> None:
        position = self.lengths.n
        for term, count in Counter(tokens).items():
            posting = self.postings.get(term)
            if posting is None:
                posting = self.postings[term] = Postings()
            posting.add(position, count)
        self.lengths.append_one(len(tokens))

    def length(self, position: int) -> int:
        return int(self.lengths.view()[position])

    def term_rows(self, term: str, n: int, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(live delta positions among the first ``n`` holding ``term``, the term's count in each)."""
        posting = self.postings.get(term)
        if posting is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        rows, tf = posting.below(n)
        keep = live[rows]
        return rows[keep], tf[keep]


@dataclass(frozen=True)
class LiveLexicalStats:
    """The live collection's statistics at one snapshot."""

    main: MainStats
    dead_main_df: Mapping[str, int]  # per term: replaced or deleted main documents holding it
    n_docs: int  # live documents, both segments
    total_len: int  # their total length

    def idf(self, term: str, delta_df: int) -> float:
        df = self.main.df(term) - self.dead_main_df.get(term, 0) + delta_df
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))


def score_delta(query: str, terms: DeltaTerms, n: int, live: np.ndarray, allowed: np.ndarray,
                stats: LiveLexicalStats) -> tuple[np.ndarray, np.ndarray]:
    """(scores, delta positions) of the delta's first ``n`` documents with a positive score among ``allowed``.

    ``live`` marks the delta documents that are current (df counts those); ``allowed`` those a search
    may return (live and passing the filters). bm25s's "lucene" BM25: a query term counts once per
    occurrence in the query, as bm25s counts it.
    """
    tokens = tokenize(query)
    if not tokens or n == 0 or stats.n_docs == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    k1, b = stats.main.k1, stats.main.b
    avg_len = stats.total_len / stats.n_docs
    scores = np.zeros(n, np.float64)
    doc_lengths = terms.lengths.view()
    for term, times in Counter(tokens).items():
        rows, tf = terms.term_rows(term, n, live)
        if not len(rows):
            continue
        idf = stats.idf(term, len(rows))
        lengths = doc_lengths[rows]
        scores[rows] += times * idf * tf / (tf + k1 * (1 - b + b * lengths / avg_len))
    hit = np.flatnonzero((scores > 0) & allowed[:n])
    return scores[hit].astype(np.float32), hit.astype(np.int64)


def score_main(query: str, lexical: LexicalIndex, k: int, allowed: np.ndarray, terms: DeltaTerms, n: int,
               live: np.ndarray, stats: LiveLexicalStats) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the top-k main documents among ``allowed``, each query term's bm25s score
    re-weighted by live idf / build idf, so main and delta documents share one idf per term. (The
    length normalisation keeps the build's average length: the residual drift, tested.)"""
    main = stats.main
    ids, weights = [], []
    for term, times in Counter(tokenize(query)).items():
        tid = main.vocab.get(term)
        df = main.df(term)
        if tid is None or df == 0:
            continue
        build_idf = math.log(1 + (main.n_docs - df + 0.5) / (df + 0.5))
        ids.append(tid)
        weights.append(times * stats.idf(term, len(terms.term_rows(term, n, live)[0])) / build_idf)
    return lexical.search_ids(np.array(ids, np.int64), np.array(weights, np.float64), k, allowed)
