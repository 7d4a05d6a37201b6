"""The FastAPI app factory: one router per resource, the Searcher loaded once at start-up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.body_limit import BodyLimitMiddleware, body_limit_bytes
from api.decoding import DecodePool
from api.errors import error_response, http_error_handler, validation_error_handler
from api.live import LiveService
from api.observability import Metrics, ObservabilityMiddleware
from api.reload import IndexReloader
from api.routers import admin, docs, facets, health, metrics, page, product_writes, products, search, signals
from api.settings import Settings
from indexer.errors import InvalidQueryError
from search.searcher import ProductNotFoundError, Searcher
from search.synonyms import Synonyms

logger = logging.getLogger(__name__)


def load_searcher(settings: Settings) -> Searcher:
    """Open the index with the encoders its manifest names (or the ones the settings override)."""
    from indexer.encoders import load_encoders_for_index
    from indexer.loaded import load_index
    from search.config import load_search_config
    from search.synonyms import load_synonyms

    config = load_search_config(settings.search_config)  # bad files fail before the models load
    synonyms = load_synonyms(settings.synonyms)
    index = load_index(settings.index_dir, device=settings.device)
    encoders = load_encoders_for_index(index.manifest.model_specs, settings.text_model, settings.clip_model,
                                       settings.clip_pretrained, settings.device, query_precision=settings.query_encoder)
    return with_understanding(Searcher.open(index, encoders, config=config), settings, synonyms)


def with_understanding(searcher: Searcher, settings: Settings, synonyms: Synonyms | None = None) -> Searcher:
    """``searcher`` with the shop's synonyms (``synonyms``, else read from the settings) and its query
    understanding built now (a bad synonyms file fails the start or the reload, not the first query)."""
    from search.synonyms import load_synonyms

    searcher.synonyms = synonyms if synonyms is not None else load_synonyms(settings.synonyms)
    if hasattr(searcher.encoders.text, "query_batch"):
        searcher.encoders.text.query_batch = settings.query_batch
    _ = searcher.understanding
    return searcher


def search_pool(settings: Settings) -> ThreadPoolExecutor:
    """The threads that answer text searches: a few, not one per concurrent request (anyio's threadpool), so
    that 8 concurrent searches do not all contend for the GIL and 2 cores at once."""
    return ThreadPoolExecutor(max_workers=settings.search_threads, thread_name_prefix="search")


def create_app(settings: Settings | None = None, searcher: Searcher | None = None) -> FastAPI:
    """An app serving ``searcher``, or the index named by ``settings`` (loaded at start-up)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.searcher is None:
            app.state.reloader.install(load_searcher(settings))
        app.state.decode_pool = DecodePool()  # a fresh one per run of the app (tests start an app more than once)
        app.state.search_pool = search_pool(settings)
        yield
        app.state.decode_pool.close()
        app.state.search_pool.shutdown(wait=False)
        app.state.live.close()

    # docs_url/redoc_url off: /docs is served from local files by api.routers.docs (no CDN); no ReDoc
    app = FastAPI(title="prodsearch", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Multimodal product search: lexical, semantic and visual retrieval, fused.")
    app.state.settings = settings
    app.state.searcher = None
    app.state.decode_pool = DecodePool()
    app.state.search_pool = search_pool(settings)
    app.state.metrics = Metrics()
    app.state.reloader = IndexReloader(app.state, settings,
                                       on_reload=lambda result: app.state.metrics.reloads.labels(result).inc())
    app.state.live = LiveService(app.state, settings)  # live writes; replays the write log on every install
    app.state.reloader.publish = app.state.live.publish
    if searcher is not None:
        app.state.reloader.install(searcher)
    app.state.metrics.watch_index(app.state)
    # the last middleware added is the outermost: a request the body limit refuses (413) is still logged and counted
    app.add_middleware(BodyLimitMiddleware, max_bytes=body_limit_bytes(settings.max_upload_base64_chars))
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)

    # every error body is api.errors.ErrorResponse, JSON-safe whatever the request held
    app.add_exception_handler(RequestValidationError, validation_error_handler)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error_handler)  # type: ignore[arg-type]

    # engine errors, wherever a router meets them: a query the engine cannot serve, an unknown product
    @app.exception_handler(InvalidQueryError)
    async def invalid_query(request: Request, exc: InvalidQueryError) -> JSONResponse:
        return error_response(422, str(exc))

    @app.exception_handler(ProductNotFoundError)
    async def unknown_product(request: Request, exc: ProductNotFoundError) -> JSONResponse:
        return error_response(404, str(exc))

    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(product_writes.router)
    app.include_router(products.router)
    app.include_router(facets.router)
    app.include_router(page.router)
    app.include_router(admin.router)
    app.include_router(metrics.router)
    app.include_router(docs.router)
    app.include_router(signals.router)
    build_schema = app.openapi  # FastAPI's own, cached on the app; the `weights` docs come from the signal registry
    app.openapi = lambda: signals.describe_weights_in(build_schema())  # type: ignore[method-assign]
    return app
