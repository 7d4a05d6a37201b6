"""The layout the compiled `attributes` kernels (`search.attribute_kernels`) read: every field's posting lists as
slices of one flat array with the per-row code table (`Postings`, built once per index), and a parsed query as the
arrays of its lists and groups (`QueryLists`, built per query). Plain numpy, kept apart from the kernels so that
what the kernels compute and how their inputs are laid out can be read (and changed) one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Postings:
    """Every field's value -> rows lists as slices of one flat array (rows ascending within a value), and the
    transpose, row -> the codes it holds per field (CSR), to test whether a row holds a value without a list."""

    rows: np.ndarray  # int64, all fields' lists one after the other
    starts: dict[str, int]  # field -> where its lists begin in `rows`
    field_number: dict[str, int]  # field -> its row of `single` (>= 0) or -1 - its row of `row_ptr`
    single: np.ndarray  # int32 (fields holding at most one value a row, n): the code row r holds, -1 for none
    row_ptr: np.ndarray  # int64 (other fields, n + 1): row r's codes in field f are codes[row_ptr[f, r]:row_ptr[f, r + 1]]
    codes: np.ndarray  # int32, ascending per row and field


@dataclass(frozen=True)
class QueryLists:
    """A parsed query as the kernels take it: per posting list its slice, value and confidence, per group its lists,
    factor and weight (its largest possible contribution), and the order groups are tried as seeds."""

    begin: np.ndarray  # int64, per list
    end: np.ndarray  # int64, per list
    field: np.ndarray  # int64, per list: the field's number in `Postings.row_ptr`
    code: np.ndarray  # int64, per list
    confidence: np.ndarray  # float64, per list
    group_start: np.ndarray  # int64, per group + 1: the lists of group g are group_start[g]:group_start[g + 1]
    factor: np.ndarray  # float64, per group
    weight: np.ndarray  # float64, per group: factor x its best confidence (the most it adds to a row's score)
    seeds: np.ndarray  # int64, the group with the fewest rows, then the others by weight (largest first), then rows


def build_postings(fields: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], n: int) -> Postings:
    """``fields``: name -> (rows sorted by code, code offsets into them, the code of each of those rows)."""
    names = list(fields)
    flat = np.ascontiguousarray(np.concatenate([fields[f][0] for f in names]) if names else np.zeros(0), np.int64)
    starts, number, at = {}, {}, 0
    single: list[np.ndarray] = []
    multi: list[tuple[np.ndarray, np.ndarray]] = []
    for name in names:
        rows, _, row_codes = fields[name]
        starts[name] = at
        at += len(rows)
        per_row = np.bincount(rows, minlength=n)[:n]
        if not len(per_row) or per_row.max() <= 1:
            codes = np.full(n, -1, np.int32)
            codes[rows] = row_codes
            number[name] = len(single)
            single.append(codes)
        else:
            order = np.lexsort((row_codes, rows))
            number[name] = -1 - len(multi)
            multi.append((np.concatenate([[0], np.cumsum(per_row)]), row_codes[order].astype(np.int32)))
    base = np.cumsum([0] + [len(c) for _, c in multi])
    row_ptr = np.zeros((max(len(multi), 1), n + 1), np.int64)
    for i, (ptr, _) in enumerate(multi):
        row_ptr[i] = base[i] + ptr
    codes = np.concatenate([c for _, c in multi]) if multi else np.zeros(0, np.int32)
    return Postings(flat, starts, number, np.stack(single) if single else np.zeros((1, n), np.int32), row_ptr,
                    codes)


def query_lists(postings: Postings, groups: list[list[tuple[str, int, float, int, int]]],
                factors: list[float]) -> QueryLists:
    """``groups``: per group, per value: (field, code, confidence, first, past-the-last index of its list within the
    field's lists)."""
    begin, end, field, code, confidence, group_start = [], [], [], [], [], [0]
    for group in groups:
        for name, value, conf, first, last in group:
            base = postings.starts[name]
            begin.append(base + first)
            end.append(base + last)
            field.append(postings.field_number[name])
            code.append(value)
            confidence.append(conf)
        group_start.append(len(begin))
    i64 = lambda x: np.array(x, np.int64)  # noqa: E731
    weight = np.array([factor * max((conf for _, _, conf, _, _ in group), default=0.0)
                       for group, factor in zip(groups, factors, strict=True)], np.float64)
    sizes = [sum(last - first for *_, first, last in group) for group in groups]
    seeds = sorted(range(len(groups)), key=lambda g: (-weight[g], sizes[g], g))
    # The group with the shortest lists walked first: when the depth-th best row holding it holds (nearly) every
    # value, no row without it can reach the depth (the stop rule holds for any order), so only that list is walked
    # (a brand's ~10k rows at 1M products instead of its product type's ~100k); else the others follow as before,
    # at the cost of that shortest walk.
    scoring = [g for g in seeds if weight[g] > 0]
    if len(scoring) > 1:
        first = min(scoring, key=lambda g: (sizes[g], g))
        seeds = [first] + [g for g in seeds if g != first]
    return QueryLists(i64(begin), i64(end), i64(field), i64(code), np.array(confidence, np.float64),
                      i64(group_start), np.array(factors, np.float64), weight, i64(seeds))
