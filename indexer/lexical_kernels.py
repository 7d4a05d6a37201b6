"""Compiled BM25 scoring over bm25s's precomputed term x document matrix (CSC: data, indices, indptr).

bm25s stores, for every term, the BM25 contribution of each document holding it, so a query's score
is a sum of stored float32 values. Its numpy backend sums them with ``np.add.at`` into a dense array
of every document and then partitions all of them (~190 ms p95 at 1M products); the kernels here
add the same values in the same order (so the scores are bit-identical) but touch only the postings
of the query's terms, keep the documents they reach, and select the top k of those with a heap.

Two ways to apply a filter (the rows a search may return):
- `score_postings`: walk every posting of the query's terms and skip rows the mask refuses;
- `score_rows`: for a selective filter, intersect each term's sorted posting list with the sorted
  allowed rows, binary-searching the longer list for the items of the shorter one, so a 1% filter
  costs about (allowed rows x terms x log postings) instead of every posting.

Compiled with numba (``cache=True``: the machine code is kept on disk, so a process pays ~0.1 s to
load it instead of ~2 s to compile); `indexer.lexical.LexicalIndex.load` calls them once so the
first shopper pays neither.
"""

from __future__ import annotations

import logging

import numpy as np
from numba import njit

logger = logging.getLogger(__name__)


def _jit(fn):
    """``njit(nogil=True, cache=True)``, or without the disk cache where no cache directory is writable."""
    try:
        return njit(nogil=True, cache=True)(fn)
    except RuntimeError as exc:  # numba finds no writable place for its cache
        logger.warning("numba cannot cache %s (%s); it will be compiled in each process", fn.__name__, exc)
        return njit(nogil=True)(fn)


@_jit
def _worse(s1, d1, s2, d2):  # pragma: no cover - compiled
    """Whether (s1, d1) ranks below (s2, d2): lower score, or the same score and a later row."""
    return s1 < s2 or (s1 == s2 and d1 > d2)


@_jit
def top_k(values, candidates, k):  # pragma: no cover - compiled
    """(scores, candidates) of the k best ``values[candidates]``, best first; ties by ascending candidate."""
    k = min(k, len(candidates))
    heap_s = np.empty(k, np.float32)
    heap_d = np.empty(k, np.int64)
    size = 0
    for c in candidates:
        s = values[c]
        if size < k:  # push, sift up (the root is the worst kept)
            i = size
            size += 1
            while i > 0:
                parent = (i - 1) // 2
                if _worse(s, c, heap_s[parent], heap_d[parent]):
                    heap_s[i], heap_d[i] = heap_s[parent], heap_d[parent]
                    i = parent
                else:
                    break
            heap_s[i], heap_d[i] = s, c
        elif _worse(heap_s[0], heap_d[0], s, c):  # replace the root, sift down
            i = 0
            while True:
                child = 2 * i + 1
                if child >= k:
                    break
                if child + 1 < k and _worse(heap_s[child + 1], heap_d[child + 1], heap_s[child], heap_d[child]):
                    child += 1
                if _worse(heap_s[child], heap_d[child], s, c):
                    heap_s[i], heap_d[i] = heap_s[child], heap_d[child]
                    i = child
                else:
                    break
            heap_s[i], heap_d[i] = s, c
    out_s = np.empty(size, np.float32)
    out_d = np.empty(size, np.int64)
    for j in range(size - 1, -1, -1):  # pop the worst into the last free slot
        out_s[j], out_d[j] = heap_s[0], heap_d[0]
        last_s, last_d = heap_s[j], heap_d[j]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= j:
                break
            if child + 1 < j and _worse(heap_s[child + 1], heap_d[child + 1], heap_s[child], heap_d[child]):
                child += 1
            if _worse(heap_s[child], heap_d[child], last_s, last_d):
                heap_s[i], heap_d[i] = heap_s[child], heap_d[child]
                i = child
            else:
                break
        if j > 0:
            heap_s[i], heap_d[i] = last_s, last_d
    return out_s, out_d


@_jit
def score_postings(data, indices, indptr, term_ids, weights, n_docs, mask, use_mask, k):  # pragma: no cover
    """Top k (scores, rows) over the postings of ``term_ids`` (each scaled by its weight), rows refused
    by ``mask`` skipped when ``use_mask``; only positive contributions count."""
    acc = np.zeros(n_docs, np.float32)
    total = 0
    for t in term_ids:
        total += indptr[t + 1] - indptr[t]
    reached = np.empty(total, np.int64)
    n_reached = 0
    for i in range(len(term_ids)):
        t = term_ids[i]
        w = weights[i]
        for j in range(indptr[t], indptr[t + 1]):
            d = indices[j]
            if use_mask and not mask[d]:
                continue
            v = np.float32(data[j] * w)
            if v <= 0:
                continue
            if acc[d] == 0:
                reached[n_reached] = d
                n_reached += 1
            acc[d] += v
    return top_k(acc, reached[:n_reached], k)


@_jit
def _lower_bound(arr, lo, hi, value):  # pragma: no cover - compiled
    while lo < hi:
        mid = (lo + hi) >> 1
        if arr[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_jit
def score_rows(data, indices, indptr, term_ids, weights, rows, k):  # pragma: no cover - compiled
    """Top k (scores, rows) among ``rows`` (ascending): each term's sorted postings intersected with them."""
    acc = np.zeros(len(rows), np.float32)
    for i in range(len(term_ids)):
        t = term_ids[i]
        w = weights[i]
        lo, hi = indptr[t], indptr[t + 1]
        if hi - lo <= len(rows):  # fewer postings: find each posting among the rows
            at = 0
            for j in range(lo, hi):
                at = _lower_bound(rows, at, len(rows), indices[j])
                if at == len(rows):
                    break
                if rows[at] == indices[j]:
                    v = np.float32(data[j] * w)
                    if v > 0:
                        acc[at] += v
        else:  # fewer rows: find each row among the postings
            at = lo
            for r in range(len(rows)):
                at = _lower_bound(indices, at, hi, rows[r])
                if at == hi:
                    break
                if indices[at] == rows[r]:
                    v = np.float32(data[at] * w)
                    if v > 0:
                        acc[r] += v
    positions = np.flatnonzero(acc > 0)
    scores, best = top_k(acc, positions, k)
    return scores, rows[best]


@_jit
def postings_sorted(indices, indptr):  # pragma: no cover - compiled
    """Whether each term's postings are in ascending row order (what `score_rows` relies on)."""
    for t in range(len(indptr) - 1):
        for j in range(indptr[t] + 1, indptr[t + 1]):
            if indices[j] <= indices[j - 1]:
                return False
    return True
