"""Facet counts (every small attribute, brand, category, price) over the relevant set of a query.

Facets come from the catalog: every attribute with at most `MAX_FACET_VALUES` distinct values
(`gender`, `colour`, `baseColour`, `size`, `material`, ...), plus brand, category and price; their
order and labels are a `FacetLayout` (`prodsearch serve --facets`, `PRODSEARCH_FACETS`).

Counting is numpy only: every facet field is precomputed once per index as an
integer code per product row (a product can hold several category levels, kept
as parallel ``(row, code)`` arrays), so counting a candidate set is one
``np.bincount``.

Semantics (the usual shopper "disjunctive" facets):

- the candidate set is the whole catalog without a query, or the query's relevant
  set (`search.relevant`: the products holding the catalog values a text query
  names, else the fused candidates above the relevance cutoff; what `total` of a
  search counts); either way narrowed by the current filters;
- a multi-select field (brand, gender, colour) and the price range are counted
  with every filter *except their own*, so the other values stay visible with
  the counts that ticking them would add;
- category values are a drill-down (chosen levels combine with "all of"): the
  values of level L are counted with every filter, but of the chosen categories
  only those above level L, so a sibling of a chosen category shows what
  choosing it instead would give.
"""

from __future__ import annotations

import copy
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from indexer.catalog import Product
from indexer.encoder_cache import cached_encoders
from indexer.errors import ProdsearchError
from search.filters import Filters
from search.fusion import fuse
from search.relevant import above_cutoff, understood_mask
from search.timing import timed as _timed
from search.types import SearchRequest

if TYPE_CHECKING:
    from search.searcher import Searcher

logger = logging.getLogger(__name__)

ATTRIBUTE_FACETS = ("gender", "colour")  # shown first when the catalog has them
MAX_FACET_VALUES = 50  # an attribute with more distinct values gets no facet (the category and filters cover it)
ID_LIKE_SHARE = 0.5  # more distinct values than this share of the products holding the attribute: an identifier
PRICE_BUCKETS = 8
FIXED_FACETS = ("brand", "category", "price")


class FacetLayoutError(ProdsearchError, ValueError):
    """A facet layout string that cannot be read."""


@dataclass(frozen=True)
class FacetLayout:
    """Which facets come first and what they are called: ``"gender:Audience,colour:Colour,brand,price"``
    puts those four first, in that order, with those labels; the others follow in catalog order."""

    order: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> FacetLayout:
        if not text or not text.strip():
            return cls()
        order, labels = [], []
        for item in text.split(","):
            name, _, label = item.partition(":")
            name, label = name.strip(), label.strip()
            if not name or len(name) > 100 or len(label) > 100:
                raise FacetLayoutError(f"facet layout: expected name or name:label items, comma-separated, got {item!r}")
            order.append(name.lower())
            if label:
                labels.append((name.lower(), label))
        return cls(tuple(order), tuple(labels))

    def arrange(self, names: Sequence[str]) -> tuple[list[str], dict[str, str]]:
        """``names`` (facet names) in display order, and a label for each."""
        rank = {n: i for i, n in enumerate(self.order)}
        ordered = sorted(names, key=lambda n: (rank.get(n.lower(), len(rank)), list(names).index(n)))
        custom = dict(self.labels)
        return ordered, {n: custom.get(n.lower()) or _default_label(n) for n in ordered}


