"""Request-scoped access to the app's Searcher and Settings, and image reading with HTTP errors."""

from __future__ import annotations

from fastapi import HTTPException, Request, Response, UploadFile

from api.settings import Settings
from indexer.errors import ImageDecodeError
from indexer.images import decode_image_bytes
from search.searcher import Searcher


def get_searcher(request: Request) -> Searcher:
    searcher = getattr(request.app.state, "searcher", None)
    if searcher is None:
        raise HTTPException(status_code=503, detail="the index is not loaded yet")
    return searcher


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """A 304 with ``headers`` when the client already holds this ETag (``headers["ETag"]``), else None."""
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return None


def image_from_bytes(data: bytes, settings: Settings):  # type: ignore[no-untyped-def]
    """Decode an image or raise 413 (too large) / 400 (undecodable)."""
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(status_code=413, detail=f"image is larger than {settings.max_upload_mb:g} MB")
    if not data:
        raise HTTPException(status_code=400, detail="the image is empty")
    try:
        return decode_image_bytes(data)
    except ImageDecodeError as exc:
        raise HTTPException(status_code=400, detail=f"undecodable image: {exc}") from exc


async def read_upload(upload: UploadFile, settings: Settings):  # type: ignore[no-untyped-def]
    """Read an uploaded image with the size limit applied while reading; 415 for a non-image type."""
    content_type = (upload.content_type or "").lower()
    if not content_type.startswith("image/"):
        got = content_type or "no content type"
        raise HTTPException(status_code=415, detail=f"expected an image upload (image/*), got {got}")
    data = await upload.read(settings.max_upload_bytes + 1)
    return image_from_bytes(data, settings)
