"""The FastAPI app factory: one router per resource, the Searcher loaded once at start-up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.observability import Metrics, ObservabilityMiddleware
from api.params import readable_errors
from api.reload import IndexReloader
from api.routers import admin, docs, facets, health, metrics, page, products, search
from api.settings import Settings
from indexer.errors import InvalidQueryError
from search.searcher import ProductNotFoundError, Searcher

logger = logging.getLogger(__name__)


def load_searcher(settings: Settings) -> Searcher:
    """Open the index with the encoders its manifest names (or the ones the settings override)."""
    from search.config import load_search_config

    return Searcher.open(settings.index_dir, config=load_search_config(settings.search_config),
                         text_model=settings.text_model, clip_model=settings.clip_model,
                         clip_pretrained=settings.clip_pretrained, device=settings.device)


def create_app(settings: Settings | None = None, searcher: Searcher | None = None) -> FastAPI:
    """An app serving ``searcher``, or the index named by ``settings`` (loaded at start-up)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.searcher is None:
            app.state.reloader.install(load_searcher(settings))
        yield

    # docs_url/redoc_url off: /docs is served from local files by api.routers.docs (no CDN); no ReDoc
    app = FastAPI(title="prodsearch", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Multimodal product search: lexical, semantic and visual retrieval, fused.")
    app.state.settings = settings
    app.state.searcher = None
    app.state.metrics = Metrics()
    app.state.reloader = IndexReloader(app.state, settings,
                                       on_reload=lambda result: app.state.metrics.reloads.labels(result).inc())
    if searcher is not None:
        app.state.reloader.install(searcher)
    app.state.metrics.watch_index(app.state)
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": readable_errors(exc.errors()), "errors": exc.errors()},
                            media_type="application/json")

    # engine errors, wherever a router meets them: a query the engine cannot serve, an unknown product
    @app.exception_handler(InvalidQueryError)
    async def invalid_query(request: Request, exc: InvalidQueryError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(ProductNotFoundError)
    async def unknown_product(request: Request, exc: ProductNotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(products.router)
    app.include_router(facets.router)
    app.include_router(page.router)
    app.include_router(admin.router)
    app.include_router(metrics.router)
    app.include_router(docs.router)
    return app
