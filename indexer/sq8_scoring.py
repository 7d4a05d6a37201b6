"""Inner products of queries with an IVF,SQ8 index's rows computed on the uint8 codes, without decoding them.

An 8-bit scalar quantizer decodes component ``j`` of a code as ``vmin[j] + (code[j] + 0.5) / 255 * vdiff[j]``,
and an IVF index that encodes residuals adds the row's list centroid. So a query ``q``'s inner product with a
decoded row is an affine function of the row's codes::

    <q, c_list + vmin + (code + 0.5) * vdiff / 255> = <q, c_list> + <q, vmin + vdiff / 510> + sum_j w[j] code[j]

with ``w = q * vdiff / 255``: one ``<q, c>`` per list (1024 of them, 0.4 M multiply-adds), one constant, and a
uint8 x float32 dot product per row. Scoring a 1% filter's 10k rows of 1M (IVF1024,SQ8, 384-d) this way reads
their 3.9 MB of codes once, where decoding them first (`RowCodes.vectors` then a matmul) writes and reads
15 MB of float32 vectors and decodes each row through FAISS's generic path. The scores are those of the
decoded vectors to float rounding (the sums are taken in another order), so the top k is the same one but
at float-rounding ties; `sq8_scorer` checks that on a few rows before it is used.

Compiled with numba (``cache=True``), as the BM25 and attributes kernels are.
"""

from __future__ import annotations

import logging
from typing import Literal

import faiss
import numpy as np
from numba import njit

logger = logging.getLogger(__name__)

# 8-bit quantizer types whose decoding is ``vmin + (code + 0.5) / 255 * vdiff`` (per dimension, or one range).
_AFFINE_8BIT = {int(faiss.ScalarQuantizer.QT_8bit): False, int(faiss.ScalarQuantizer.QT_8bit_uniform): True}


# Only reassociation (and fused multiply-adds): LLVM may split the dot product's sum into SIMD lanes. Not the
# no-NaN/no-inf assumptions of fastmath=True: a non-finite query still gives NaN scores, as the decoded path does.
_FASTMATH = {"reassoc", "contract"}


def _jit(fn=None, *, inline: Literal["never", "always"] = "never"):
    """``njit(nogil=True, cache=True, fastmath=_FASTMATH)``; without the disk cache where no cache directory is
    writable; ``inline="always"`` for a small helper taking an array (a call costs reference counting)."""
    if fn is None:
        return lambda f: _jit(f, inline=inline)
    try:
        return njit(nogil=True, cache=True, fastmath=_FASTMATH, inline=inline)(fn)
    except RuntimeError as exc:  # numba finds no writable place for its cache
        logger.warning("numba cannot cache %s (%s); it will be compiled in each process", fn.__name__, exc)
        return njit(nogil=True, fastmath=_FASTMATH, inline=inline)(fn)


@_jit(inline="always")
def _list_of(row, coarse):  # pragma: no cover - compiled
    """The list number in the first ``coarse`` bytes of a row of `RowCodes.table` (little-endian)."""
    list_no = 0
    for b in range(coarse):
        list_no |= np.int64(row[b]) << (8 * b)
    return list_no


@_jit
def _score_rows(table, coarse, rows, weights, list_scores, out):  # pragma: no cover - compiled
    """out[i] = list_scores[list of rows[i]] + sum_j weights[j] * code_j of rows[i] (``table``: `RowCodes.table`).

    Four rows at a time: their codes are loaded side by side, so the CPU waits for four rows' cache misses at
    once instead of one after the other (a filter's rows are scattered over a table of ~400 MB at 1M). Rows
    are 1-d views and codes slices of them: indexing ``table[r, coarse + j]`` in the inner loop kept LLVM
    from vectorising it (15 ms instead of 0.9 ms for 10k random rows of 1M, 384-d)."""
    d = weights.shape[0]
    m = rows.shape[0]
    i = 0
    while i + 4 <= m:
        r0, r1, r2, r3 = table[rows[i]], table[rows[i + 1]], table[rows[i + 2]], table[rows[i + 3]]
        c0, c1, c2, c3 = r0[coarse:], r1[coarse:], r2[coarse:], r3[coarse:]
        a0 = a1 = a2 = a3 = np.float32(0.0)
        for j in range(d):
            w = weights[j]
            a0 += w * np.float32(c0[j])
            a1 += w * np.float32(c1[j])
            a2 += w * np.float32(c2[j])
            a3 += w * np.float32(c3[j])
        out[i] = list_scores[_list_of(r0, coarse)] + a0
        out[i + 1] = list_scores[_list_of(r1, coarse)] + a1
        out[i + 2] = list_scores[_list_of(r2, coarse)] + a2
        out[i + 3] = list_scores[_list_of(r3, coarse)] + a3
        i += 4
    while i < m:
        r0 = table[rows[i]]
        c0 = r0[coarse:]
        a0 = np.float32(0.0)
        for j in range(d):
            a0 += weights[j] * np.float32(c0[j])
        out[i] = list_scores[_list_of(r0, coarse)] + a0
        i += 1


class SQ8Scorer:
    """Scores rows of an IVF,SQ8 index from their row-ordered codes (`indexer.ivf_codes.RowCodes.table`)."""

    def __init__(self, centroids: np.ndarray | None, vmin: np.ndarray, vdiff: np.ndarray, coarse: int,
                 nlist: int) -> None:
        self.centroids = centroids  # (nlist, d) float32, or None when the codes are not residuals
        self.vmin = np.ascontiguousarray(vmin, np.float32)
        self.vdiff = np.ascontiguousarray(vdiff, np.float32)
        self.coarse = coarse
        self.nlist = nlist  # every list number in the codes is below it (the kernel does not check)

    def scores(self, table: np.ndarray, queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(nq, len(rows))`` float32 inner products of ``queries`` with the decoded vectors of ``rows`` (int64)."""
        out = np.empty((len(queries), len(rows)), np.float32)
        for qi, q in enumerate(queries):
            weights = (q * self.vdiff / np.float32(255.0)).astype(np.float32)
            offset = np.float32(q @ (self.vmin + self.vdiff / np.float32(510.0)))
            if self.centroids is None:
                list_scores = np.full(self.nlist, offset, np.float32)
            else:
                list_scores = (self.centroids @ q + offset).astype(np.float32)
            _score_rows(table, self.coarse, rows, weights, list_scores, out[qi])
        return out


def sq8_scorer(index: faiss.Index, ivf: faiss.IndexIVF) -> SQ8Scorer | None:
    """A scorer for ``index`` when it is an IVF with an 8-bit scalar quantizer and nothing around it (no
    pre-transform or refine stage: the row codes must be the IVF's own), else None."""
    sq_index = faiss.downcast_index(index)
    if not isinstance(sq_index, faiss.IndexIVFScalarQuantizer) or int(sq_index.sq.qtype) not in _AFFINE_8BIT:
        return None
    d = int(index.d)
    trained = faiss.vector_to_array(sq_index.sq.trained).astype(np.float32)
    if _AFFINE_8BIT[int(sq_index.sq.qtype)]:  # one range for every dimension
        vmin, vdiff = np.full(d, trained[0], np.float32), np.full(d, trained[1], np.float32)
    else:
        vmin, vdiff = trained[:d], trained[d:2 * d]
    centroids = None
    if ivf.by_residual:
        centroids = np.ascontiguousarray(ivf.quantizer.reconstruct_n(0, ivf.nlist), np.float32)
    return SQ8Scorer(centroids, vmin, vdiff, int(ivf.coarse_code_size()), int(ivf.nlist))  # type: ignore[attr-defined]
