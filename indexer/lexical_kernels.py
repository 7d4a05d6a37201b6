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


def _jit(fn=None, *, inline: str = "never"):
    """``njit(nogil=True, cache=True)``, or without the disk cache where no cache directory is writable.

    ``inline="always"`` for the small helpers of the hot loops: a call to another compiled function that
    takes arrays costs reference counting (~60 ns), more than scoring a posting."""
    if fn is None:
        return lambda f: _jit(f, inline=inline)
    try:
        return njit(nogil=True, cache=True, inline=inline)(fn)
    except RuntimeError as exc:  # numba finds no writable place for its cache
        logger.warning("numba cannot cache %s (%s); it will be compiled in each process", fn.__name__, exc)
        return njit(nogil=True, inline=inline)(fn)


@_jit(inline="always")
def _worse(s1, d1, s2, d2):  # pragma: no cover - compiled
    """Whether (s1, d1) ranks below (s2, d2): lower score, or the same score and a later row."""
    return s1 < s2 or (s1 == s2 and d1 > d2)


@_jit(inline="always")
def _sift_up(heap_s, heap_d, pos, s, c):  # pragma: no cover - compiled
    """Place (s, c) at the hole ``pos`` of the min-heap, moving better parents down while it is worse."""
    while pos > 0:
        parent = (pos - 1) >> 1
        if _worse(s, c, heap_s[parent], heap_d[parent]):
            heap_s[pos], heap_d[pos] = heap_s[parent], heap_d[parent]
            pos = parent
        else:
            break
    heap_s[pos], heap_d[pos] = s, c


@_jit(inline="always")
def _replace_root(heap_s, heap_d, size, s, c):  # pragma: no cover - compiled
    """Put (s, c) in place of the root of a min-heap (root: the worst kept) of ``size`` items.

    Bottom-up: the hole goes down to a leaf along the worse children (one comparison a level), then
    (s, c) climbs from there; a new item rarely climbs far, so this compares about half as often as
    the textbook sift-down."""
    pos = 0
    child = 1
    while child < size:
        right = child + 1
        if right < size and _worse(heap_s[right], heap_d[right], heap_s[child], heap_d[child]):
            child = right
        heap_s[pos], heap_d[pos] = heap_s[child], heap_d[child]
        pos = child
        child = 2 * pos + 1
    _sift_up(heap_s, heap_d, pos, s, c)


@_jit(inline="always")
def _offer(heap_s, heap_d, size, s, c):  # pragma: no cover - compiled
    """Offer (s, c) to the bounded heap of capacity len(heap_s) holding ``size`` items; the new size."""
    if size < len(heap_s):  # push, sift up
        _sift_up(heap_s, heap_d, size, s, c)
        return size + 1
    if _worse(heap_s[0], heap_d[0], s, c):  # better than the worst kept: replace it
        _replace_root(heap_s, heap_d, size, s, c)
    return size


@_jit
def _drain(heap_s, heap_d, size):  # pragma: no cover - compiled
    """The heap's items, best first."""
    out_s = np.empty(size, np.float32)
    out_d = np.empty(size, np.int64)
    for j in range(size - 1, -1, -1):  # pop the worst into the last free slot
        out_s[j], out_d[j] = heap_s[0], heap_d[0]
        if j > 0:
            _replace_root(heap_s, heap_d, j, heap_s[j], heap_d[j])
    return out_s, out_d


@_jit
def top_k(values, candidates, k):  # pragma: no cover - compiled
    """(scores, candidates) of the k best ``values[candidates]``, best first; ties by ascending candidate."""
    heap_s = np.empty(max(0, min(k, len(candidates))), np.float32)
    heap_d = np.empty(len(heap_s), np.int64)
    size = 0
    cap = len(heap_s)
    for c in candidates:
        v = values[c]
        if size < cap or _worse(heap_s[0], heap_d[0], v, c):
            size = _offer(heap_s, heap_d, size, v, c)
    return _drain(heap_s, heap_d, size)


@_jit
def top_k_positive(values, k):  # pragma: no cover - compiled
    """(scores, rows) of the k best positive ``values``, best first; ties by ascending row (one pass in row
    order, so an equal score never displaces one kept)."""
    heap_s = np.empty(max(0, k), np.float32)
    heap_d = np.empty(len(heap_s), np.int64)
    size = 0
    cap = len(heap_s)
    if cap == 0:
        return _drain(heap_s, heap_d, 0)
    c = 0
    n = len(values)
    while c < n and size < cap:  # fill with the first positive values
        if values[c] > 0:
            size = _offer(heap_s, heap_d, size, values[c], c)
        c += 1
    while c < n:  # then one compare per row (the root is positive, so no separate test for zero: a
        v = values[c]  # data-dependent branch per row cost ~2 ms at 1M rows)
        if v > heap_s[0]:
            size = _offer(heap_s, heap_d, size, v, c)
        c += 1
    return _drain(heap_s, heap_d, size)


@_jit
def _add_unit(data, indices, lo, hi, times, acc):  # pragma: no cover - compiled
    """Add each positive stored score of postings lo:hi to its row, ``times`` times in turn (a word said that many
    times in a row: the same float32 adds as that many walks)."""
    if times == 1:
        for j in range(lo, hi):
            v = data[j]
            if v <= 0:
                continue
            acc[indices[j]] += v
        return
    for j in range(lo, hi):
        v = data[j]
        if v <= 0:
            continue
        d = indices[j]
        a = acc[d]
        for _ in range(times):
            a += v
        acc[d] = a


