"""Operator routes (bearer token, see `api.auth`): reload the index, see what is served and from where."""

from __future__ import annotations

import os
import time

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from api.auth import AdminAuth
from api.deps import get_searcher
from api.reload import IndexReloader, ReloadBusyError, ReloadFailedError

router = APIRouter(prefix="/admin", tags=["admin"])

AUTH_RESPONSES = {401: {"description": "missing or wrong bearer token"},
                  403: {"description": "admin routes are disabled (no PRODSEARCH_ADMIN_TOKEN)"}}


class ReloadResult(BaseModel):
    status: str
    products: int
    built_at: str
    version: str | None
    loaded_at: str
    seconds: float


class AdminStatus(BaseModel):
    index_dir: str
    loaded_from: str
    version: str | None
    built_at: str
    loaded_at: str
    products: int
    images: int
    text_model: str
    clip_model: str
    search_config: str
    reloads: int
    last_reload_error: str | None
    last_reload_error_at: str | None
    pid: int
    library_versions: dict[str, str]


def _reloader(request: Request) -> IndexReloader:
    return request.app.state.reloader


@router.post("/reload", response_model=ReloadResult,
             responses={**AUTH_RESPONSES, 409: {"description": "a reload is already running"},
                        503: {"description": "the index could not be opened; the previous one is still served"}})
async def reload_index(request: Request, _: AdminAuth) -> ReloadResult:
    """Open the configured index directory again (its current version) and serve it from now on.

    Requests already running finish on the previous index. On failure the previous index stays."""
    reloader = _reloader(request)
    start = time.perf_counter()
    try:
        searcher = await reloader.reload()
    except ReloadBusyError as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except ReloadFailedError as exc:
        raise HTTPException(503, detail=f"reload failed, still serving the previous index: {exc}") from None
    info = reloader.info
    return ReloadResult(status="reloaded", products=searcher.index.n_products, built_at=searcher.index.manifest.built_at,
                        version=info.version if info else None, loaded_at=info.loaded_at if info else "",
                        seconds=round(time.perf_counter() - start, 3))


@router.get("/status", response_model=AdminStatus, responses=AUTH_RESPONSES)
def admin_status(request: Request, _: AdminAuth) -> AdminStatus:
    """What `/health` leaves out for anonymous callers: paths, reload history, library versions."""
    searcher = get_searcher(request)
    info = _reloader(request).info
    manifest = searcher.index.manifest
    return AdminStatus(index_dir=str(request.app.state.settings.index_dir), loaded_from=str(searcher.index.directory),
                       version=info.version if info else None, built_at=manifest.built_at,
                       loaded_at=info.loaded_at if info else "", products=searcher.index.n_products,
                       images=len(searcher.index.image_rows), text_model=manifest.text_model,
                       clip_model=manifest.clip_model, search_config=searcher.config.source,
                       reloads=info.reloads if info else 0,
                       last_reload_error=info.last_reload_error if info else None,
                       last_reload_error_at=info.last_reload_error_at if info else None,
                       pid=os.getpid(), library_versions=manifest.library_versions)
