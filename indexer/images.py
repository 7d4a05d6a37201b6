"""Image reading: local paths or http(s) URLs (under an `ImageSources` policy), decoded in parallel threads.

A missing, truncated or undecodable image is returned as an `ImageFailure` with
the reason, never raised: the product stays searchable by text.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from PIL import Image, UnidentifiedImageError

from indexer.errors import ImageDecodeError
from indexer.sources import TRUSTED, ImageSources

logger = logging.getLogger(__name__)

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


def read_image(ref: str, sources: ImageSources = TRUSTED) -> Image.Image | ImageFailure:
    """Read one image from a path or URL under ``sources`` (see indexer/sources.py); failures come back
    as `ImageFailure`."""
    try:
        return decode_image_bytes(sources.read_bytes(ref))
    except (ImageDecodeError, OSError) as exc:
        return ImageFailure(ref, str(exc))


def read_images(refs: Sequence[str], workers: int = 4,
                sources: ImageSources = TRUSTED) -> Iterator[Image.Image | ImageFailure]:
    """Read images in parallel threads (PIL releases the GIL while decoding), in input order."""
    read = partial(read_image, sources=sources)
    if workers <= 1:
        yield from map(read, refs)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(read, refs)
