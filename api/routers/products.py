"""/products/{id}: the product, its photo, and "more like this".

Ids are free text, so the routes take the id as a ``path`` parameter: an id containing
``/`` is reachable (send it percent-encoded or not: ``/products/a%2Fb`` and ``/products/a/b``
both name "a/b"). The ``/image`` and ``/similar`` routes are declared first, so a path
ending in one of them is that sub-resource of the id before it (an id that itself ends
in "/image" or "/similar" cannot be fetched by ``GET /products/{id}``; it still appears
in search hits).
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from api.deps import current_searcher, not_modified
from api.errors import error_responses
from api.params import FilterParams, filters_on_the_loop
from api.public import PublicProduct, PublicSearchResponse, public_json, public_product
from api.routers.search import make_request
from search.searcher import Searcher
from search.types import MAX_K

router = APIRouter(prefix="/products", tags=["products"])
IMAGE_CACHE_SECONDS = 86400


def image_etag(searcher: Searcher, product_id: str) -> str:
    """A strong ETag for a product's photo in this index: a hash, so any id (quotes, non-Latin-1) is safe in a header."""
    manifest = searcher.index.manifest
    store = searcher.index.store
    row = store.row_of.get(product_id)
    photo = store.photo_tag(row) if hasattr(store, "photo_tag") and row is not None else ""  # a live write's photo
    identity = "\0".join((manifest.catalog_sha256, manifest.built_at, product_id) + ((photo,) if photo else ()))
    return '"' + hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32] + '"'


@router.get("/{product_id:path}/image", responses={200: {"content": {"image/jpeg": {}}, "description": "the photo"},
                                                   304: {"description": "the client's copy (If-None-Match) is current"},
                                                   **error_responses(404)})
def get_product_image(product_id: str, request: Request, searcher: Searcher = Depends(current_searcher)) -> Response:
    """The product's photo as stored in the index (a JPEG thumbnail), with caching headers (304 on a match)."""
    row = searcher.row_of(product_id)  # 404 for an unknown id, before any header is built
    headers = {"Cache-Control": f"public, max-age={IMAGE_CACHE_SECONDS}", "ETag": image_etag(searcher, product_id)}
    if not searcher.index.store.has_thumbnail[row]:
        raise HTTPException(404, detail=f"product {product_id!r} has no usable photo")
    cached = not_modified(request, headers)
    if cached is not None:
        return cached
    found = searcher.thumbnail(product_id)
    if found is None:
        raise HTTPException(404, detail=f"product {product_id!r} has no usable photo")
    mime, data = found
    return Response(content=data, media_type=mime, headers=headers)


@router.get("/{product_id:path}/similar", response_model=PublicSearchResponse, responses=error_responses(404))
def get_similar(http: Request, product_id: str, k: int = Query(default=10, ge=1, le=MAX_K), offset: int = Query(default=0, ge=0),
                filter_params: FilterParams = Depends(filters_on_the_loop),
                searcher: Searcher = Depends(current_searcher)) -> Response:
    """"More like this": products closest to this one's text and photo, itself excluded."""
    request = make_request(product_id=product_id, k=k, offset=offset, filters=filter_params.filters)
    return public_json(searcher.search(request), http.scope)


@router.get("/{product_id:path}", response_model=PublicProduct, responses=error_responses(404))
def get_product(product_id: str, searcher: Searcher = Depends(current_searcher)) -> PublicProduct:
    row = searcher.row_of(product_id)  # an unknown id: 404 (handler in api.app)
    return public_product(searcher.product(product_id), bool(searcher.index.store.has_thumbnail[row]))
