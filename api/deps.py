"""Request-scoped access to the app's Searcher, Settings and photo decoder, with HTTP errors."""

from __future__ import annotations

from fastapi import HTTPException, Request, Response, UploadFile
from PIL import Image

from api.decoding import DecodePool
from api.settings import Settings
from search.searcher import Searcher


def get_searcher(request: Request) -> Searcher:
    searcher = getattr(request.app.state, "searcher", None)
    if searcher is None:
        raise HTTPException(status_code=503, detail="the index is not loaded yet")
    return searcher


async def current_searcher(request: Request) -> Searcher:
    """`get_searcher` as an ``async`` dependency: FastAPI runs it on the event loop instead of handing a plain
    function to its threadpool (one thread hop less per search)."""
    return get_searcher(request)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_decode_pool(request: Request) -> DecodePool:
    return request.app.state.decode_pool


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """A 304 with ``headers`` when the client already holds this ETag (``headers["ETag"]``), else None."""
    held = [tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")]
    if headers["ETag"] in held or "*" in held:
        return Response(status_code=304, headers=headers)
    return None


def too_large(settings: Settings) -> HTTPException:
    return HTTPException(status_code=413, detail=f"image is larger than {settings.max_upload_mb:g} MB")


async def read_upload(upload: UploadFile, settings: Settings, pool: DecodePool) -> Image.Image:
    """Read and decode an uploaded image (in the decode pool): 415 non-image type, 413 too large, 400 undecodable."""
    content_type = (upload.content_type or "").lower()
    if not content_type.startswith("image/"):
        got = content_type or "no content type"
        raise HTTPException(status_code=415, detail=f"expected an image upload (image/*), got {got}")
    data = await upload.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise too_large(settings)
    return await pool.decode(data)


async def decode_base64(text: str, settings: Settings, pool: DecodePool) -> Image.Image:
    """Decode a base64 image (in the decode pool): 413 too large, 400 bad base64 or undecodable."""
    if len(text) > settings.max_upload_base64_chars:
        raise too_large(settings)
    return await pool.decode(b"", base64_text=text)
