"""Query-string forms of filters and weights, shared by the GET endpoints and the upload form."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from fastapi import HTTPException, Query
from pydantic import ValidationError

from api.errors import ClientJSONError, parse_client_json, readable_errors, safe_text
from search.config import MAX_RRF_K, check_signal_names
from search.filters import MAX_VALUES_PER_FILTER, Filters

MAX_FILTERS_JSON_BYTES = 64 * 1024  # the upload form's `filters` field
MAX_WEIGHTS_LENGTH = 500
# The OpenAPI schema replaces this with the registry's list of signals (api.routers.signals.describe_weights_in).
WEIGHTS_HELP = "per-signal weights as name:number pairs, comma-separated (GET /signals lists the signals)"


def parse_weights(raw: str | None) -> dict[str, float] | None:
    """`lexical:1,semantic:0.5` -> {"lexical": 1.0, "semantic": 0.5}."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_WEIGHTS_LENGTH:
        raise HTTPException(422, detail=f"weights: at most {MAX_WEIGHTS_LENGTH} characters")
    weights: dict[str, float] = {}
    for part in raw.split(","):
        name, sep, value = part.partition(":")
        try:
            if not sep:
                raise ValueError
            weights[name.strip()] = float(value)
        except ValueError:
            raise HTTPException(422, detail="weights: expected name:number pairs separated by commas, "
                                            f"got {safe_text(repr(part), 100)}") from None
    try:
        return check_signal_names(weights)
    except ValueError as exc:
        raise HTTPException(422, detail=f"weights: {exc}") from None


def parse_attr_filters(attr: list[str] | None, param: str = "attr") -> dict[str, list[str]] | None:
    """`colour:Red` (repeatable) -> {"colour": ["Red"]}."""
    if not attr:
        return None
    if len(attr) > MAX_VALUES_PER_FILTER:
        raise HTTPException(422, detail=f"{param}: at most {MAX_VALUES_PER_FILTER} values, got {len(attr)}")
    out: dict[str, list[str]] = {}
    for item in attr:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or not value.strip():
            raise HTTPException(422, detail=f"{param}: expected name:value, got {safe_text(repr(item), 100)}")
        out.setdefault(name.strip(), []).append(value.strip())
    return out


def build_filters(brand: list[str] | None, category: list[str] | None, price_min: float | None,
                  price_max: float | None, attr: list[str] | None, not_brand: list[str] | None = None,
                  not_category: list[str] | None = None, not_attr: list[str] | None = None) -> Filters | None:
    exclude = None
    if not_brand or not_category or not_attr:
        exclude = {"brand": not_brand or None, "category": not_category or None,
                   "attributes": parse_attr_filters(not_attr, "not_attr")}
    try:
        filters = Filters(brand=brand or None, category=category or None, price_min=price_min,
                          price_max=price_max, attributes=parse_attr_filters(attr), exclude=exclude)
    except ValidationError as exc:
        raise HTTPException(422, detail="filters: " + readable_errors(exc.errors())) from None
    return None if filters.is_empty() else filters


def filters_from_json(raw: str | None) -> Filters | None:
    """The upload form carries filters as a JSON object string."""
    if raw is None or not raw.strip():
        return None
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_FILTERS_JSON_BYTES:
        raise HTTPException(422, detail=f"filters: at most {MAX_FILTERS_JSON_BYTES // 1024} KB of JSON")
    try:
        data = parse_client_json(raw)
    except ClientJSONError as exc:
        raise HTTPException(422, detail=f"filters: {exc}") from None
    if not isinstance(data, dict):
        raise HTTPException(422, detail="filters: expected a JSON object, e.g. {\"brand\": [\"Acme\"]}")
    try:
        filters = Filters.model_validate(data)
    except ValidationError as exc:
        raise HTTPException(422, detail="filters: " + readable_errors(exc.errors())) from None
    return None if filters.is_empty() else filters


class FilterParams:
    """GET query parameters for filters."""

    def __init__(
        self,
        brand: list[str] | None = Query(default=None, description="brand (repeatable: any of)"),
        category: list[str] | None = Query(default=None, description="category level (repeatable: all of)"),
        price_min: float | None = Query(default=None, ge=0, allow_inf_nan=False),
        price_max: float | None = Query(default=None, ge=0, allow_inf_nan=False),
        attr: list[str] | None = Query(default=None, description="attribute filter name:value (repeatable)"),
        not_brand: list[str] | None = Query(default=None, description="leave this brand out (repeatable)"),
        not_category: list[str] | None = Query(default=None, description="leave this category level out (repeatable)"),
        not_attr: list[str] | None = Query(default=None, description="leave this attribute name:value out (repeatable)"),
    ):
        self.filters = build_filters(brand, category, price_min, price_max, attr, not_brand, not_category, not_attr)


class FusionParams:
    """GET query parameters that override the fusion settings for one request."""

    def __init__(
        self,
        fusion: Literal["rrf", "weighted"] | None = None,
        rrf_k: float | None = Query(default=None, ge=0, le=MAX_RRF_K, allow_inf_nan=False),
        norm: Literal["min-max", "z-score", "none"] | None = None,
        weights: str | None = Query(default=None, description=WEIGHTS_HELP),
    ):
        self.fields: dict[str, Any] = {"fusion": fusion, "rrf_k": rrf_k, "norm": norm,
                                       "weights": parse_weights(weights)}


P = TypeVar("P")


def on_the_loop(params_class: Callable[..., P]) -> Callable[..., Awaitable[P]]:
    """``params_class`` as an ``async`` dependency with the same query parameters: FastAPI hands a class
    dependency to its threadpool (a thread hop per parameter group per request); building one is cheap."""
    async def build(**values: Any) -> P:
        return params_class(**values)

    init = inspect.signature(params_class.__init__, eval_str=True)  # type: ignore[misc]
    build.__signature__ = init.replace(parameters=list(init.parameters.values())[1:])  # type: ignore[attr-defined]
    build.__name__ = build.__qualname__ = f"{params_class.__name__}_on_the_loop"
    return build


filters_on_the_loop = on_the_loop(FilterParams)
fusion_on_the_loop = on_the_loop(FusionParams)
