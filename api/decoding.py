"""Photo decoding off the event loop, in a small bounded pool.

Decoding a large photo takes CPU seconds and hundreds of MB; on the event loop it
stalls every other request (``/health`` included). The photo also leaves the pool reduced to
at most ``QUERY_MAX_SIDE`` on its longer side, so the work after it (the model's resize, the
pixel check, in the search's thread) is bounded too. Here at most ``workers`` photos
are decoded at once, at most ``queue`` more wait for a worker, and any further
upload is answered 503 with ``Retry-After`` at once instead of piling up memory.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi import HTTPException
from PIL import Image

from indexer.errors import ImageDecodeError, ImageShapeError
from indexer.images import decode_image_bytes

DECODE_WORKERS = 2
DECODE_QUEUE = 8
RETRY_AFTER_S = 1
QUERY_MAX_SIDE = 2048  # a query photo leaves the pool at most this long: the model's resize after it stays cheap


class DecodePool:
    """Decodes image bytes in worker threads; admits at most ``workers + queue`` photos at a time."""

    def __init__(self, workers: int = DECODE_WORKERS, queue: int = DECODE_QUEUE):
        self.workers = workers
        self.limit = workers + queue
        self.admitted = 0  # touched only from the event loop's thread
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode")

    async def decode(self, data: bytes, *, base64_text: str | None = None) -> Image.Image:
        """The decoded photo, or HTTPException 400 (undecodable) / 503 (pool full).

        ``base64_text`` (instead of ``data``) is base64-decoded in the worker too.
        """
        if self.admitted >= self.limit:
            raise HTTPException(503, detail=f"busy: {self.admitted} photos are being decoded; retry shortly",
                                headers={"Retry-After": str(RETRY_AFTER_S)})
        loop = asyncio.get_running_loop()
        self.admitted += 1
        # released when the work itself ends, not when the request does: a client that hangs up
        # mid-decode must not free a slot while its photo still occupies a worker
        future = self._executor.submit(_decode, data, base64_text)
        future.add_done_callback(lambda _: _call_soon(loop, self._release))
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
        self.admitted -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(callback)


def _decode(data: bytes, base64_text: str | None) -> Image.Image:
    if base64_text is not None:
        try:
            data = base64.b64decode(base64_text, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(400, detail="image: not valid base64") from None
    if not data:
        raise HTTPException(400, detail="the image is empty")
    try:
        return decode_image_bytes(data, max_side=QUERY_MAX_SIDE)
    except ImageShapeError as exc:
        raise HTTPException(422, detail=f"image: {exc}") from exc
    except ImageDecodeError as exc:
        raise HTTPException(400, detail=f"undecodable image: {exc}") from exc
