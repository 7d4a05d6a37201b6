"""Searching a live snapshot: the main segment (the built index) and the delta, as one index.

`live_searcher` makes a `LiveSearcher` for one `indexer.live.segment.Snapshot`: a copy of the
index's plain Searcher whose index (vector fields, product store, lexical index) and filter index
are views over the snapshot; the Searcher's own retrieval code runs unchanged on them. Each signal
searches both segments under the same mask (the request's filters AND the live rows) and merges the
two result lists by score into one run before fusion; dense scores are inner products in both
segments and lexical scores BM25 with one idf per term in both, so they compare directly.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from indexer.catalog import Product
from indexer.live.kernels import delta_top
from indexer.live.lexical import score_delta, score_main
from indexer.live.segment import Snapshot, main_vectors
from indexer.manifest import Manifest
from search.facets import FacetIndex
from search.filters import FilterIndex, Filters
from search.searcher import Searcher
from search.understanding import QueryUnderstanding
from search.vocabulary import BRAND, CATEGORY, Vocabulary


def merge_by_score(rows: list[np.ndarray], scores: list[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` of several (rows, scores) lists, best first (ties keep list order); rows < 0 dropped."""
    all_rows = np.concatenate([np.asarray(r, np.int64) for r in rows])
    all_scores = np.concatenate([np.asarray(s, np.float64) for s in scores])
    keep = all_rows >= 0
    all_rows, all_scores = all_rows[keep], all_scores[keep]
    order = np.argsort(-all_scores, kind="stable")[:k]
    return all_rows[order], all_scores[order]


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
                                              allowed[n_main:], stats)
        docs, scores = merge_by_score([main_docs, positions + n_main], [main_scores, delta_scores], k)
        return scores.astype(np.float32), docs


