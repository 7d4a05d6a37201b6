"""/facets: counts per gender, category, colour and brand, and a price histogram, for a query and filters."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from api.deps import get_searcher
from api.errors import error_responses
from api.params import FilterParams, FusionParams
from api.routers.search import make_request
from search.facets import FacetsResponse, compute_facets
from search.searcher import Searcher

router = APIRouter(tags=["facets"])


@router.get("/facets", response_model=FacetsResponse, responses=error_responses(404))
def get_facets(
    q: str | None = Query(default=None, max_length=1000,
                          description="text query (optional: without it, counts cover the whole catalog)"),
    product_id: str | None = Query(default=None, description="count over the \"more like this\" candidates of a product"),
    fusion_params: FusionParams = Depends(),
    filter_params: FilterParams = Depends(),
    searcher: Searcher = Depends(get_searcher),
) -> FacetsResponse:
    """Facet counts over the candidates of the query (or the catalog), narrowed by the filters.

    Brand, gender, colour and price are counted without their own filter (ticking a
    second brand adds to the results; the counts say how much); category levels
    combine with "all of" and are counted with every filter. Accepts the same
    query and filter parameters as `GET /search`; `k` and `offset` are ignored.
    """
    request = make_request(text=q, product_id=product_id or None, filters=filter_params.filters,
                           **fusion_params.fields)
    return compute_facets(searcher, request)  # engine errors: see the handlers in api.app
