"""Image reading: local paths or http(s) URLs, decoded in parallel threads.

A missing, truncated or undecodable image is returned as an `ImageFailure` with
the reason, never raised: the product stays searchable by text.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from indexer.errors import ImageDecodeError

logger = logging.getLogger(__name__)

URL_TIMEOUT_S = 10.0
URL_RETRIES = 2
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class ImageFailure:
    ref: str
    reason: str


def decode_image_bytes(data: bytes) -> Image.Image:
    """Decode bytes into a fully loaded RGB image, or raise `ImageDecodeError`."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ImageDecodeError(f"image of {im.width}x{im.height} pixels is larger than {MAX_PIXELS} pixels")
            im.load()
            return im.convert("RGB")
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageDecodeError(f"cannot decode image: {exc}") from exc


def _fetch_url(url: str) -> bytes:
    import httpx

    last: Exception | None = None
    for attempt in range(URL_RETRIES + 1):
        try:
            response = httpx.get(url, timeout=URL_TIMEOUT_S, follow_redirects=True)
            response.raise_for_status()
            return response.content
        except httpx.HTTPError as exc:
            last = exc
            time.sleep(0.5 * (attempt + 1))
    raise OSError(f"download failed after {URL_RETRIES + 1} tries: {last}")


def read_image(ref: str) -> Image.Image | ImageFailure:
    """Read one image from a path or URL; failures come back as `ImageFailure`."""
    try:
        if ref.startswith(("http://", "https://")):
            data = _fetch_url(ref)
        else:
            path = Path(ref)
            if not path.is_file():
                return ImageFailure(ref, "file not found")
            data = path.read_bytes()
        return decode_image_bytes(data)
    except (ImageDecodeError, OSError) as exc:
        return ImageFailure(ref, str(exc))


def read_images(refs: Sequence[str], workers: int = 4) -> Iterator[Image.Image | ImageFailure]:
    """Read images in parallel threads (PIL releases the GIL while decoding), in input order."""
    if workers <= 1:
        yield from map(read_image, refs)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(read_image, refs)