def _default_label(name: str) -> str:
    """article_type -> Article type, baseColour -> Base colour."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:].lower() if spaced else name


class FacetValue(BaseModel):
    value: str
    count: int
    selected: bool = False
    level: int | None = Field(default=None, description="category level (0 = top) for category values")
    parent: str | None = Field(default=None, description="the category value one level up, for category values")


class PriceBucket(BaseModel):
    min: float
    max: float
    count: int


class PriceFacet(BaseModel):
    min: float | None = None
    max: float | None = None
    count: int = Field(description="candidates with a price")
    buckets: list[PriceBucket]


class FacetsResponse(BaseModel):
    total: int = Field(description="the relevant products passing every filter (what a search with them counts as "
                                   "`total`)")
    query: str | None
    product_id: str | None = None
    candidate_depth: int = Field(description="the most candidates one query ranks (offset + k must stay within)")
    facets: dict[str, list[FacetValue]] = Field(description="values per facet: every attribute with at most "
                                                        f"{MAX_FACET_VALUES} distinct values, brand and category")
    price: PriceFacet
    order: list[str] = Field(default_factory=list, description="facet names in display order (price included)")
    labels: dict[str, str] = Field(default_factory=dict, description="display label per facet name")
    timings_ms: dict[str, float]


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


class FacetIndex:
    """Facet columns of one product store, built once (O(products))."""

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
        out.attributes = {name: f.extended([next((v for k, v in p.attributes.items() if k.lower() == name.lower()), None)
                                            for p in products]) for name, f in self.attributes.items()}
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


def _attribute_fields(products: list[Product]) -> dict[str, _Field]:
    """A field per attribute (names matched case-insensitively, spelt as first seen) with at most
    MAX_FACET_VALUES distinct values; `ATTRIBUTE_FACETS` first, then in order of first appearance."""
    spelt: dict[str, str] = {}
    distinct: dict[str, set[str]] = {}
    for p in products:
        for key, value in p.attributes.items():
            low = key.lower()
            spelt.setdefault(low, key)
            seen = distinct.setdefault(low, set())
            if len(seen) <= MAX_FACET_VALUES and value:
                seen.add(value.lower())
    holders = Counter(k.lower() for p in products for k, v in p.attributes.items() if v)
    # an identifier (a value per product, like a sku) is no facet, however small the catalog
    names = [low for low in spelt if 0 < len(distinct[low]) <= MAX_FACET_VALUES
             and not (len(distinct[low]) > 10 and len(distinct[low]) > ID_LIKE_SHARE * holders[low])]
    names.sort(key=lambda low: ATTRIBUTE_FACETS.index(low) if low in ATTRIBUTE_FACETS else len(ATTRIBUTE_FACETS))
    fields = {}
    for low in names:
        raw = [next((v for k, v in p.attributes.items() if k.lower() == low), None) for p in products]
        fields[spelt[low]] = _Field.build(raw)
    return fields


def _reduced(filters: Filters | None, **update: Any) -> Filters | None:
    """``filters`` with some fields replaced; None when nothing is left to filter on."""
    if filters is None:
        return None
    reduced = filters.model_copy(update=update)
    return None if reduced.is_empty() else reduced


def _without(filters: Filters | None, field: str) -> Filters | None:
    """``filters`` less one facet field's own condition (brand, price, or an attribute name)."""
    if filters is None:
        return None
    if field == "brand":
        return _reduced(filters, brand=None)
    if field == "price":
        return _reduced(filters, price_min=None, price_max=None)
    attrs = {k: v for k, v in (filters.attributes or {}).items() if k.lower() != field}
    return _reduced(filters, attributes=attrs or None)


