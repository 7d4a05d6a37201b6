"""The relevant set of a query: what `total` counts and the facets count (instead of every signal's candidates).

- A text query (no photo, no product; the `attributes` signal not at weight 0) that names catalog values
  (`search.understanding`): the products holding a value of every understood span, within the filters.
  A span whose field a filter already names (ticking another colour) is left to that filter, and a
  facet is counted without the span naming its field (the other colours show what ticking them gives).
- Otherwise: the fused candidates scoring at least `SearchConfig.relevance_cutoff` times the best fused score
  (0.5 unless `eval tune` / `eval train-ranker` calibrated it on a relevance set's train split: `eval.cutoff`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from search.config import RELEVANCE_CUTOFF
from search.filters import Filters
from search.fusion import Run
from search.types import SearchRequest
from search.understanding import ATTRIBUTES_SIGNAL, ParsedQuery

if TYPE_CHECKING:
    from search.searcher import Searcher

__all__ = ["RELEVANCE_CUTOFF", "above_cutoff", "filtered_fields", "fused_count", "relevant_count", "relevant_mask",
           "understood_count", "understood_mask"]


def filtered_fields(filters: Filters | None) -> set[str]:
    """The fields (lowercase) ``filters`` constrain: attribute names, "brand", "category"."""
    if filters is None:
        return set()
    out = {name.lower() for name in (filters.attributes or {})}
    if filters.brand:
        out.add("brand")
    if filters.category:
        out.add("category")
    return out


def _understood_query(searcher: Searcher, request: SearchRequest, has_image: bool) -> ParsedQuery | None:
    """The parse of a text-only query with understanding on, else None."""
    if request.text is None or has_image or request.product_id is not None:
        return None
    if {**searcher.config.weights, **(request.weights or {})}.get(ATTRIBUTES_SIGNAL, 1.0) <= 0:
        return None  # understanding turned off for this request
    return searcher.understanding.parse(request.text)


def understood_mask(searcher: Searcher, request: SearchRequest, has_image: bool = False,
                    skip_field: str | None = None) -> np.ndarray | None:
    """Rows holding every understood value of a text-only query, within its filters; None when the query
    is not text-only or names no value. ``skip_field``: a facet counted without the span naming it."""
    parsed = _understood_query(searcher, request, has_image)
    if parsed is None:
        return None
    skip = filtered_fields(request.filters) | ({skip_field.lower()} if skip_field else set())
    mask = searcher.understanding.matching_mask(parsed, skip, searcher.index.n_products)
    if mask is None:
        return None
    allowed = searcher.filter_index.mask(request.filters)
    return mask if allowed is None else mask & allowed


def above_cutoff(fused: Run, n: int, cutoff: float = RELEVANCE_CUTOFF) -> np.ndarray:
    """Rows of the fused candidates scoring at least ``cutoff`` x the best one."""
    out = np.zeros(n, dtype=bool)
    out[_docs_above_cutoff(fused, cutoff)] = True
    return out


def _docs_above_cutoff(fused: Run, cutoff: float) -> np.ndarray:
    """The fused candidates scoring at least ``cutoff`` x the best one (all of them when the best is not positive)."""
    if not len(fused):
        return fused.docs
    top = float(fused.scores[0])
    return fused.docs[fused.scores >= cutoff * top] if top > 0 else fused.docs


def relevant_mask(searcher: Searcher, request: SearchRequest, fused: Run, has_image: bool = False) -> np.ndarray:
    mask = understood_mask(searcher, request, has_image)
    return mask if mask is not None else above_cutoff(fused, searcher.index.n_products, searcher.config.relevance_cutoff)


def understood_count(searcher: Searcher, request: SearchRequest, has_image: bool = False,
                     allowed: np.ndarray | None = None) -> int | None:
    """`relevant_count` of a query that names values: the understood rows counted over the named values' posting lists
    within ``allowed`` (the request's filter mask, computed once by the Searcher); None when the fused candidates
    decide instead (`fused_count`). Needs no signal's run: the Searcher counts it beside the signals."""
    parsed = _understood_query(searcher, request, has_image)
    if parsed is None:
        return None
    return searcher.understanding.matching_count(parsed, filtered_fields(request.filters), searcher.index.n_products,
                                                 allowed)


def fused_count(searcher: Searcher, fused: Run) -> int:
    """`relevant_count` of a query that names no value: the fused candidates above the cutoff."""
    return len(_docs_above_cutoff(fused, searcher.config.relevance_cutoff))


def relevant_count(searcher: Searcher, request: SearchRequest, fused: Run, has_image: bool = False,
                   allowed: np.ndarray | None = None) -> int:
    """``relevant_mask(...).sum()`` (the response's `total`) without an array of every row: `understood_count`, else
    `fused_count` (``fused``: one entry per product)."""
    count = understood_count(searcher, request, has_image, allowed)
    return count if count is not None else fused_count(searcher, fused)
