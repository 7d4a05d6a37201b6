"""The live index: the built version (main segment) plus an in-memory delta, as immutable snapshots.

Rows are numbered across both segments: main rows ``0..n_main-1`` as built, then delta rows in
the order they were written. A write never changes a row: an upsert appends a row and marks the
product's previous row dead; a delete marks it dead. Readers hold a `Snapshot` (taken once per
request), whose arrays are prefixes the writer never touches again, so a search sees one state:
never a product's new text with its old vectors, nor a product deleted in one signal only.

Every search restricts itself with one mask over the rows (the request's filters AND the live
rows): the dead rows of both segments are just rows the mask leaves out.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from indexer.catalog import Product
from indexer.live.arrays import GrowingRows
from indexer.live.embed import EmbeddedProduct
from indexer.live.lexical import DeltaTerms, LiveLexicalStats, MainStats, doc_tokens
from indexer.live.log import LogEntry
from indexer.loaded import LoadedIndex

VECTOR_FIELDS = ("text", "clip_text", "image")


class ProductsView(Sequence[Product]):
    """The products of both segments by row (main then delta), as a read-only sequence."""

    def __init__(self, main: Sequence[Product], delta: list[Product], n_delta: int):
        self._main, self._delta, self._n_main, self._n = main, delta, len(main), len(main) + n_delta

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, row: int) -> Product: ...
    @overload
    def __getitem__(self, row: slice) -> list[Product]: ...

    def __getitem__(self, row: int | slice) -> Product | list[Product]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(self._n))]
        if row < 0:
            row += self._n
        if not 0 <= row < self._n:
            raise IndexError(row)
        return self._main[row] if row < self._n_main else self._delta[row - self._n_main]

    def __iter__(self) -> Iterator[Product]:
        yield from self._main
        yield from self._delta[:self._n - self._n_main]


class RowOf(Mapping[str, int]):
    """Product id -> its live row: the main segment's map, less the ids it lost, plus the delta's."""

    def __init__(self, main: Mapping[str, int], removed: frozenset[str], delta: Mapping[str, int]):
        self._main, self._removed, self._delta = main, removed, delta

    def __getitem__(self, product_id: str) -> int:
        row = self._delta.get(product_id)
        if row is not None:
            return row
        if product_id in self._removed:
            raise KeyError(product_id)
        return self._main[product_id]

    def __iter__(self) -> Iterator[str]:
        yield from (i for i in self._main if i not in self._removed)
        yield from self._delta

    def __len__(self) -> int:
        return len(self._main) - len(self._removed) + len(self._delta)


def field_dim(main: LoadedIndex, field: str) -> int:
    return main.vector_store.dim(main.vector_fields[field])


def main_vectors(main: LoadedIndex, field: str, rows: np.ndarray) -> np.ndarray:
    """Stored vectors of main-segment rows of ``field`` (exact for Flat and HNSW, approximate for compressed codes)."""
    rows = np.asarray(rows, np.int64)
    if not len(rows):
        return np.zeros((0, field_dim(main, field)), np.float32)
    return np.asarray(main.stored_vectors(field, rows), np.float32).reshape(len(rows), -1)


@dataclass(frozen=True)
class Snapshot:
    """One consistent state of the live index; immutable (see the module docstring)."""

    main: LoadedIndex
    seq: int  # the last log entry it holds
    products: ProductsView
    row_of: RowOf
    alive: np.ndarray  # bool per row of both segments
    has_thumbnail: np.ndarray  # bool per row
    image_rows: np.ndarray  # product row of each photo vector: main's photos, then the delta's
    delta_vectors: Mapping[str, np.ndarray]  # "text", "clip_text", "image": the delta's rows
    delta_products: list[Product]
    delta_thumbnails: list[bytes | None]
    delta_photos: list[tuple[str, ...]]
    delta_seqs: list[int]
    terms: DeltaTerms
    lexical_stats: LiveLexicalStats | None  # None while nothing was written

    @property
    def n_main(self) -> int:
        return len(self.main.store)

    @property
    def n_delta(self) -> int:
        return len(self.products) - self.n_main

    @property
    def n_rows(self) -> int:
        return len(self.products)

    @property
    def n_alive(self) -> int:
        return len(self.row_of)

    @property
    def n_main_images(self) -> int:
        return len(self.main.image_rows)

    def row_vectors(self, field: str, row: int) -> np.ndarray:
        """A product row's vectors of ``field``: ``(1, d)`` for texts, ``(photos, d)`` for ``image``."""
        if field == "image":
            photos = np.flatnonzero(self.image_rows == row)
            main_ids = photos[photos < self.n_main_images]
            delta_ids = photos[photos >= self.n_main_images] - self.n_main_images
            return np.concatenate([main_vectors(self.main, "image", main_ids), self.delta_vectors["image"][delta_ids]])
        if row < self.n_main:
            return main_vectors(self.main, field, np.array([row]))
        return self.delta_vectors[field][row - self.n_main][None, :]

    def thumbnail(self, row: int) -> tuple[str, bytes] | None:
        if row < self.n_main:
            return self.main.store.thumbnail(row)
        data = self.delta_thumbnails[row - self.n_main]
        return None if data is None else ("image/jpeg", data)

    def photo_tag(self, row: int) -> str:
        """What changes when a row's photo may have: "" for main rows, the photo's hash for delta rows."""
        return "" if row < self.n_main else ":".join(self.delta_photos[row - self.n_main][:1]) or "none"


