"""Searching a live snapshot: the main segment (the built index) and the delta, as one index.

`live_searcher` makes a `LiveSearcher` for one `indexer.live.segment.Snapshot`: a copy of the
index's plain Searcher whose index, product store, lexical index and filter index are views over
the snapshot. Each signal searches both segments under the same mask (the request's filters AND
the live rows) and merges the two result lists by score into one run before fusion; dense scores
are inner products in both segments and lexical scores BM25 in both, so they compare directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from indexer.live.lexical import score_delta, score_main
from indexer.live.segment import Snapshot
from indexer.manifest import Manifest
from indexer.vector_index import search_vectors
from search.filters import FilterIndex, Filters
from search.fusion import Run
from search.searcher import Searcher, _collapse


def merge_by_score(rows: list[np.ndarray], scores: list[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` of several (rows, scores) lists, best first (ties keep list order); rows < 0 dropped."""
    all_rows = np.concatenate([np.asarray(r, np.int64) for r in rows])
    all_scores = np.concatenate([np.asarray(s, np.float64) for s in scores])
    keep = all_rows >= 0
    all_rows, all_scores = all_rows[keep], all_scores[keep]
    order = np.argsort(-all_scores, kind="stable")[:k]
    return all_rows[order], all_scores[order]


def _top(scores: np.ndarray, allowed: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and scores of the best ``k`` allowed entries of ``scores``."""
    positions = np.arange(len(scores)) if allowed is None else np.flatnonzero(allowed)
    if not len(positions) or k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    values = scores[positions]
    if len(values) > k:
        part = np.argpartition(-values, k - 1)[:k]
        positions, values = positions[part], values[part]
    order = np.argsort(-values, kind="stable")
    return positions[order], values[order].astype(np.float64)


class LiveStore:
    """The product store as the Searcher and the API read it, over both segments."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.products = snapshot.products
        self.row_of = snapshot.row_of
        self.has_thumbnail = snapshot.has_thumbnail

    def __len__(self) -> int:
        return self.snapshot.n_rows

    def thumbnail(self, row: int) -> tuple[str, bytes] | None:
        return self.snapshot.thumbnail(row)

    def photo_tag(self, row: int) -> str:
        return self.snapshot.photo_tag(row)

    def close(self) -> None:
        """The main segment's store belongs to the live service (closed with it), not to a snapshot."""


class LiveLexical:
    """BM25 over both segments with one idf per term (`indexer.live.lexical`), merged by score."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.n_docs = snapshot.n_rows

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        snap = self.snapshot
        n_main = snap.n_main
        allowed = snap.alive if allowed is None else allowed
        stats = snap.lexical_stats
        if stats is None:
            return snap.main.lexical.search(query, k, allowed[:n_main])
        main_scores, main_docs = score_main(query, snap.main.lexical, k, allowed[:n_main], snap.terms, snap.n_delta,
                                            snap.alive[n_main:], stats)
        if snap.n_delta == 0:
            return main_scores, main_docs
        delta_scores, positions = score_delta(query, snap.terms, snap.n_delta, snap.alive[n_main:],
                                              allowed[n_main:], snap.lexical_stats)
        docs, scores = merge_by_score([main_docs, positions + n_main], [main_scores, delta_scores], k)
        return scores.astype(np.float32), docs


class LiveIndexView:
    """A `LoadedIndex` as the Searcher sees it, over a snapshot (rows of both segments)."""

    def __init__(self, snapshot: Snapshot):
        main = snapshot.main
        self.live = snapshot
        self.directory: Path = main.directory
        self.manifest: Manifest = main.manifest
        self.vectors: dict[str, Any] = main.vectors
        self.gpu_vectors: dict[str, Any] = main.gpu_vectors
        self.image_rows = snapshot.image_rows
        self.lexical = LiveLexical(snapshot)
        self.store = LiveStore(snapshot)

    @property
    def n_products(self) -> int:
        """Rows of both segments, dead ones included (every mask has this length)."""
        return self.live.n_rows

    def close(self) -> None:
        """The main segment belongs to the live service."""


class LiveFilterIndex:
    """Filter masks over both segments, AND the live rows: the one mask every signal takes."""

    def __init__(self, main: FilterIndex, snapshot: Snapshot):
        self.main, self.snapshot = main, snapshot
        self.delta = FilterIndex(snapshot.products[snapshot.n_main:])
        self.n = snapshot.n_rows

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        snap = self.snapshot
        main_mask, delta_mask = self.main.mask(filters), self.delta.mask(filters)
        if main_mask is None and snap.n_alive == snap.n_rows:
            return None
        return np.concatenate([np.ones(snap.n_main, bool) if main_mask is None else main_mask,
                               np.ones(snap.n_delta, bool) if delta_mask is None else delta_mask]) & snap.alive


class LiveSearcher(Searcher):
    """A Searcher over one live snapshot (see `live_searcher`); only the dense retrieval differs."""

    base: Searcher

    @property
    def snapshot(self) -> Snapshot:
        return self.index.live  # type: ignore[attr-defined]

    def _dense(self, name: str, query: np.ndarray, depth: int, mask: np.ndarray | None) -> Run:
        snap = self.snapshot
        main = snap.main
        cpu, gpu = main.vectors[name], main.gpu_vectors[name]
        delta = snap.delta_vectors[name]
        query = np.asarray(query, np.float32).reshape(1, -1)
        if name == "image":
            n_main_images = snap.n_main_images
            allowed = snap.alive[snap.image_rows] if mask is None else mask[snap.image_rows]
            k = depth * self._images_per_product
            main_allowed = None if allowed[:n_main_images].all() else allowed[:n_main_images]
            D, I = search_vectors(cpu, query, min(k, cpu.ntotal), main_allowed, gpu)
            main_rows = np.where(I[0] >= 0, snap.image_rows[np.maximum(I[0], 0)], -1)
            positions, scores = _top(delta @ query[0], allowed[n_main_images:], k)
            rows, merged = merge_by_score([main_rows, snap.image_rows[n_main_images + positions]], [D[0], scores], k)
            run = _collapse(rows, merged)
            return Run(run.docs[:depth], run.scores[:depth])
        n_main = snap.n_main
        allowed = snap.alive if mask is None else mask
        main_allowed = None if allowed[:n_main].all() else allowed[:n_main]
        D, I = search_vectors(cpu, query, min(depth, n_main), main_allowed, gpu)
        positions, scores = _top(delta @ query[0], allowed[n_main:], depth)
        rows, merged = merge_by_score([I[0], positions + n_main], [D[0], scores], depth)
        return _collapse(rows, merged)

    def _product_vectors(self, row: int) -> tuple[np.ndarray, np.ndarray | None]:
        snap = self.snapshot
        photos = snap.row_vectors("image", row)
        return snap.row_vectors("text", row), photos[:1] if len(photos) else None


def live_searcher(base: Searcher, snapshot: Snapshot) -> LiveSearcher:
    """A Searcher over ``snapshot`` sharing ``base``'s encoders, config and main-segment filter index.

    Per-index structures a Searcher builds over the products (the facet index) are built again, lazily,
    for the snapshot's rows.
    """
    searcher = LiveSearcher.__new__(LiveSearcher)
    searcher.__dict__.update({k: v for k, v in base.__dict__.items() if k not in ("facet_index",)})
    searcher.base = base
    searcher.index = LiveIndexView(snapshot)  # type: ignore[assignment]
    searcher.filter_index = LiveFilterIndex(base.filter_index, snapshot)  # type: ignore[assignment]
    counts = np.bincount(snapshot.image_rows) if len(snapshot.image_rows) else np.ones(1, np.int64)
    searcher._images_per_product = int(max(1, counts.max()))
    return searcher
