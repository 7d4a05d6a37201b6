"""Image reading: local paths or http(s) URLs (under an `ImageSources` policy), decoded with bounded cost.

A missing, truncated or undecodable image is returned as an `ImageFailure` with
the reason, never raised: the product stays searchable by text.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from indexer.errors import ImageDecodeError, ImageShapeError
from indexer.sources import TRUSTED, ImageSources

logger = logging.getLogger(__name__)

MAX_PIXELS = 50_000_000  # by the header, checked before decoding
MAX_ASPECT = 20  # longer side / shorter side, by the header: 49,000,000 x 1 px is 48 KB of PNG and seconds to resample
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # encoded bytes, checked before decoding
MAX_IMAGE_MB = MAX_IMAGE_BYTES / 2**20  # the same, as the --max-image-mb / --max-upload-mb options bound it
REDUCIBLE_MODES = ("RGB", "L", "RGBA", "LA")
DECODE_MIN_SIDE = 512  # decode (JPEG draft) and reduce no further: thumbnails are 256 px, model inputs smaller


@dataclass(frozen=True)
class ImageFailure:
    ref: str
    reason: str


def decode_image_bytes(data: bytes, min_side: int = DECODE_MIN_SIDE, max_side: int | None = None) -> Image.Image:
    """Decode bytes into a fully loaded RGB image, or raise `ImageDecodeError` (never anything else).

    Bounded before any pixel is decoded: at most MAX_IMAGE_BYTES of input, MAX_PIXELS pixels
    and a longer side at most MAX_ASPECT times the shorter by the header (decompression bombs:
    a 109 KB PNG can declare 30000x30000; `ImageShapeError` for the aspect).
    A large JPEG is decoded at a reduced scale (``Image.draft``) and any large image is
    reduced, keeping its shorter side at least ``min_side`` pixels: thumbnails and
    model inputs need far fewer pixels than shop photos have. ``max_side`` (queries: not
    cached, so free to differ from a build's decoding) also reduces until the longer side is
    at most that, so what runs after decoding (model resize, pixel check) has bounded work.
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageDecodeError(f"image of {len(data)} bytes is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        with Image.open(io.BytesIO(data)) as im:
            _check_pixels(im.width, im.height)
            if im.format == "JPEG":
                # DCT scaling by 1/2, 1/4 or 1/8 while decoding, never below the requested size
                im.draft("RGB", (min_side, min_side))
            im.load()
            return _reduce(im, min_side, max_side).convert("RGB")
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image is too large to decode safely: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageDecodeError(f"cannot decode image: {exc}") from exc
    except Exception as exc:  # any other failure inside PIL (struct.error, IndexError, ...) is a bad photo too
        raise ImageDecodeError(f"cannot decode image: {type(exc).__name__}: {exc}") from exc


def check_image_file(path: str | Path) -> None:
    """Refuse, by its size and header alone (no pixel decoded), a photo file `decode_image_bytes` would refuse:
    a loader can then name a bomb up front instead of failing after the models load. `ImageDecodeError`."""
    try:
        size = os.stat(path).st_size
    except (OSError, ValueError) as exc:
        raise ImageDecodeError(f"cannot read image: {exc}") from exc
    if size > MAX_IMAGE_BYTES:
        raise ImageDecodeError(f"image of {size} bytes is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        with Image.open(path) as im:
            _check_pixels(im.width, im.height)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image is too large to decode safely: {exc}") from exc
    except Exception as exc:  # unreadable header (UnidentifiedImageError, OSError, ...): not a photo
        raise ImageDecodeError(f"cannot decode image: {type(exc).__name__}: {exc}") from exc


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"image of {width}x{height} pixels is empty")
    if width * height > MAX_PIXELS:
        raise ImageDecodeError(f"image of {width}x{height} pixels is larger than {MAX_PIXELS} pixels")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageShapeError(f"image of {width}x{height} pixels is refused: its longer side is more than "
                              f"{MAX_ASPECT} times its shorter one (no product photo is that narrow)")


def _reduce(im: Image.Image, min_side: int, max_side: int | None = None) -> Image.Image:
    """``im`` shrunk by the largest integer factor that keeps its shorter side >= ``min_side``, or by as much
    as it takes to bring its longer side to ``max_side`` when that is more (box filter)."""
    factor = min(im.width, im.height) // min_side
    if max_side is not None:
        factor = max(factor, -(-max(im.width, im.height) // max_side))
    if factor < 2:
        return im
    if im.mode not in REDUCIBLE_MODES:
        im = im.convert("RGB")
    return im.reduce(factor)


def read_photo_bytes(ref: str, sources: ImageSources = TRUSTED) -> bytes | ImageFailure:
    """A photo's bytes from a path or URL under ``sources`` (see indexer/sources.py), or an `ImageFailure`."""
    try:
        return sources.read_bytes(ref)
    except OSError as exc:
        return ImageFailure(ref, str(exc))


def decode_photo(data: bytes, ref: str) -> Image.Image | ImageFailure:
    """`decode_image_bytes`, with a failure returned as an `ImageFailure` naming ``ref``."""
    try:
        return decode_image_bytes(data)
    except ImageDecodeError as exc:
        return ImageFailure(ref, str(exc))


def read_image(ref: str, sources: ImageSources = TRUSTED) -> Image.Image | ImageFailure:
    """Read and decode one image from a path or URL under ``sources``; failures come back as `ImageFailure`."""
    data = read_photo_bytes(ref, sources)
    return data if isinstance(data, ImageFailure) else decode_photo(data, ref)
