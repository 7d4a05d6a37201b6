"""An IVF index's codes kept in row order, so that a selective filter's rows are decoded in one call.

An IVF index stores each row's code in the inverted list of its centroid. Scoring a 1% filter's rows
exactly needs their vectors; `faiss.Index.reconstruct_batch` finds and decodes them one by one (about
2 us a row: 22 ms for the 10k allowed rows of 1M, IVF1024,SQ8, 384-d). With the codes copied once into
a row-ordered table (``sa_encode``'s layout: the list number, then the code), the allowed rows are one
numpy gather and one ``sa_decode`` (4-5 ms for the same rows, the same vectors: to the bit for a plain
IVF index, to float rounding behind a pre-transform such as PCA). The table
costs one more code per row in memory (``sa_code_size`` bytes: 386 B for SQ8 at 384-d), nothing on disk.

For an IVF,SQ8 index the rows need not be decoded at all: `RowCodes.scores` computes their inner products with
the queries on the uint8 codes (`indexer.sq8_scoring`), the same scores to float rounding, reading 3.9 MB of
codes for those 10k rows instead of writing and reading 15 MB of decoded vectors.

Rows keep their numbers in this engine (deletes are tombstones, upserts go to an exact overlay), so the
table only ever grows: `RowCodes.extend` appends the rows added since it was made.
"""

from __future__ import annotations

import logging
from typing import Any

import faiss
import numpy as np

from indexer.sq8_scoring import SQ8Scorer, sq8_scorer

logger = logging.getLogger(__name__)


def ivf_of(index: faiss.Index) -> faiss.IndexIVF | None:
    """The IVF index inside ``index`` (behind any pre-transform), or None when it has none."""
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


class RowCodes:
    """The codes of an IVF index's rows ``0 .. len(self) - 1``, in row order, decodable with ``index.sa_decode``."""

    def __init__(self, index: faiss.Index, ivf: faiss.IndexIVF) -> None:
        self._index = index
        self._ivf = ivf
        self._coarse = int(ivf.coarse_code_size())  # type: ignore[attr-defined]  # in faiss, not in its stubs
        self._code = int(ivf.code_size)
        self.table = np.zeros((0, self._coarse + self._code), np.uint8)
        # Inner products straight from the codes (an IVF,SQ8 index), else None: `scores` decodes first.
        self.scorer: SQ8Scorer | None = None
        self.extend()

    def __len__(self) -> int:
        return len(self.table)

    @property
    def nbytes(self) -> int:
        return int(self.table.nbytes)

    def extend(self) -> None:
        """Append the codes of the rows added to the index since the table was last filled."""
        start, end = len(self.table), int(self._index.ntotal)
        if end == start:
            return
        table = np.empty((end, self._coarse + self._code), np.uint8)
        table[:start] = self.table
        filled = np.zeros(end, bool)
        filled[:start] = True
        invlists: Any = self._ivf.invlists
        for list_no in range(self._ivf.nlist):
            size = invlists.list_size(list_no)
            if not size:
                continue
            ids = faiss.rev_swig_ptr(invlists.get_ids(list_no), size)
            new = ids >= start
            if not new.any():
                continue
            rows = ids[new]
            if rows.max() >= end:
                raise RuntimeError(f"IVF list {list_no} holds row {rows.max()} past the index's {end} rows")
            codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * self._code).reshape(size, self._code)
            table[rows, self._coarse:] = codes[new]
            table[rows, :self._coarse] = np.frombuffer(list_no.to_bytes(8, "little"), np.uint8)[:self._coarse]
            filled[rows] = True
        if not filled.all():
            raise RuntimeError(f"{int((~filled).sum())} rows of the IVF index are in no inverted list")
        self.table = table

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The decoded vectors of ``rows`` (int64, each below ``len(self)``), as ``reconstruct_batch`` gives them."""
        if not len(rows):
            return np.zeros((0, self._index.d), np.float32)
        return np.asarray(self._index.sa_decode(self.table[rows]), np.float32)

    def scores(self, queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(nq, len(rows))`` inner products of ``queries`` with the decoded vectors of ``rows`` (int64, each below
        ``len(self)``): computed on the codes when there is a `scorer`, else ``queries @ self.vectors(rows).T``."""
        if self.scorer is None:
            return queries @ self.vectors(rows).T
        rows = np.ascontiguousarray(rows, np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):  # the compiled kernel does not check
            raise IndexError(f"rows outside [0, {len(self)}) of the row-ordered codes")
        return self.scorer.scores(self.table, queries, rows)


def row_codes(index: faiss.Index) -> RowCodes | None:
    """A row-ordered code table for an IVF index whose codes ``sa_decode`` reads back as ``reconstruct`` does,
    else None (Flat and HNSW indexes reconstruct rows cheaply already; an index wrapping the IVF in a way
    that changes its codes, e.g. a refine stage, keeps the per-row path)."""
    ivf = ivf_of(index)
    if ivf is None or index.ntotal == 0:
        return None
    try:
        if int(index.sa_code_size()) != int(ivf.sa_code_size()):
            return None
        codes = RowCodes(index, ivf)
        probe = np.unique(np.linspace(0, index.ntotal - 1, 4).astype(np.int64))
        if not np.allclose(codes.vectors(probe), index.reconstruct_batch(probe), rtol=1e-5, atol=1e-5):
            logger.info("no row-ordered codes for %s: its codes decode differently", type(faiss.downcast_index(index)).__name__)
            return None
        codes.scorer = _checked_scorer(index, ivf, codes, probe)
    except RuntimeError as exc:  # sa_decode or reconstruct not implemented for this type
        logger.info("no row-ordered codes for %s: %s", type(faiss.downcast_index(index)).__name__,
                    (str(exc).strip().splitlines() or [""])[-1])
        return None
    return codes


def _checked_scorer(index: faiss.Index, ivf: faiss.IndexIVF, codes: RowCodes, probe: np.ndarray) -> SQ8Scorer | None:
    """`sq8_scorer` for the index when its scores of the ``probe`` rows are the decoded vectors' (to float rounding)."""
    scorer = sq8_scorer(index, ivf)
    if scorer is None:
        return None
    probe = np.unique(np.linspace(0, index.ntotal - 1, 64).astype(np.int64))
    queries = np.random.default_rng(0).standard_normal((2, index.d)).astype(np.float32)
    expected = queries @ codes.vectors(probe).T
    got = scorer.scores(codes.table, queries, probe)
    if not np.allclose(got, expected, rtol=1e-4, atol=1e-4 * float(np.abs(expected).max() + 1)):
        logger.info("no SQ8 scoring for %s: its codes score differently", type(faiss.downcast_index(index)).__name__)
        return None
    return scorer


def decode_rows(index: faiss.Index, rows: np.ndarray, codes: RowCodes | None) -> np.ndarray:
    """The vectors of ``rows`` (int64): from ``codes`` in one call when they cover every row of ``index``, else
    `reconstruct_batch` (one by one; RuntimeError for an index that cannot reconstruct)."""
    if codes is not None and len(codes) == index.ntotal:
        return codes.vectors(rows)
    return np.asarray(index.reconstruct_batch(rows), np.float32)
