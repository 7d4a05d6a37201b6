"""What the public API shows of a product: its photo as a URL on this server, never the catalog's reference.

A catalog's image references are operator data (local paths, URLs with access tokens);
the index keeps them, the Searcher and the eval suite see them, but the HTTP API
answers ``images: ["/products/<id>/image"]`` (the index's thumbnail) or ``[]``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import quote

from fastapi import Response
from pydantic import Field
from pydantic_core import to_json

from api.observability import TIMINGS_SCOPE_KEY
from indexer.catalog import Product
from search.types import Hit, SearchResponse


def product_path(product_id: str, suffix: str = "") -> str:
    """The URL path of a product (``suffix``: "/image", "/similar"), the id percent-encoded, ``/`` included."""
    return f"/products/{quote(product_id, safe='')}{suffix}"


class PublicProduct(Product):
    images: list[str] = Field(default_factory=list,
                              description='the product\'s photo on this server (["/products/<id>/image"]), or [] without one')


class PublicHit(Hit):
    product: PublicProduct


class PublicSearchResponse(SearchResponse):
    hits: list[PublicHit]  # type: ignore[assignment]  # narrower than the Searcher's, on purpose


def public_product(product: Product, has_image: bool) -> PublicProduct:
    fields = product.model_dump()
    fields["images"] = [product_path(product.id, "/image")] if has_image else []
    return PublicProduct.model_construct(**fields)


def public_response(response: SearchResponse) -> PublicSearchResponse:
    hits = [PublicHit.model_construct(**{**dict(hit), "product": public_product(hit.product, hit.has_image)})
            for hit in response.hits]
    return PublicSearchResponse.model_construct(**{**dict(response), "hits": hits})


def public_json(response: SearchResponse, scope: MutableMapping[str, Any] | None = None) -> Response:
    """``response`` as the API's JSON, serialised once by pydantic-core (Rust) from the models as built.

    Returning the model instead makes FastAPI validate it again against ``response_model`` and walk it
    with ``jsonable_encoder``: ~2 ms of pure Python per page of 10 hits, the largest per-request cost
    after the encoders. The routes keep ``response_model`` for the OpenAPI schema; the body is the same
    JSON (tests/api/test_serving_speed.py compares the two). With the request's ``scope``, the stage
    timings are left there for `api.observability` (which otherwise parses them back out of the body)."""
    if scope is not None:
        scope[TIMINGS_SCOPE_KEY] = response.timings_ms
    # dumped by pydantic-core to plain data, the photo references replaced, encoded by pydantic-core: the same
    # JSON as `public_response(response).model_dump_json()` (tests/api/test_serving_speed.py) at ~1/3 of the CPU
    # (no PublicProduct / PublicHit built per hit)
    data = response.model_dump()
    for hit, model in zip(data["hits"], response.hits, strict=True):
        hit["product"]["images"] = [product_path(model.product.id, "/image")] if model.has_image else []
    return Response(to_json(data, inf_nan_mode="null"), media_type="application/json")
