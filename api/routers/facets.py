"""/facets: counts per small attribute (gender, colour, size, ...), brand and category, and a price histogram,
over the relevant set of a query (or the catalog) and filters."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from api.deps import get_searcher, get_settings
from api.errors import error_responses
from api.params import FilterParams, FusionParams, filters_on_the_loop, fusion_on_the_loop
from api.routers.search import make_request
from api.settings import Settings
from search.facets import FacetLayout, FacetsResponse, compute_facets
from search.searcher import Searcher

router = APIRouter(tags=["facets"])


@router.get("/facets", response_model=FacetsResponse, responses=error_responses(404))
def get_facets(
    q: str | None = Query(default=None, max_length=1000,
                          description="text query (optional: without it, counts cover the whole catalog)"),
    product_id: str | None = Query(default=None, description="count over the \"more like this\" candidates of a product"),
    fusion_params: FusionParams = Depends(fusion_on_the_loop),
    filter_params: FilterParams = Depends(filters_on_the_loop),
    searcher: Searcher = Depends(get_searcher),
    settings: Settings = Depends(get_settings),
) -> FacetsResponse:
    """Facet counts over the relevant set of the query (or the catalog), narrowed by the filters.

    The relevant set is what the search's `total` counts: the products holding every catalog value a
    text query names (`understood`), else the fused candidates scoring at least half the best. Facets
    are every attribute with at most 50 distinct values, brand, category and price, in the order and
    with the labels of `order` and `labels` (`prodsearch serve --facets`). Brand, attributes and price
    are counted without their own filter (ticking a second brand adds to the results; the counts say
    how much), and a filter on a field the query names replaces it; category levels
    combine with "all of" and are counted with every filter. Accepts the same
    query and filter parameters as `GET /search`; `k` and `offset` are ignored.
    """
    request = make_request(text=q, product_id=product_id or None, filters=filter_params.filters,
                           **fusion_params.fields)
    return compute_facets(searcher, request, FacetLayout.parse(settings.facets))  # engine errors: see the handlers in api.app
