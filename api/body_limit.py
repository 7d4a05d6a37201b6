"""A request-body size limit enforced while the body streams in (pure ASGI middleware).

FastAPI reads a JSON or multipart body in full before any route sees it, so a size
check in a route comes after the memory is spent. This middleware answers 413 at
once when ``Content-Length`` is over the limit, and otherwise counts the bytes as
they arrive and stops at the limit, so an oversized body is never buffered whole.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# room for the form fields and multipart framing around an upload, or the JSON around a base64 image
BODY_SLACK_BYTES = 256 * 1024


def body_limit_bytes(max_upload_base64_chars: int) -> int:
    """The largest request body: a base64-encoded photo of the largest size, plus the fields around it."""
    return max_upload_base64_chars + BODY_SLACK_BYTES


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, detail=f"request body is larger than {limit / 1024 / 1024:.1f} MB")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                too_large = False  # the server (h11/httptools) refuses a malformed length before we get here
            if too_large:
                await _send_413(send, BodyTooLargeError(self.max_bytes))
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises an HTTPException met while reading the body, so the
                    # route's own error handling answers 413; the except below covers the rest
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError as exc:
            if started:
                raise
            await _send_413(send, exc)


async def _send_413(send: Send, exc: BodyTooLargeError) -> None:
    body = json.dumps({"detail": exc.detail}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
