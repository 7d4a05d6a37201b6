"""/search: text (GET), JSON with text / base64 image / product id (POST), and photo upload.

Routes that decode a photo are ``async``: the photo is decoded in the bounded decode pool
(api.decoding) and the search runs in the threadpool, so neither blocks the event loop.
GET /search parses its parameters on the event loop and answers in the app's small search pool
(`api.app.search_pool`): no hop through FastAPI's threadpool per parameter group, and at most
``search_threads`` searches contend for the GIL and the cores at once. A plain query (only ``q``, ``k``,
``offset``, each once and in range: what a shop's search box sends) skips FastAPI's parameter solving for
the twelve declared parameters (`PlainSearchRoute`: ~2/3 of the app's own CPU per request); anything else,
errors included, goes through FastAPI as declared.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.routing import APIRoute
from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.decoding import DecodePool
from api.deps import current_searcher, decode_base64, get_decode_pool, get_searcher, get_settings, read_upload
from api.errors import error_responses, readable_errors
from api.params import WEIGHTS_HELP, FilterParams, FusionParams, filters_from_json, parse_weights
from api.params import filters_on_the_loop as filters_query
from api.params import fusion_on_the_loop as fusion_query
from api.public import PublicSearchResponse, public_json
from api.settings import Settings
from search.searcher import Searcher
from search.types import MAX_K, SearchRequest

router = APIRouter(tags=["search"])
MAX_TEXT = 1000  # the longest `q`
PLAIN_PARAMETERS = frozenset({"q", "k", "offset"})


def plain_search(params: Mapping[str, Any], multi: Callable[[str], list[str]]) -> dict[str, Any] | None:
    """The `SearchRequest` fields of a query string holding only ``q`` and optionally ``k`` and ``offset``, each
    once, as plain digits within their bounds (what the declared parameters would accept unchanged); None
    for anything else, which FastAPI then parses and, where wrong, answers with its 422."""
    if not params.keys() <= PLAIN_PARAMETERS or any(len(multi(key)) != 1 for key in params):
        return None
    q, k, offset = params.get("q"), params.get("k", "10"), params.get("offset", "0")
    if q is None or not 1 <= len(q) <= MAX_TEXT:
        return None
    if not (k.isascii() and k.isdigit() and len(k) <= 6 and offset.isascii() and offset.isdigit() and len(offset) <= 9):
        return None
    if not 1 <= int(k) <= MAX_K:
        return None
    return {"text": q, "k": int(k), "offset": int(offset), "filters": None,
            "fusion": None, "rrf_k": None, "norm": None, "weights": None}


def answer_in_search_pool(http: Request, searcher: Searcher, request: SearchRequest) -> Coroutine[Any, Any, Response]:
    return asyncio.get_running_loop().run_in_executor(
        http.app.state.search_pool, lambda: public_json(searcher.search(request), http.scope))


class PlainSearchRoute(APIRoute):
    """GET /search: a plain query answered without FastAPI's parameter solving (`plain_search`), else as declared."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        declared = super().get_route_handler()

        async def handle(http: Request) -> Response:
            fields = plain_search(http.query_params, http.query_params.getlist)
            if fields is None or getattr(http.app.state, "searcher", None) is None:
                return await declared(http)
            return await answer_in_search_pool(http, get_searcher(http), make_request(**fields))

        return handle


class SearchBody(SearchRequest):
    """POST /search body: any of text, image (base64) and product_id, with the Searcher's options."""

    image: str | None = Field(default=None, description="base64-encoded image bytes")


def make_request(**fields) -> SearchRequest:  # type: ignore[no-untyped-def]
    try:
        return SearchRequest(**fields)
    except ValidationError as exc:
        raise HTTPException(422, detail=readable_errors(exc.errors())) from None


async def search_get(
    http: Request,
    q: str = Query(min_length=1, max_length=MAX_TEXT, description="text query; a price it states (\"under 1000\") "
                   "and values it rules out (\"not black\") become filters"),
    k: int = Query(default=10, ge=1, le=MAX_K),
    offset: int = Query(default=0, ge=0),
    fusion: FusionParams = Depends(fusion_query),
    filters: FilterParams = Depends(filters_query),
    searcher: Searcher = Depends(current_searcher),
) -> Response:
    request = make_request(text=q, k=k, offset=offset, filters=filters.filters, **fusion.fields)
    return await answer_in_search_pool(http, searcher, request)


router.add_api_route("/search", search_get, methods=["GET"], response_model=PublicSearchResponse,
                     responses=error_responses(), route_class_override=PlainSearchRoute)


@router.post("/search", response_model=PublicSearchResponse, responses=error_responses(400, 404, 413))
async def search_post(http: Request, body: SearchBody, searcher: Searcher = Depends(current_searcher),
                      settings: Settings = Depends(get_settings),
                      pool: DecodePool = Depends(get_decode_pool)) -> Response:
    image = await decode_base64(body.image, settings, pool) if body.image else None
    request = make_request(**body.model_dump(exclude={"image"}))
    return public_json(await run_in_threadpool(searcher.search, request, image), http.scope)


@router.post("/search/image", response_model=PublicSearchResponse, responses=error_responses(400, 413, 415))
async def search_image(
    http: Request,
    file: UploadFile = File(description="the photo to search with"),
    text: str | None = Form(default=None, max_length=1000),
    k: int = Form(default=10, ge=1, le=MAX_K),
    offset: int = Form(default=0, ge=0),
    filters: str | None = Form(default=None, description="filters as a JSON object (at most 64 KB)"),
    weights: str | None = Form(default=None, description=WEIGHTS_HELP),
    fusion: Literal["rrf", "weighted"] | None = Form(default=None),
    searcher: Searcher = Depends(current_searcher),
    settings: Settings = Depends(get_settings),
    pool: DecodePool = Depends(get_decode_pool),
) -> Response:
    # the cheap checks first: a bad parameter is a 422 without spending a decode
    request = make_request(text=text, k=k, offset=offset, filters=filters_from_json(filters),
                           weights=parse_weights(weights), fusion=fusion)
    image = await read_upload(file, settings, pool)
    return public_json(await run_in_threadpool(searcher.search, request, image), http.scope)
