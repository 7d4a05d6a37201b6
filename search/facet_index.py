"""Facet columns of one product store: an integer code per product row for every facet field, built once.

A product can hold several category levels, kept as parallel ``(row, code)`` arrays, so counting a
candidate set is one ``np.bincount`` per field (`search.facets` does the counting). Everything here is
linear in the catalog's (product, value) pairs, whatever one product holds: a product with 20,000
attributes or category levels made the per-name and per-level scans quadratic.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.catalog import Product

ATTRIBUTE_FACETS = ("gender", "colour")  # shown first when the catalog has them
MAX_FACET_VALUES = 50  # an attribute with more distinct values gets no facet (the category and filters cover it)
MAX_ATTRIBUTE_FACETS = 40  # the most widely held attributes get one; each costs a count (and a retrieval per query)
ID_LIKE_SHARE = 0.5  # more distinct values than this share of the products holding the attribute: an identifier


@dataclass
class _Field:
    """One single-valued facet field: a code per row (-1 = none) and the display value per code."""

    codes: np.ndarray
    values: list[str]
    keys: dict[str, int]

    @classmethod
    def build(cls, raw: Sequence[str | None]) -> _Field:
        return cls(np.zeros(0, np.int64), [], {}).extended(raw)

    def count(self, selected: np.ndarray) -> np.ndarray:
        codes = self.codes[selected]
        return np.bincount(codes[codes >= 0], minlength=len(self.values))

    def extended(self, raw: Sequence[str | None]) -> _Field:
        """This field with rows appended (new values get new codes); ``self`` is left as it was."""
        keys, values = dict(self.keys), list(self.values)
        codes = np.full(len(raw), -1, dtype=np.int64)
        for row, value in enumerate(raw):
            if not value:
                continue
            key = value.lower()
            if key not in keys:
                keys[key] = len(values)
                values.append(value)
            codes[row] = keys[key]
        return _Field(np.concatenate([self.codes, codes]), values, keys)


def first_values(attributes: dict[str, str]) -> dict[str, str]:
    """Attribute name (lower case) -> the value under its first spelling in the product (what a
    case-insensitive lookup by name finds), in one pass over the product's attributes."""
    out: dict[str, str] = {}
    for key, value in attributes.items():
        out.setdefault(key.lower(), value)
    return out


class FacetIndex:
    """Facet columns of one product store, built once (O(products x values))."""

    def __init__(self, products: list[Product]):
        self.n = len(products)
        self.brand = _Field.build([p.brand for p in products])
        self.attributes = _attribute_fields(products)
        self.price = np.array([np.nan if p.price is None else p.price for p in products], dtype=np.float64)
        keys: dict[str, int] = {}
        values: list[str] = []
        level_of: list[int] = []
        parents: list[dict[str, int]] = []
        rows: list[int] = []
        codes: list[int] = []
        for row, p in enumerate(products):
            seen: set[int] = set()
            for level, value in enumerate(p.category):
                key = value.lower()
                if key not in keys:
                    keys[key] = len(values)
                    values.append(value)
                    level_of.append(level)
                    parents.append({})
                code = keys[key]
                level_of[code] = min(level_of[code], level)
                if level:
                    parent = p.category[level - 1]
                    parents[code][parent] = parents[code].get(parent, 0) + 1
                if code not in seen:
                    seen.add(code)
                    rows.append(row)
                    codes.append(code)
        self.category_values = values
        self.category_keys = keys
        self.category_level = level_of
        self.category_parent = [max(p, key=p.__getitem__) if p else None for p in parents]
        self.category_rows = np.asarray(rows, dtype=np.int64)
        self.category_codes = np.asarray(codes, dtype=np.int64)

    def extended(self, products: Sequence[Product]) -> FacetIndex:
        """The index of these rows followed by ``products`` (live additions: O(added rows), ``self`` unchanged).
        The facet fields stay this index's: an attribute first seen in ``products`` gets a facet at the next
        full build (a compaction); a category first seen there gets its level and parent from them."""
        out = copy.copy(self)
        out.n = self.n + len(products)
        out.brand = self.brand.extended([p.brand for p in products])
        found = [first_values(p.attributes) for p in products]
        out.attributes = {name: f.extended([values.get(name.lower()) for values in found])
                          for name, f in self.attributes.items()}
        out.price = np.concatenate([self.price, [np.nan if p.price is None else p.price for p in products]])
        keys, values, levels = dict(self.category_keys), list(self.category_values), list(self.category_level)
        parents = list(self.category_parent)
        rows: list[int] = []
        codes: list[int] = []
        for row, p in enumerate(products, start=self.n):
            seen: set[int] = set()
            for level, value in enumerate(p.category):
                key = value.lower()
                if key not in keys:
                    keys[key] = len(values)
                    values.append(value)
                    levels.append(level)
                    parents.append(p.category[level - 1] if level else None)
                code = keys[key]
                if code not in seen:
                    seen.add(code)
                    rows.append(row)
                    codes.append(code)
        out.category_keys, out.category_values, out.category_level, out.category_parent = keys, values, levels, parents
        out.category_rows = np.concatenate([self.category_rows, np.asarray(rows, np.int64)])
        out.category_codes = np.concatenate([self.category_codes, np.asarray(codes, np.int64)])
        return out

    def category_counts(self, selected: np.ndarray) -> np.ndarray:
        return np.bincount(self.category_codes[selected[self.category_rows]], minlength=len(self.category_values))

    def category_codes_by_level(self) -> dict[int, list[int]]:
        """Category value codes grouped by level, in code order (one pass over the values)."""
        by_level: dict[int, list[int]] = {}
        for code, level in enumerate(self.category_level):
            by_level.setdefault(level, []).append(code)
        return by_level


def _attribute_fields(products: list[Product]) -> dict[str, _Field]:
    """A field per attribute (names matched case-insensitively, spelt as first seen) with at most
    MAX_FACET_VALUES distinct values, at most MAX_ATTRIBUTE_FACETS of them (the most widely held);
    `ATTRIBUTE_FACETS` first, then in order of first appearance. One pass over every (product, attribute)."""
    spelt: dict[str, str] = {}
    distinct: dict[str, set[str]] = {}
    holders: Counter[str] = Counter()
    for p in products:
        for key, value in p.attributes.items():
            low = key.lower()
            spelt.setdefault(low, key)
            seen = distinct.setdefault(low, set())
            if len(seen) <= MAX_FACET_VALUES and value:
                seen.add(value.lower())
            if value:
                holders[low] += 1
    # an identifier (a value per product, like a sku) is no facet, however small the catalog
    names = [low for low in spelt if 0 < len(distinct[low]) <= MAX_FACET_VALUES
             and not (len(distinct[low]) > 10 and len(distinct[low]) > ID_LIKE_SHARE * holders[low])]
    names.sort(key=lambda low: ATTRIBUTE_FACETS.index(low) if low in ATTRIBUTE_FACETS else len(ATTRIBUTE_FACETS))
    if len(names) > MAX_ATTRIBUTE_FACETS:
        kept = set(sorted(names, key=lambda low: (low not in ATTRIBUTE_FACETS, -holders[low]))[:MAX_ATTRIBUTE_FACETS])
        names = [low for low in names if low in kept]
    raw: dict[str, list[str | None]] = {low: [None] * len(products) for low in names}
    for row, p in enumerate(products):
        for low, value in first_values(p.attributes).items():
            column = raw.get(low)
            if column is not None:
                column[row] = value
    return {spelt[low]: _Field.build(raw[low]) for low in names}
