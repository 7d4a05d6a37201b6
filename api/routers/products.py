"""/products/{id}: the product, its photo, and "more like this"."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from api.deps import get_searcher, not_modified
from api.params import FilterParams
from api.routers.search import make_request
from indexer.catalog import Product
from search.searcher import Searcher
from search.types import MAX_K, SearchResponse

router = APIRouter(prefix="/products", tags=["products"])
IMAGE_CACHE_SECONDS = 86400


@router.get("/{product_id}", response_model=Product)
def get_product(product_id: str, searcher: Searcher = Depends(get_searcher)) -> Product:
    return searcher.product(product_id)  # an unknown id: 404 (handler in api.app)


@router.get("/{product_id}/image", responses={200: {"content": {"image/jpeg": {}}}})
def get_product_image(product_id: str, request: Request, searcher: Searcher = Depends(get_searcher)) -> Response:
    """The product's photo as stored in the index (a JPEG thumbnail), with caching headers (304 on a match)."""
    searcher.product(product_id)  # 404 for an unknown id, before any header is built
    etag = f'"{searcher.index.manifest.catalog_sha256[:16]}-{searcher.index.manifest.built_at}-{product_id}"'
    headers = {"Cache-Control": f"public, max-age={IMAGE_CACHE_SECONDS}", "ETag": etag}
    cached = not_modified(request, headers)
    if cached is not None:
        return cached
    found = searcher.thumbnail(product_id)
    if found is None:
        raise HTTPException(404, detail=f"product {product_id!r} has no usable photo")
    mime, data = found
    return Response(content=data, media_type=mime, headers=headers)


@router.get("/{product_id}/similar", response_model=SearchResponse)
def get_similar(product_id: str, k: int = Query(default=10, ge=1, le=MAX_K), offset: int = Query(default=0, ge=0),
                filter_params: FilterParams = Depends(),
                searcher: Searcher = Depends(get_searcher)) -> SearchResponse:
    """"More like this": products closest to this one's text and photo, itself excluded."""
    return searcher.search(make_request(product_id=product_id, k=k, offset=offset, filters=filter_params.filters))
