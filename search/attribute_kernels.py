"""Compiled scoring of the `attributes` signal over the posting lists of the values a query names.

At 1M products a common value ("men", "casual") is held by hundreds of thousands of rows. The numpy
code (`QueryUnderstanding.match_scores`) added each group into a dense array of every row with fancy
indexing, then found the rows above 0, then the tiers that fill the candidate depth over all of them:
~16 ms p50 / 35 ms p95 at 1M. These kernels walk only the query's posting lists (each a sorted slice of
one flat array of rows: `Postings`, laid out by `search.attribute_postings`), keep the sums in two scratch
arrays that they leave all-zero again (a pool, so a request never allocates or clears a million-row array),
and return only the first ``depth`` rows by score, then row (ascending), with their scores: the same float64
sums in the same order as `match_scores` (the same numbers, bit for bit). A query naming large values ("casual
tshirts for men": 100k+ rows on its smallest group's lists) stops as soon as ``depth`` rows holding every best
value are found.

Compiled with numba (``nogil``: other signals of the same request run beside it; ``cache=True``: the
machine code is kept on disk).
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
from numba import njit

from indexer.scratch import ScratchPool
from search.attribute_postings import Postings, QueryLists, build_postings, query_lists

logger = logging.getLogger(__name__)

MAX_TIERS = 8  # score tiers found one by one from the top; more (rare: many groups) and the kernel sorts the scores


def _jit(fn=None, *, inline: Literal["never", "always"] = "never"):
    """``njit(nogil=True, cache=True)``; ``inline="always"`` for helpers of the hot loops (a call to another compiled
    function taking arrays costs reference counting, ~60 ns, more than the helper's work)."""
    if fn is None:
        return lambda f: _jit(f, inline=inline)
    try:
        return njit(nogil=True, cache=True, inline=inline)(fn)
    except RuntimeError as exc:  # no writable cache directory
        logger.warning("numba cannot cache %s (%s); it will be compiled in each process", fn.__name__, exc)
        return njit(nogil=True, inline=inline)(fn)


@_jit(inline="always")
def _holds(single, row_ptr, codes, f, code, r):  # pragma: no cover - compiled
    """Whether row r holds value ``code`` of field ``f`` (`Postings.field_number`)."""
    if f >= 0:
        return single[f, r] == code
    f = -1 - f
    for j in range(row_ptr[f, r], row_ptr[f, r + 1]):
        if codes[j] >= code:
            return codes[j] == code
    return False


@_jit(inline="always")
def _in_every_other_group(r, field, code, group_start, single, row_ptr, codes, smallest):  # pragma: no cover - compiled
    """Whether row r holds a value of every group but ``smallest`` (the one whose lists are walked)."""
    for g in range(len(group_start) - 1):
        if g == smallest:
            continue
        held = False
        for lj in range(group_start[g], group_start[g + 1]):
            if _holds(single, row_ptr, codes, field[lj], code[lj], r):
                held = True
                break
        if not held:
            return False
    return True


@_jit(inline="always")
def _row_score(r, field, code, conf, group_start, factor, single, row_ptr, codes):  # pragma: no cover - compiled
    """Row r's `match_scores` sum: group by group in order, factor x the best confidence among the group's values
    it holds (the same float64 additions; a zero contribution, which changes no sum, is left out)."""
    total = 0.0
    for g in range(len(group_start) - 1):
        best = 0.0
        for li in range(group_start[g], group_start[g + 1]):
            if conf[li] > best and _holds(single, row_ptr, codes, field[li], code[li], r):
                best = conf[li]
        if best > 0.0:
            total += best * factor[g]
    return total


@_jit
def _threshold(values, depth):  # pragma: no cover - compiled
    """The ``depth``-th largest of ``values`` (len >= depth): the lowest score tier kept. Scores come in a few
    tiers (sums of confidences): found from the top, one pass a tier; past `MAX_TIERS`, a sort."""
    cut = values.max()
    for _ in range(MAX_TIERS):
        below = -np.inf  # the best score under `cut`: the next tier
        count = 0
        for v in values:
            if v >= cut:
                count += 1
            elif v > below:
                below = v
        if count >= depth:
            return cut
        cut = below
    return np.sort(values)[len(values) - depth]


@_jit(inline="always")
def _most_scores(conf, group_start, factor, skip):  # pragma: no cover - compiled
    """The most a row can score (`_row_score` of a row holding each group's best value: the same float64 additions
    in the same order), and that sum without group ``skip``'s share (the most a row not holding it can score)."""
    most = 0.0
    without = 0.0
    for g in range(len(group_start) - 1):
        best = 0.0
        for li in range(group_start[g], group_start[g + 1]):
            if conf[li] > best:
                best = conf[li]
        if best > 0.0:
            most += best * factor[g]
            if g != skip:
                without += best * factor[g]
    return most, without


@_jit
def _top_rows(rows, begin, end, field, code, conf, group_start, factor, seeds, weight, single, row_ptr, codes, n, mask,
              has_mask, depth, score):  # pragma: no cover - compiled
    """The first ``depth`` rows (all of them when fewer) by score descending, then row ascending, among the rows below
    ``n`` the mask allows scoring above 0; returned ascending, with their scores. Rows are scored from the seed groups'
    lists only, adding seeds (in `QueryLists.seeds` order) until the depth-th best score among the rows reached beats
    the most a row holding no seed can score (the other groups' weights): then no other row can be kept.

    Early stop: a row scoring the most any row can (``most``, `_most_scores`) holds a value of every group with a
    share (float64 sums only grow with each share), so of the first seed group too; once ``depth`` such rows are
    reached on that group's lists (each ascending), the answer is the ``depth`` smallest rows scoring ``most``, all
    at most the largest of those found (``bound``): the group's lists are walked no further than ``bound`` and the
    other seeds not at all. ``score`` (zeroed, one per row) is left zeroed."""
    total = 0
    for li in range(len(begin)):
        total += end[li] - begin[li]
    reached = np.empty(total, np.int64)
    c = 0
    cut = -np.inf
    groups = len(group_start) - 1
    most, without = _most_scores(conf, group_start, factor, seeds[0] if groups else -1)
    early = depth >= 1 and without < most  # a row without the first seed's share cannot score `most`
    for g in range(groups):
        if factor[g] < 0.0:  # a share below 0: `most` no longer bounds the scores
            early = False
    found = 0  # rows scoring `most` reached on the first seed's lists
    bound = n  # once `depth` are found: the largest of them (no row past it can be kept)
    stopped = False
    for k in range(groups):
        g = seeds[k]
        for li in range(group_start[g], group_start[g + 1]):
            if conf[li] <= 0.0:
                continue
            for i in range(begin[li], end[li]):
                r = rows[i]
                if r >= n or (stopped and r > bound):  # each list ascends
                    break
                if score[r] > 0.0 or (has_mask and not mask[r]):
                    continue
                s = _row_score(r, field, code, conf, group_start, factor, single, row_ptr, codes)
                score[r] = s
                reached[c] = r
                c += 1
                if early and not stopped and s == most:
                    found += 1
                    if found == depth:
                        stopped = True
                        bound = -1
                        for j in range(c):
                            if score[reached[j]] == most and reached[j] > bound:
                                bound = reached[j]
        early = False  # only the first seed's lists are walked with the early stop
        if stopped:
            cut = most
            break
        if k == groups - 1:  # every group walked: every row scoring above 0 is reached
            if c > depth:
                cut = _threshold(score[reached[:c]], depth)
            break
        if c >= depth:
            rest = 0.0  # the most a row holding none of the seeds so far can score
            for j in range(k + 1, groups):
                rest += weight[seeds[j]]
            best = _threshold(score[reached[:c]], depth)
            if best > rest * (1.0 + 1e-9) + 1e-12:
                cut = best
                break
    reached = reached[:c]
    # Kept: every row above the cut, and of those at the cut the smallest, up to `depth` rows in all.
    lo, hi, above, at = n, -1, 0, 0
    for j in range(c):
        r = reached[j]
        s = score[r]
        if s > 0.0 and s >= cut:
            if s > cut:
                above += 1
            else:
                at += 1
            lo, hi = min(lo, r), max(hi, r)
    quota = at if cut == -np.inf else min(at, depth - above)  # rows kept at the cut
    out_rows = np.empty(above + quota, np.int64)
    out_vals = np.empty(above + quota, np.float64)
    k = 0
    if (above + at) * 16 > hi - lo + 1:  # most of the span: read it in row order
        for r in range(lo, hi + 1):
            s = score[r]
            if s > 0.0 and (s > cut or (s == cut and quota > 0)):
                if s == cut:
                    quota -= 1
                out_rows[k] = r
                out_vals[k] = s
                k += 1
    else:  # a few rows: sort them
        candidates = np.empty(above + at, np.int64)
        m = 0
        for j in range(c):
            r = reached[j]
            if score[r] > 0.0 and score[r] >= cut:
                candidates[m] = r
                m += 1
        candidates = candidates[np.argsort(candidates, kind="mergesort")]  # numba's quicksort is quadratic on runs
        for r in candidates:
            s = score[r]
            if s > cut or quota > 0:
                if s == cut:
                    quota -= 1
                out_rows[k] = r
                out_vals[k] = s
                k += 1
    for j in range(c):
        score[reached[j]] = 0.0
    return out_rows, out_vals


@_jit
def _scores_of(docs, field, code, conf, group_start, factor, single, row_ptr, codes, n, mask,
               has_mask):  # pragma: no cover - compiled
    """Each of ``docs``' score (`_row_score`); 0 for a row at or past ``n``, past the lists' rows or not in the mask."""
    out = np.zeros(len(docs), np.float64)
    size = single.shape[1]
    for j in range(len(docs)):
        r = docs[j]
        if 0 <= r < n and r < size and (not has_mask or mask[r]):
            out[j] = _row_score(r, field, code, conf, group_start, factor, single, row_ptr, codes)
    return out


@_jit
def _holding_all(rows, begin, end, field, code, group_start, single, row_ptr, codes, smallest, size):  # pragma: no cover
    """Per row (``size`` rows): whether it holds a value of every group. Walks the lists of the group with the
    fewest rows (``smallest``) and tests the others' values row by row."""
    out = np.zeros(size, np.bool_)
    groups = len(group_start) - 1
    if groups == 0:
        out[:] = True
        return out
    for li in range(group_start[smallest], group_start[smallest + 1]):
        for i in range(begin[li], end[li]):
            r = rows[i]
            if out[r]:
                continue
            out[r] = _in_every_other_group(r, field, code, group_start, single, row_ptr, codes, smallest)
    return out


@_jit
def _count_holding_all(rows, begin, end, field, code, group_start, single, row_ptr, codes, smallest, n, mask,
                       has_mask):  # pragma: no cover - compiled
    """How many rows below ``n`` (that ``mask`` allows) hold a value of every group: `_holding_all`'s count without
    its array of every row. A row on several of the smallest group's lists is counted on the first only (it
    holds none of that group's earlier values)."""
    count = 0
    for li in range(group_start[smallest], group_start[smallest + 1]):
        for i in range(begin[li], end[li]):
            r = rows[i]
            if r >= n or (has_mask and not mask[r]):
                continue
            seen = False
            for lj in range(group_start[smallest], li):
                if _holds(single, row_ptr, codes, field[lj], code[lj], r):
                    seen = True
                    break
            if seen:
                continue
            if _in_every_other_group(r, field, code, group_start, single, row_ptr, codes, smallest):
                count += 1
    return count


def top_rows(postings: Postings, lists: QueryLists, n: int, mask: np.ndarray | None, depth: int,
             scratch: ScratchPool) -> tuple[np.ndarray, np.ndarray]:
    """`_top_rows` with a scratch array from ``scratch`` (``mask``: one bool per row below ``n``, or None)."""
    score = scratch.take()
    m = mask if mask is not None else np.zeros(0, np.bool_)
    out = _top_rows(postings.rows, lists.begin, lists.end, lists.field, lists.code, lists.confidence,
                    lists.group_start, lists.factor, lists.seeds, lists.weight, postings.single, postings.row_ptr,
                    postings.codes, n, m, mask is not None, depth, score)
    scratch.give(score)  # not given back when the kernel raised: it may not be zeroed
    return out


def scores_of(postings: Postings, lists: QueryLists, docs: np.ndarray, n: int, mask: np.ndarray | None) -> np.ndarray:
    """Each of ``docs``' score (float64, the `_row_score` sum), 0 where at or past ``n`` or outside ``mask``."""
    m = mask if mask is not None else np.zeros(0, np.bool_)
    return _scores_of(np.ascontiguousarray(docs, np.int64), lists.field, lists.code, lists.confidence,
                      lists.group_start, lists.factor, postings.single, postings.row_ptr, postings.codes, n, m,
                      mask is not None)


def holding_all(postings: Postings, lists: QueryLists, size: int) -> np.ndarray:
    smallest = _smallest_group(lists)
    return _holding_all(postings.rows, lists.begin, lists.end, lists.field, lists.code, lists.group_start,
                        postings.single, postings.row_ptr, postings.codes, smallest, size)


def count_holding_all(postings: Postings, lists: QueryLists, n: int, mask: np.ndarray | None) -> int:
    """How many rows below ``n`` that ``mask`` allows (one bool per row, or None: all) hold a value of every group:
    ``(holding_all(...)[:n] & mask).sum()`` without a per-row array (the relevant set's `total`)."""
    groups = len(lists.group_start) - 1
    if groups == 0:
        return int(n if mask is None else np.count_nonzero(mask[:n]))
    smallest = _smallest_group(lists)
    m = mask if mask is not None else np.zeros(0, np.bool_)
    return int(_count_holding_all(postings.rows, lists.begin, lists.end, lists.field, lists.code, lists.group_start,
                                  postings.single, postings.row_ptr, postings.codes, smallest, n, m, mask is not None))


def _smallest_group(lists: QueryLists) -> int:
    """The group whose lists hold the fewest rows (the one walked; the others are tested row by row)."""
    groups = len(lists.group_start) - 1
    sizes = [int((lists.end[lists.group_start[g]:lists.group_start[g + 1]]
                  - lists.begin[lists.group_start[g]:lists.group_start[g + 1]]).sum()) for g in range(groups)]
    return int(np.argmin(sizes)) if groups else 0


def warm() -> None:
    """Compile (or load from the disk cache) the kernels now, not on a shopper's first query."""
    postings = build_postings({"f": (np.array([0, 0, 1]), np.array([0, 1, 3]), np.array([0, 1, 1]))}, 2)
    lists = query_lists(postings, [[("f", 0, 1.0, 0, 1)], [("f", 1, 0.9, 1, 3)]], [2.0, 1.0])
    top_rows(postings, lists, 2, None, 1, ScratchPool(2))
    top_rows(postings, lists, 2, np.ones(2, np.bool_), 1, ScratchPool(2))
    scores_of(postings, lists, np.array([0, 1]), 2, None)
    scores_of(postings, lists, np.array([0, 1]), 2, np.ones(2, np.bool_))
    holding_all(postings, lists, 2)
    count_holding_all(postings, lists, 2, None)
    count_holding_all(postings, lists, 2, np.ones(2, np.bool_))
