"""/search: text (GET), JSON with text / base64 image / product id (POST), and photo upload."""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import get_searcher, get_settings, image_from_bytes, read_upload
from api.params import FilterParams, FusionParams, filters_from_json, parse_weights, readable_errors
from api.settings import Settings
from search.searcher import Searcher
from search.types import MAX_K, SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


class SearchBody(SearchRequest):
    """POST /search body: any of text, image (base64) and product_id, with the Searcher's options."""

    image: str | None = Field(default=None, description="base64-encoded image bytes")


def make_request(**fields) -> SearchRequest:  # type: ignore[no-untyped-def]
    try:
        return SearchRequest(**fields)
    except ValidationError as exc:
        raise HTTPException(422, detail=readable_errors(exc.errors())) from None


@router.get("/search", response_model=SearchResponse)
def search_get(
    q: str = Query(min_length=1, max_length=1000, description="text query"),
    k: int = Query(default=10, ge=1, le=MAX_K),
    offset: int = Query(default=0, ge=0),
    fusion_params: FusionParams = Depends(),
    filter_params: FilterParams = Depends(),
    searcher: Searcher = Depends(get_searcher),
) -> SearchResponse:
    request = make_request(text=q, k=k, offset=offset, filters=filter_params.filters, **fusion_params.fields)
    return searcher.search(request)


@router.post("/search", response_model=SearchResponse)
def search_post(body: SearchBody, searcher: Searcher = Depends(get_searcher),
                settings: Settings = Depends(get_settings)) -> SearchResponse:
    image = None
    if body.image:
        if len(body.image) > settings.max_upload_bytes * 4 // 3 + 4:
            raise HTTPException(413, detail=f"image is larger than {settings.max_upload_mb:g} MB")
        try:
            data = base64.b64decode(body.image, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(400, detail="image: not valid base64") from None
        image = image_from_bytes(data, settings)
    request = make_request(**body.model_dump(exclude={"image"}))
    return searcher.search(request, image)


@router.post("/search/image", response_model=SearchResponse)
async def search_image(
    file: UploadFile = File(description="the photo to search with"),
    text: str | None = Form(default=None, max_length=1000),
    k: int = Form(default=10, ge=1, le=MAX_K),
    offset: int = Form(default=0, ge=0),
    filters: str | None = Form(default=None, description="filters as a JSON object"),
    weights: str | None = Form(default=None, description="per-signal weights, e.g. image:1,visual:0.5"),
    fusion: Literal["rrf", "weighted"] | None = Form(default=None),
    searcher: Searcher = Depends(get_searcher),
    settings: Settings = Depends(get_settings),
) -> SearchResponse:
    image = await read_upload(file, settings)
    request = make_request(text=text, k=k, offset=offset, filters=filters_from_json(filters),
                           weights=parse_weights(weights), fusion=fusion)
    return await run_in_threadpool(searcher.search, request, image)
