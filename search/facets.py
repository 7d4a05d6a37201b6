"""Facet counts (every small attribute, brand, category, price) over the relevant set of a query.

Facets come from the catalog: every attribute with at most `MAX_FACET_VALUES` distinct values
(`gender`, `colour`, `baseColour`, `size`, `material`, ...), plus brand, category and price; their
order and labels are a `FacetLayout` (`prodsearch serve --facets`, `PRODSEARCH_FACETS`).

Counting is numpy only: every facet field is precomputed once per index as an
integer code per product row (`search.facet_index`; a product can hold several
category levels, kept as parallel ``(row, code)`` arrays), so counting a candidate
set is one ``np.bincount``: the category is counted once per distinct set of chosen
levels above, not once per level. A facet shows at most `MAX_SHOWN_VALUES` values
(the most frequent; chosen ones always).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from indexer.encoder_cache import cached_encoders
from indexer.errors import ProdsearchError
from search.facet_index import ATTRIBUTE_FACETS, MAX_FACET_VALUES, FacetIndex, _Field
from search.filters import Filters
from search.fusion import fuse
from search.relevant import above_cutoff, understood_mask
from search.timing import timed as _timed
from search.types import SearchRequest

if TYPE_CHECKING:
    from search.searcher import Searcher

logger = logging.getLogger(__name__)

__all__ = ["ATTRIBUTE_FACETS", "MAX_FACET_VALUES", "FacetIndex", "FacetLayout", "FacetsResponse", "compute_facets"]

PRICE_BUCKETS = 8
FIXED_FACETS = ("brand", "category", "price")
MAX_SHOWN_VALUES = 1000  # values per facet in an answer (brands and categories are unbounded in a catalog)


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
        position = {n: i for i, n in reversed(list(enumerate(names)))}
        ordered = sorted(names, key=lambda n: (rank.get(n.lower(), len(rank)), position[n]))
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


def _shown(items: list[tuple[Any, ...]], chosen: set[str]) -> list[tuple[Any, ...]]:
    """``items`` (sorted; each ``(..., value, ...)`` with its value at index 1) cut to `MAX_SHOWN_VALUES`,
    the chosen values kept wherever they fall."""
    return items[:MAX_SHOWN_VALUES] + [t for t in items[MAX_SHOWN_VALUES:] if t[1].lower() in chosen]


def _values(field: _Field, counts: np.ndarray, selected: list[str]) -> list[FacetValue]:
    chosen = {s.lower() for s in selected}
    codes = sorted(set(np.flatnonzero(counts).tolist()) | {field.keys[c] for c in chosen if c in field.keys})
    items = [(-int(counts[i]), field.values[i]) for i in codes]
    known = {v.lower() for _, v in items}
    items += [(0, s) for s in selected if s.lower() not in known]
    items.sort(key=lambda t: (t[0], t[1].lower()))
    return [FacetValue(value=v, count=-c, selected=v.lower() in chosen) for c, v in _shown(items, chosen)]


def category_values(fi: FacetIndex, chosen: list[str], counts_above: Callable[[list[str]], np.ndarray]
                    ) -> list[FacetValue]:
    """The category facet: level L's values counted with ``counts_above(the chosen categories above L)``,
    called once per distinct such set (at most ``len(chosen) + 1``), not once per level, and every value
    visited once: O((chosen + 1) x (product, category) pairs + values), however many levels there are."""
    chosen_cats = {c.lower() for c in chosen}
    chosen_levels = [fi.category_level[fi.category_keys[c.lower()]] if c.lower() in fi.category_keys else 0
                     for c in chosen]
    counted: dict[tuple[int, ...], np.ndarray] = {}
    items: list[tuple[int, str, int, int]] = []  # (level, value, -count, code)
    for level, codes in sorted(fi.category_codes_by_level().items()):
        above = tuple(i for i, at in enumerate(chosen_levels) if at < level)
        counts = counted.get(above)
        if counts is None:
            counts = counted[above] = counts_above([chosen[i] for i in above])
        items += [(level, fi.category_values[i], -int(counts[i]), i) for i in codes
                  if counts[i] > 0 or fi.category_values[i].lower() in chosen_cats]
    known = {v.lower() for _, v, _, _ in items}
    items += [(0, c, 0, -1) for c in chosen if c.lower() not in known]
    items.sort(key=lambda t: (t[0], t[2], t[1].lower()))
    return [FacetValue(value=v, count=-c, level=level, selected=v.lower() in chosen_cats,
                       parent=fi.category_parent[i] if i >= 0 else None) for level, v, c, i in _shown(items, chosen_cats)]


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
        facets["category"] = category_values(fi, chosen, lambda above: fi.category_counts(
            candidates(_reduced(filters, category=above or None), "category")))
        price = price_facet(fi.price[candidates(_without(filters, "price"))])
    timings["total"] = (time.perf_counter() - t_start) * 1000
    depth = min(searcher.config.candidate_depth, searcher.index.n_products)
    order, labels = (layout or FacetLayout()).arrange([*fi.attributes, *FIXED_FACETS])
    return FacetsResponse(total=int(everything.sum()), query=request.text, product_id=request.product_id,
                          candidate_depth=depth, facets={n: facets[n] for n in order if n in facets}, price=price,
                          order=order, labels=labels, timings_ms={k: round(v, 3) for k, v in timings.items()})