@_jit
def _add_unit_masked(data, indices, lo, hi, times, mask, acc):  # pragma: no cover - compiled
    """`_add_unit` for the rows ``mask`` allows."""
    for j in range(lo, hi):
        d = indices[j]
        if not mask[d]:
            continue
        v = data[j]
        if v <= 0:
            continue
        a = acc[d]
        for _ in range(times):
            a += v
        acc[d] = a


@_jit
def _add_weighted(data, indices, lo, hi, weights, mask, use_mask, track, acc, reached, n_reached):  # pragma: no cover
    """Add float32(stored score x weight) of postings lo:hi to their rows, once per weight in turn (a word said
    again right after: one walk, the same adds), the positive ones, rows refused by ``mask`` skipped when
    ``use_mask``; with ``track``, rows reached for the first time go to ``reached``. The new count reached."""
    if len(weights) == 1:
        w = weights[0]
        unit = w == 1.0
        for j in range(lo, hi):
            d = indices[j]
            if use_mask and not mask[d]:
                continue
            v = data[j] if unit else np.float32(data[j] * w)
            if v <= 0:
                continue
            if track and acc[d] == 0:
                reached[n_reached] = d
                n_reached += 1
            acc[d] += v
        return n_reached
    for j in range(lo, hi):
        d = indices[j]
        if use_mask and not mask[d]:
            continue
        a = acc[d]
        first = a == 0
        added = False
        for w in weights:
            v = data[j] if w == 1.0 else np.float32(data[j] * w)
            if v <= 0:
                continue
            a += v
            added = True
        if not added:
            continue
        if track and first:
            reached[n_reached] = d
            n_reached += 1
        acc[d] = a
    return n_reached


@_jit(inline="always")
def _repeats_end(term_ids, i):  # pragma: no cover - compiled
    """The end of the run of query terms equal to ``term_ids[i]`` from i on (a word said twice in a row)."""
    end = i + 1
    while end < len(term_ids) and term_ids[end] == term_ids[i]:
        end += 1
    return end


@_jit
def score_postings(data, indices, indptr, term_ids, weights, n_docs, mask, use_mask, track, k, acc):  # pragma: no cover
    """Top k (scores, rows) over the postings of ``term_ids`` (each scaled by its weight), rows refused
    by ``mask`` skipped when ``use_mask``; only positive contributions count.

    ``track``: remember the rows reached and select among them (when few are: few postings, or few
    allowed rows); else add into the dense array alone and scan it once in row order (cheaper when a
    large share of the rows is reached: no branch per posting, a sequential scan).

    ``acc``: float32 zeros, one per row (``n_docs``), the sums' scratch, left zeroed again: a request does
    not allocate (and fault in) a fresh array of every row (4 MB at 1M products)."""
    total = 0
    if track:
        for t in term_ids:
            total += indptr[t + 1] - indptr[t]
    reached = np.empty(total, np.int64)
    n_reached = 0
    i = 0
    while i < len(term_ids):
        t = term_ids[i]
        end = _repeats_end(term_ids, i)
        lo, hi = indptr[t], indptr[t + 1]
        if np.all(weights[i:end] == 1.0) and not track:
            # the common cases, their own loops: float32(x * 1.0) is x (no float64 product to round back), and no
            # flag left to test per posting (a fifth of the walk)
            if use_mask:
                _add_unit_masked(data, indices, lo, hi, end - i, mask, acc)
            else:
                _add_unit(data, indices, lo, hi, end - i, acc)
        else:
            n_reached = _add_weighted(data, indices, lo, hi, weights[i:end], mask, use_mask, track, acc, reached,
                                      n_reached)
        i = end
    if track:
        out = top_k(acc, reached[:n_reached], k)
        for j in range(n_reached):
            acc[reached[j]] = 0
        return out
    out = top_k_positive(acc, k)
    walked = 0
    for t in term_ids:
        walked += indptr[t + 1] - indptr[t]
    if walked * 16 < n_docs:  # few rows touched: clear those
        for t in term_ids:
            for j in range(indptr[t], indptr[t + 1]):
                acc[indices[j]] = 0
    else:
        acc[:] = 0
    return out


@_jit(inline="always")
def _lower_bound(arr, lo, hi, value):  # pragma: no cover - compiled
    while lo < hi:
        mid = (lo + hi) >> 1
        if arr[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_jit(inline="always")
def _gallop(arr, lo, hi, value):  # pragma: no cover - compiled
    """`_lower_bound` searching forward from ``lo`` in steps of 1, 2, 4, ... then halving: a near answer costs a
    few steps over nearby memory (the items searched for come in ascending order), a far one twice a binary search."""
    if lo >= hi or arr[lo] >= value:
        return lo
    prev = lo  # arr[prev] < value
    step = 1
    while True:
        nxt = prev + step
        if nxt >= hi:
            return _lower_bound(arr, prev + 1, hi, value)
        if arr[nxt] >= value:
            return _lower_bound(arr, prev + 1, nxt, value)
        prev = nxt
        step <<= 1


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
                at = _gallop(rows, at, len(rows), indices[j])
                if at == len(rows):
                    break
                if rows[at] == indices[j]:
                    v = np.float32(data[j] * w)
                    if v > 0:
                        acc[at] += v
        else:  # fewer rows: find each row among the postings
            at = lo
            for r in range(len(rows)):
                at = _gallop(indices, at, hi, rows[r])
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