class LiveState:
    """The writer's side: applies log entries (with their embeddings) and publishes a new `Snapshot` each time.

    Callers serialise `apply` (the live service holds its write lock); readers only take `snapshot`.
    """

    def __init__(self, main: LoadedIndex, total_len: int | None = None):
        self.main = main
        self._known_total_len = total_len  # the main segment's total BM25 length, when a compaction recorded it
        n_main = len(main.store)
        dims = {name: field_dim(main, name) for name in VECTOR_FIELDS}
        self._vectors = {name: GrowingRows((dims[name],), np.float32) for name in VECTOR_FIELDS}
        self._image_rows = GrowingRows((), np.int64)
        self._products: list[Product] = []
        self._thumbnails: list[bytes | None] = []
        self._photos: list[tuple[str, ...]] = []
        self._seqs: list[int] = []
        self._terms = DeltaTerms.empty()
        self._alive = np.ones(n_main, bool)
        self._has_thumbnail = np.asarray(main.store.has_thumbnail, bool).copy()
        self._delta_ids: dict[str, int] = {}
        self._removed: set[str] = set()
        self._main_stats: MainStats | None = None
        self._dead_df: Counter = Counter()
        self._n_docs = n_main
        self._total_len = 0
        self._lock = threading.Lock()
        self.seq = 0
        self.entries: list[tuple[LogEntry, EmbeddedProduct | None]] = []  # what was applied (a rebase replays it)
        self.snapshot = self._publish()

    def _stats(self) -> MainStats:
        if self._main_stats is None:  # tokenises every main text once (about a second at 44k products)
            self._main_stats = MainStats(self.main.lexical, self.main.store.products, self._known_total_len)
            self._total_len = self._main_stats.total_len
        return self._main_stats

    def warm(self) -> None:
        """Compute the main segment's statistics now (outside the caller's locks) rather than at the first write."""
        with self._lock:
            self._stats()

    def current_row(self, product_id: str) -> int | None:
        return self.snapshot.row_of.get(product_id)

    def apply(self, batch: Sequence[tuple[LogEntry, EmbeddedProduct | None]]) -> Snapshot:
        """Apply log entries in order (each upsert with its embedding) and publish the new snapshot."""
        with self._lock:
            self._stats()
            n_new = sum(1 for entry, _ in batch if entry.op == "upsert")
            alive = np.concatenate([self._alive, np.ones(n_new, bool)])
            has_thumbnail = np.concatenate([self._has_thumbnail, np.zeros(n_new, bool)])
            for entry, embedded in batch:
                row = self._row(entry.id)
                kept = self._photos_of(row) if entry.op == "upsert" and embedded is not None and embedded.keep_photos \
                    else None
                if row is not None:
                    self._kill(row, alive)
                if entry.op == "upsert":
                    if embedded is None:
                        raise ValueError(f"upsert of {entry.id!r} without its embedding")
                    new_row = self._append(entry, embedded, kept)
                    has_thumbnail[new_row] = self._thumbnails[-1] is not None
                    self._delta_ids[entry.id] = new_row
                else:
                    self._delta_ids.pop(entry.id, None)
                if entry.id in self.main.store.row_of:
                    self._removed.add(entry.id)
                self.seq = max(self.seq, entry.seq)
                self.entries.append((entry, embedded))
            self._alive, self._has_thumbnail = alive, has_thumbnail
            self.snapshot = self._publish()
            return self.snapshot

    def _row(self, product_id: str) -> int | None:
        if product_id in self._delta_ids:
            return self._delta_ids[product_id]
        if product_id in self._removed:
            return None
        return self.main.store.row_of.get(product_id)

    def _photos_of(self, row: int | None) -> tuple[np.ndarray, tuple[str, ...], bytes | None]:
        """A row's photo vectors, hashes and thumbnail, read from the writer's arrays (rows of this batch too)."""
        n_main = len(self.main.store)
        if row is None:
            return np.zeros((0, self._vectors["image"].view().shape[1]), np.float32), (), None
        if row < n_main:
            found = self.main.store.thumbnail(row)
            vectors = main_vectors(self.main, "image", np.flatnonzero(np.asarray(self.main.image_rows) == row))
            return vectors, (), found[1] if found else None
        position = row - n_main
        vectors = self._vectors["image"].view()[self._image_rows.view() == row]
        return vectors.copy(), self._photos[position], self._thumbnails[position]

    def _kill(self, row: int, alive: np.ndarray) -> None:
        if not alive[row]:
            return
        alive[row] = False
        self._n_docs -= 1
        n_main = len(self.main.store)
        if row < n_main:
            tokens = doc_tokens(self.main.store.products[row])
            self._dead_df.update(set(tokens))
            self._total_len -= len(tokens)
        else:
            self._total_len -= self._terms.length(row - n_main)

    def _append(self, entry: LogEntry, embedded: EmbeddedProduct,
                kept: tuple[np.ndarray, tuple[str, ...], bytes | None] | None) -> int:
        new_row = len(self.main.store) + len(self._products)
        image_vectors, photos, thumbnail = kept if kept is not None else \
            (embedded.image_vectors, embedded.photos, embedded.thumbnail)
        self._vectors["text"].append(embedded.text_vector[None, :])
        self._vectors["clip_text"].append(embedded.clip_text_vector[None, :])
        self._vectors["image"].append(np.asarray(image_vectors, np.float32).reshape(-1, self._vectors["image"].view().shape[1]))
        self._image_rows.append(np.full(len(image_vectors), new_row, np.int64))
        self._products.append(embedded.product)
        self._thumbnails.append(thumbnail)
        self._photos.append(photos)
        self._seqs.append(entry.seq)
        tokens = doc_tokens(embedded.product)
        self._terms.append(tokens)
        self._n_docs += 1
        self._total_len += len(tokens)
        return new_row

    def _publish(self) -> Snapshot:
        n_delta = len(self._products)
        stats = None if self._main_stats is None else LiveLexicalStats(
            self._main_stats, dict(self._dead_df), self._n_docs, self._total_len)
        return Snapshot(
            main=self.main, seq=self.seq,
            products=ProductsView(self.main.store.products, self._products, n_delta),
            row_of=RowOf(self.main.store.row_of, frozenset(self._removed), dict(self._delta_ids)),
            alive=self._alive, has_thumbnail=self._has_thumbnail,
            image_rows=np.concatenate([np.asarray(self.main.image_rows, np.int64), self._image_rows.view()]),
            delta_vectors={name: self._vectors[name].view() for name in VECTOR_FIELDS},
            delta_products=self._products, delta_thumbnails=self._thumbnails, delta_photos=self._photos,
            delta_seqs=self._seqs, terms=self._terms, lexical_stats=stats,
        )