def _nice_step(span: float, buckets: int) -> float:
    raw = max(span / buckets, 1e-9)
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def price_facet(prices: np.ndarray, buckets: int = PRICE_BUCKETS) -> PriceFacet:
    """Min, max and a histogram with round bucket edges over the non-missing prices."""
    prices = prices[~np.isnan(prices)]
    if not len(prices):
        return PriceFacet(count=0, buckets=[])
    lo, hi = float(prices.min()), float(prices.max())
    step = _nice_step(hi - lo, buckets)
    start = math.floor(lo / step) * step
    n = max(1, math.floor((hi - start) / step) + 1)
    edges = start + step * np.arange(n + 1)
    counts = np.bincount(np.minimum(((prices - start) // step).astype(np.int64), n - 1), minlength=n)
    return PriceFacet(min=lo, max=hi, count=len(prices), buckets=[
        PriceBucket(min=round(float(edges[i]), 6), max=round(float(edges[i + 1]), 6), count=int(c))
        for i, c in enumerate(counts.tolist())
    ])


def _values(field: _Field, counts: np.ndarray, selected: list[str]) -> list[FacetValue]:
    chosen = {s.lower() for s in selected}
    out = [FacetValue(value=v, count=int(c), selected=v.lower() in chosen)
           for v, c in zip(field.values, counts.tolist(), strict=True) if c > 0 or v.lower() in chosen]
    known = {v.value.lower() for v in out}
    out += [FacetValue(value=s, count=0, selected=True) for s in selected if s.lower() not in known]
    return sorted(out, key=lambda v: (-v.count, v.value.lower()))


def compute_facets(searcher: Searcher, request: SearchRequest, layout: FacetLayout | None = None) -> FacetsResponse:
    """Facet counts for a request's text / product id (optional) and filters; see the module docstring."""
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    request = searcher.with_limits_from_text(request)[0]  # "shoes under 1000, not black": counted within them
    fi = searcher.facet_index
    has_query = request.text is not None or request.product_id is not None
    worker = searcher
    if has_query:
        worker = copy.copy(searcher)
        worker.encoders = cached_encoders(searcher.encoders)  # one encoding however many retrievals run
    weights = {**searcher.config.weights, **(request.weights or {})}
    cache: dict[str, np.ndarray] = {}

    def candidates(filters: Filters | None, facet: str | None = None) -> np.ndarray:
        """Boolean mask over rows: the relevant set under ``filters`` (for ``facet``'s counts: without the
        query's span naming that facet's field)."""
        key = ("" if filters is None else filters.model_dump_json()) + "|" + (facet or "")
        if key in cache:
            return cache[key]
        sub = request.model_copy(update={"filters": filters})
        understood = understood_mask(searcher, sub, skip_field=facet) if has_query else None
        if understood is not None:
            selected = understood
        elif not has_query:
            mask = searcher.filter_index.mask(filters)
            selected = np.ones(fi.n, dtype=bool) if mask is None else mask
        else:
            runs = worker.retrieve(sub, None, timings)
            fused = fuse(runs, method=request.fusion or searcher.config.fusion, weights=weights,
                         rrf_k=searcher.config.rrf_k if request.rrf_k is None else request.rrf_k,
                         norm=request.norm or searcher.config.norm)
            selected = above_cutoff(fused, fi.n, searcher.config.relevance_cutoff)
        cache[key] = selected
        return selected

    filters = request.filters
    everything = candidates(filters)
    with _timed(timings, "count"):
        facets: dict[str, list[FacetValue]] = {}
        for name, field in fi.attributes.items():
            low = name.lower()
            chosen = next((v for k, v in ((filters.attributes or {}) if filters else {}).items() if k.lower() == low), [])
            facets[name] = _values(field, field.count(candidates(_without(filters, low), low)), chosen)
        facets["brand"] = _values(fi.brand, fi.brand.count(candidates(_without(filters, "brand"), "brand")),
                                  (filters.brand if filters else None) or [])
        chosen = (filters.category if filters else None) or []
        chosen_cats = {c.lower() for c in chosen}
        level_of = lambda c: fi.category_level[fi.category_keys[c.lower()]] if c.lower() in fi.category_keys else 0  # noqa: E731
        cats = []
        for level in sorted(set(fi.category_level)):
            above = [c for c in chosen if level_of(c) < level]
            counts = fi.category_counts(candidates(_reduced(filters, category=above or None), "category"))
            cats += [FacetValue(value=fi.category_values[i], count=int(counts[i]), level=level,
                                selected=fi.category_values[i].lower() in chosen_cats, parent=fi.category_parent[i])
                     for i in range(len(fi.category_values)) if fi.category_level[i] == level
                     and (counts[i] > 0 or fi.category_values[i].lower() in chosen_cats)]
        known = {v.value.lower() for v in cats}
        cats += [FacetValue(value=c, count=0, selected=True, level=0) for c in chosen if c.lower() not in known]
        facets["category"] = sorted(cats, key=lambda v: (v.level or 0, -v.count, v.value.lower()))
        price = price_facet(fi.price[candidates(_without(filters, "price"))])
    timings["total"] = (time.perf_counter() - t_start) * 1000
    depth = min(searcher.config.candidate_depth, searcher.index.n_products)
    order, labels = (layout or FacetLayout()).arrange([*fi.attributes, *FIXED_FACETS])
    return FacetsResponse(total=int(everything.sum()), query=request.text, product_id=request.product_id,
                          candidate_depth=depth, facets={n: facets[n] for n in order if n in facets}, price=price,
                          order=order, labels=labels, timings_ms={k: round(v, 3) for k, v in timings.items()})

