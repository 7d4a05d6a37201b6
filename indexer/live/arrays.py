"""Append-only numpy arrays whose prefixes stay valid: what a snapshot of the live delta reads.

A writer appends; a reader takes ``view()`` once and reads only the rows below its snapshot's count,
so it never sees a row written after its snapshot, and never a row half written (a row is written
before the count that exposes it moves, and a grown buffer is a copy: old views keep the old one).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class GrowingRows:
    """An append-only array; a view of its first rows stays valid and unchanged as it grows."""

    def __init__(self, shape: tuple[int, ...], dtype: Any):
        self._data = np.zeros((16, *shape), dtype)
        self.n = 0

    def append(self, rows: np.ndarray) -> None:
        k = len(rows)
        if self.n + k > len(self._data):
            grown = np.zeros((max(2 * len(self._data), self.n + k), *self._data.shape[1:]), self._data.dtype)
            grown[:self.n] = self._data[:self.n]
            self._data = grown  # snapshots keep the old array
        self._data[self.n:self.n + k] = rows
        self.n += k

    def append_one(self, value: Any) -> None:
        """Append one scalar row (a 1-D array's element) without building an array for it."""
        if self.n + 1 > len(self._data):
            self.append(np.asarray([value], self._data.dtype))
            return
        self._data[self.n] = value
        self.n += 1

    def view(self) -> np.ndarray:
        return self._data[:self.n]


class Postings:
    """Ascending positions (delta rows) and a value per position (a term frequency), both append-only."""

    def __init__(self, value_dtype: Any = np.float64):
        self.positions = GrowingRows((), np.int64)
        self.values = GrowingRows((), value_dtype)

    def add(self, position: int, value: float = 1.0) -> None:
        """Record ``position`` (larger than every position already held): its value first, then the position
        that makes it visible to a reader's `below`."""
        self.values.append_one(value)
        self.positions.append_one(position)

    def below(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, values) of the positions below ``n``: a snapshot of ``n`` rows sees these."""
        positions = self.positions.view()
        m = int(np.searchsorted(positions, n))
        return positions[:m], self.values.view()[:m]
