"""GET /docs: Swagger UI served from this server (no CDN), under a Content-Security-Policy.

The Swagger UI files come from the `fastapi-offline` package (MIT; Swagger UI is Apache-2.0),
the page and its start-up script from `api/web/docs/`. ReDoc is not served.
"""

from __future__ import annotations

import hashlib
import html
import logging
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

from api.deps import not_modified

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

DOCS_DIR = Path(__file__).resolve().parents[1] / "web" / "docs"
ASSET_PREFIX = "/docs/assets"
# Swagger UI sets inline style attributes and uses data: URIs for its icons; nothing else is allowed.
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API docs</title>
<link rel="icon" href="{root}/favicon.ico">
<link rel="stylesheet" href="{root}{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{root}{assets}/swagger-ui-bundle.js"></script>
<script src="{root}{assets}/init.js"></script>
</body>
</html>
"""


def _swagger_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


ASSETS = {  # name -> (directory getter, media type); a fixed list: nothing else on disk is reachable
    "swagger-ui-bundle.js": (_swagger_dir, "text/javascript; charset=utf-8"),
    "swagger-ui.css": (_swagger_dir, "text/css; charset=utf-8"),
    "init.js": (lambda: DOCS_DIR, "text/javascript; charset=utf-8"),
}


@lru_cache(maxsize=8)
def _load(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


def _headers(etag: str) -> dict[str, str]:
    return {"Cache-Control": "no-cache", "ETag": etag, "Content-Security-Policy": DOCS_CSP,
            "X-Content-Type-Options": "nosniff"}


@router.get("/docs")
def docs_page(request: Request) -> Response:
    """Swagger UI for this API's OpenAPI schema."""
    root = html.escape(request.scope.get("root_path", "").rstrip("/"), quote=True)
    body = PAGE.format(title=html.escape(request.app.title), root=root, assets=ASSET_PREFIX,
                       openapi_url=root + html.escape(request.app.openapi_url or "/openapi.json", quote=True))
    data = body.encode()
    headers = _headers('"' + hashlib.sha256(data).hexdigest()[:20] + '"')
    return not_modified(request, headers) or Response(data, media_type="text/html; charset=utf-8", headers=headers)


@router.get(ASSET_PREFIX + "/{name}")
def docs_asset(name: str, request: Request) -> Response:
    """One of the docs page's files."""
    entry = ASSETS.get(name)
    if entry is None:
        raise HTTPException(404, detail=f"no docs asset {name!r}")
    directory, media_type = entry
    try:
        data, etag = _load(directory() / name)
    except (FileNotFoundError, ModuleNotFoundError):
        logger.error("docs asset missing: %s (is fastapi-offline installed?)", name)
        raise HTTPException(404, detail=f"{name} is missing from the install") from None
    headers = _headers(etag)
    return not_modified(request, headers) or Response(data, media_type=media_type, headers=headers)
