"""The shopper-facing search page: `GET /` and its three static files under `/static/`.

Plain HTML, CSS and JavaScript from `api/web/`, nothing fetched from anywhere
else (the Content-Security-Policy header enforces it in the browser).
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

from api.deps import not_modified

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
CSP = ("default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@lru_cache(maxsize=8)
def _load(name: str, mtime_ns: int) -> tuple[bytes, str]:
    data = (WEB_DIR / name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


def _serve(name: str, media_type: str, request: Request) -> Response:
    path = WEB_DIR / name
    try:
        data, etag = _load(name, path.stat().st_mtime_ns)
    except FileNotFoundError:
        logger.error("web asset missing: %s", path)
        raise HTTPException(404, detail=f"{name} is missing from the install") from None
    headers = {"Cache-Control": "no-cache", "ETag": etag, "Content-Security-Policy": CSP,
               "X-Content-Type-Options": "nosniff"}
    cached = not_modified(request, headers)
    if cached is not None:
        return cached
    return Response(content=data, media_type=media_type, headers=headers)


@router.get("/")
def index_page(request: Request) -> Response:
    """The search page."""
    return _serve("index.html", "text/html; charset=utf-8", request)


@router.get("/favicon.ico")
def favicon(request: Request) -> Response:
    """Browsers ask for it whatever the page says; the page's own icon is an SVG."""
    return _serve("favicon.svg", "image/svg+xml", request)


@router.get("/static/{name}")
def static_file(name: str, request: Request) -> Response:
    """One of the page's own files (a fixed list: nothing else on disk is reachable)."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise HTTPException(404, detail=f"no static file {name!r}")
    return _serve(name, media_type, request)
