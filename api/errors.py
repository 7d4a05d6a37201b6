"""Error bodies: one JSON shape for every 4xx/5xx the API answers, JSON-safe whatever the client sent.

Pydantic's raw ``errors()`` can hold a ``ValueError`` (ctx), the request's bytes or a
lone surrogate, none of which serialise to JSON; everything here is reduced to
plain strings and integers first, so an error about hostile input is itself never a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.json_input import parse_json

REQUEST_PARTS = ("query", "body", "path", "form", "header")
MAX_ERRORS = 20  # a list of a million bad values gives 20 errors, not a million


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="where: the request part, then the field path")
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """The body of every error response."""

    detail: str = Field(description="what is wrong, readable (\"field: message; ...\")")
    errors: list[ErrorItem] | None = Field(default=None, description="validation errors, one per field (422 only)")


def safe_text(value: object, limit: int = 300) -> str:
    """``str(value)`` cut to ``limit`` characters, with lone surrogates escaped so it encodes as UTF-8."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class ClientJSONError(ValueError):
    """Client-sent text that is not JSON this server reads; the message says why in the client's terms."""


def parse_client_json(text: str | bytes) -> Any:
    """``json.loads`` of client input, every failure a `ClientJSONError` (`indexer.json_input.parse_json`:
    deep nesting and over-long integers are not ``JSONDecodeError``s, and neither may become a 500)."""
    try:
        return parse_json(text)
    except ValueError as exc:
        raise ClientJSONError(safe_text(exc, 300)) from None


def clean_message(msg: str) -> str:
    """Pydantic prefixes messages from custom validators with "Value error, "; users need not see it."""
    return msg.removeprefix("Value error, ")


def error_message(err: dict[str, Any]) -> str:
    """One error's message; a non-JSON body (pydantic got bytes where it wanted an object) says so plainly."""
    if isinstance(err.get("input"), (bytes, bytearray)) and err.get("type") in ("model_attributes_type", "dict_type"):
        return "expected a JSON object (send it with Content-Type: application/json)"
    return clean_message(safe_text(err.get("msg", "invalid value")))


def json_safe_errors(errors: Iterable[dict[str, Any]]) -> list[ErrorItem]:
    """Pydantic/FastAPI errors reduced to loc/msg/type of plain strings and integers."""
    out = []
    for err in errors:
        loc: list[str | int] = [p if isinstance(p, int) else safe_text(p, 100) for p in err.get("loc", ())]
        out.append(ErrorItem(loc=loc, msg=error_message(err), type=safe_text(err.get("type", "value_error"), 100)))
        if len(out) == MAX_ERRORS:
            break
    return out


def readable_errors(errors: Sequence[dict[str, Any]]) -> str:
    """Validation errors as one line: "field: message; ..." (request parts left out of the path)."""
    parts = []
    for item in json_safe_errors(errors):
        loc = ".".join(str(p) for p in item.loc if p not in REQUEST_PARTS)
        parts.append(f"{loc or 'request'}: {item.msg}")
    if len(errors) > MAX_ERRORS:
        parts.append(f"... and {len(errors) - MAX_ERRORS} more")
    return "; ".join(parts)


def error_response(status: int, detail: object, errors: list[ErrorItem] | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(detail=safe_text(detail, 2000), errors=errors)
    return JSONResponse(status_code=status, content=body.model_dump(exclude_none=True),
                        headers=dict(headers) if headers else None)


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    raw = list(exc.errors())
    return error_response(422, readable_errors(raw), json_safe_errors(raw))


async def http_error_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(exc.status_code, exc.detail, headers=exc.headers)


_DESCRIPTIONS = {
    400: "undecodable image, invalid base64, or a body that cannot be parsed",
    404: "unknown product",
    413: "request body or image over the size limit",
    415: "the upload is not an image",
    422: "invalid parameters: `detail` says which and why",
    503: "the index is not loaded yet, or too many photos are being decoded (retry)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses=`` entries for these error statuses (422 and 503 are added to every route)."""
    wanted = sorted({*statuses, 422, 503})
    return {status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]} for status in wanted}