class LiveIndexView:
    """A `LoadedIndex` as the Searcher sees it, over a snapshot: rows of both segments, vector fields searched
    in both (the main segment through its `VectorStore`, the delta exactly) under one mask that always
    leaves the dead rows out."""

    def __init__(self, snapshot: Snapshot):
        main = snapshot.main
        self.live = snapshot
        self.directory: Path = main.directory
        self.manifest: Manifest = main.manifest
        self.vector_store = main.vector_store
        self.vector_fields: dict[str, str] = main.vector_fields
        self.image_rows = snapshot.image_rows
        self.lexical = LiveLexical(snapshot)
        self.store = LiveStore(snapshot)
        self._alive_images: np.ndarray | None = None

    @property
    def n_products(self) -> int:
        """Rows of both segments, dead ones included (every mask has this length)."""
        return self.live.n_rows

    def _main_count(self, field_name: str) -> int:
        return self.live.n_main_images if field_name == "image" else self.live.n_main

    def vector_count(self, field_name: str) -> int:
        return self._main_count(field_name) + len(self.live.delta_vectors[field_name])

    def _alive(self, field_name: str) -> np.ndarray:
        if field_name != "image":
            return self.live.alive
        if self._alive_images is None:
            self._alive_images = self.live.alive[self.live.image_rows]
        return self._alive_images

    def search_vectors(self, field_name: str, queries: np.ndarray, k: int, mask: np.ndarray | None = None, *,
                       filters: dict | None = None, exclude_rows: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows of both segments (one query), merged by inner product; dead rows never returned.
        ``filters``/``exclude_rows`` go with the main segment's mask to a backend that filters natively."""
        snap = self.live
        n_main = self._main_count(field_name)
        allowed = self._alive(field_name) if mask is None else mask
        main_allowed = allowed[:n_main]
        D, I = snap.main.search_vectors(field_name, queries, min(k, n_main),
                                        None if main_allowed.all() else main_allowed,
                                        filters=filters, exclude_rows=tuple(r for r in exclude_rows if r < n_main))
        query = np.asarray(queries, np.float32).reshape(1, -1)[0]
        positions, scores = delta_top(snap.delta_vectors[field_name], query, allowed[n_main:], k)
        rows, merged = merge_by_score([I[0], positions + n_main], [D[0], scores], k)
        return merged[None, :].astype(np.float32), rows[None, :]

    def stored_vectors(self, field_name: str, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, np.int64)
        n_main = self._main_count(field_name)
        out = np.zeros((len(rows), self.vector_store.dim(self.vector_fields[field_name])), np.float32)
        in_main = rows < n_main
        if in_main.any():
            out[in_main] = main_vectors(self.live.main, field_name, rows[in_main])
        out[~in_main] = self.live.delta_vectors[field_name][rows[~in_main] - n_main]
        return out

    def close(self) -> None:
        """The main segment belongs to the live service."""


class LiveFilterIndex:
    """Filter masks over both segments, AND the live rows: the one mask every signal takes."""

    def __init__(self, main: FilterIndex, snapshot: Snapshot):
        self.main, self.snapshot = main, snapshot
        self.n = snapshot.n_rows

    @cached_property
    def delta(self) -> FilterIndex:
        """The delta rows' inverted lists, built by the first filtered search of this snapshot (not per write)."""
        return FilterIndex(self.snapshot.products[self.snapshot.n_main:])

    @cached_property
    def price_range(self) -> tuple[float, float] | None:
        """(lowest, highest) price over both segments (a deleted row's too): the main segment's, computed once, with
        this snapshot's delta rows'; None when no product has a price."""
        ranges = [r for r in (self.main.price_range, self.delta.price_range) if r is not None]
        return (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        snap = self.snapshot
        if filters is None or filters.is_empty():
            return None if snap.n_alive == snap.n_rows else snap.alive.copy()
        main_mask, delta_mask = self.main.mask(filters), self.delta.mask(filters)
        if main_mask is None and snap.n_alive == snap.n_rows:
            return None
        return np.concatenate([np.ones(snap.n_main, bool) if main_mask is None else main_mask,
                               np.ones(snap.n_delta, bool) if delta_mask is None else delta_mask]) & snap.alive


class DeltaValues:
    """Which catalog values (the main segment's query-understanding vocabulary) each delta row holds, as
    append-only postings: (field, code) -> ascending delta positions. Filled once per delta row, shared by
    every snapshot of one main segment (a snapshot reads the positions below its ``n_delta``)."""

    def __init__(self) -> None:
        self.postings: dict[tuple[str, int], list[int]] = {}
        self.n = 0
        self._lock = threading.Lock()

    def extend(self, vocabulary: Vocabulary, products: Sequence[Product], n_main: int, upto: int) -> None:
        """Index the delta rows ``self.n .. upto - 1`` (``products`` covers both segments)."""
        if upto <= self.n:
            return
        with self._lock:
            for position in range(self.n, upto):
                p = products[n_main + position]
                pairs = [(BRAND, p.brand)] + [(CATEGORY, c) for c in p.category] + list(p.attributes.items())
                for name, value in pairs:
                    code = vocabulary.code_of(name, value)
                    if code is not None:
                        posting = self.postings.setdefault((name, code), [])
                        if not posting or posting[-1] != position:
                            posting.append(position)
            self.n = max(self.n, upto)

    def rows(self, field: str, code: int, n_delta: int) -> np.ndarray:
        posting = self.postings.get((field, code))
        if not posting:
            return np.zeros(0, np.int64)
        return np.asarray(posting[:bisect.bisect_left(posting, n_delta)], np.int64)


class LiveExtras:
    """What snapshots of one main segment share and extend as rows are added: the facet index of the latest
    snapshot asked for (the next one extends it by its new rows) and the delta rows' catalog values."""

    def __init__(self) -> None:
        self.values = DeltaValues()
        self._facets: tuple[int, FacetIndex] | None = None
        self._lock = threading.Lock()

    def facet_index(self, base: Searcher, snapshot: Snapshot) -> FacetIndex:
        with self._lock:
            latest = self._facets
            if latest is None or latest[0] > snapshot.n_rows:  # first, or an older snapshot: from the main one
                latest = (snapshot.n_main, base.facet_index)
            n, index = latest
            if n < snapshot.n_rows:
                index = index.extended(snapshot.products[n:snapshot.n_rows])
            if self._facets is None or self._facets[0] <= snapshot.n_rows:
                self._facets = (snapshot.n_rows, index)
            return index


def _extras(base: Searcher) -> LiveExtras:
    """The `LiveExtras` of ``base``'s main segment (kept on the base Searcher: a new version gets new ones)."""
    extras = base.__dict__.get("_live_extras")
    if extras is None:
        extras = base.__dict__.setdefault("_live_extras", LiveExtras())
    return extras


def live_understanding(base: QueryUnderstanding, values: DeltaValues, snapshot: Snapshot) -> QueryUnderstanding:
    """``base`` (the main segment's query understanding) whose value holders include the snapshot's delta rows,
    so a live-written product gets attribute matches before any compaction. Values the main catalog never had
    are matched after the next compaction (the vocabulary, its spelling and synonyms are the main segment's)."""
    values.extend(base.vocabulary, snapshot.products, snapshot.n_main, snapshot.n_delta)
    understanding = copy.copy(base)
    main_holders = base._holders
    n_main, n_delta = snapshot.n_main, snapshot.n_delta

    def holders(m: Any) -> np.ndarray:
        delta = values.rows(m.field, m.code, n_delta)
        return main_holders(m) if not len(delta) else np.concatenate([main_holders(m), delta + n_main])

    understanding._holders = holders  # type: ignore[method-assign]
    return understanding


class LiveSearcher(Searcher):
    """A Searcher over one live snapshot (see `live_searcher`): the plain Searcher's code over `LiveIndexView`."""

    base: Searcher

    @property
    def snapshot(self) -> Snapshot:
        return self.index.live  # type: ignore[attr-defined]

    def close(self) -> None:
        """Nothing of its own: its signal threads and main index are its base's, closed with the base."""

    @cached_property
    def facet_index(self) -> FacetIndex:
        """The main segment's facet index extended by the delta rows (incrementally from the last snapshot's)."""
        return _extras(self.base).facet_index(self.base, self.snapshot)

    @cached_property
    def understanding(self) -> QueryUnderstanding:
        """The main segment's query understanding, its value holders extended by the delta rows."""
        return live_understanding(self.base.understanding, _extras(self.base).values, self.snapshot)


def live_searcher(base: Searcher, snapshot: Snapshot) -> LiveSearcher:
    """A Searcher over ``snapshot`` sharing ``base``'s encoders, config and main-segment filter index.

    The facet index and the query understanding's value holders are the main segment's, extended lazily by
    the snapshot's delta rows (`LiveExtras`).
    """
    searcher = LiveSearcher.__new__(LiveSearcher)
    own = ("facet_index", "understanding", "_live_extras")  # per snapshot: see LiveSearcher
    searcher.__dict__.update({k: v for k, v in base.__dict__.items() if k not in own})
    searcher.base = base
    searcher.index = LiveIndexView(snapshot)  # type: ignore[assignment]
    searcher.filter_index = LiveFilterIndex(base.filter_index, snapshot)  # type: ignore[assignment]
    counts = np.bincount(snapshot.image_rows) if len(snapshot.image_rows) else np.ones(1, np.int64)
    searcher._images_per_product = int(max(1, counts.max()))
    return searcher
