"""Query-string forms of filters and weights, shared by the GET endpoints and the upload form."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from fastapi import HTTPException, Query
from pydantic import ValidationError

from search.config import check_signal_names
from search.filters import Filters


def clean_message(msg: str) -> str:
    """Pydantic prefixes messages from custom validators with "Value error, "; users need not see it."""
    return msg.removeprefix("Value error, ")


def readable_errors(errors: Sequence[dict[str, Any]]) -> str:
    """Pydantic/FastAPI validation errors as one line: "field: message; ..." (request parts left out of the path)."""
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path", "form"))
        parts.append(f"{loc or 'request'}: {clean_message(str(err.get('msg')))}")
    return "; ".join(parts)


def parse_weights(raw: str | None) -> dict[str, float] | None:
    """`lexical:1,semantic:0.5` -> {"lexical": 1.0, "semantic": 0.5}."""
    if raw is None or not raw.strip():
        return None
    weights: dict[str, float] = {}
    for part in raw.split(","):
        name, sep, value = part.partition(":")
        try:
            if not sep:
                raise ValueError
            weights[name.strip()] = float(value)
        except ValueError:
            raise HTTPException(422, detail=f"weights: expected name:number pairs separated by commas, got {part!r}") from None
    try:
        return check_signal_names(weights)
    except ValueError as exc:
        raise HTTPException(422, detail=f"weights: {exc}") from None


def parse_attr_filters(attr: list[str] | None) -> dict[str, list[str]] | None:
    """`colour:Red` (repeatable) -> {"colour": ["Red"]}."""
    if not attr:
        return None
    out: dict[str, list[str]] = {}
    for item in attr:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or not value.strip():
            raise HTTPException(422, detail=f"attr: expected name:value, got {item!r}")
        out.setdefault(name.strip(), []).append(value.strip())
    return out


def build_filters(brand: list[str] | None, category: list[str] | None, price_min: float | None,
                  price_max: float | None, attr: list[str] | None) -> Filters | None:
    try:
        filters = Filters(brand=brand or None, category=category or None, price_min=price_min,
                          price_max=price_max, attributes=parse_attr_filters(attr))
    except ValidationError as exc:
        raise HTTPException(422, detail="filters: " + "; ".join(clean_message(e["msg"]) for e in exc.errors())) from None
    return None if filters.is_empty() else filters


def filters_from_json(raw: str | None) -> Filters | None:
    """The upload form carries filters as a JSON object string."""
    if raw is None or not raw.strip():
        return None
    try:
        return Filters.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise HTTPException(422, detail=f"filters: not a valid filters object: {exc}") from None


class FilterParams:
    """GET query parameters for filters."""

    def __init__(
        self,
        brand: list[str] | None = Query(default=None, description="brand (repeatable: any of)"),
        category: list[str] | None = Query(default=None, description="category level (repeatable: all of)"),
        price_min: float | None = Query(default=None, ge=0),
        price_max: float | None = Query(default=None, ge=0),
        attr: list[str] | None = Query(default=None, description="attribute filter name:value (repeatable)"),
    ):
        self.filters = build_filters(brand, category, price_min, price_max, attr)


class FusionParams:
    """GET query parameters that override the fusion settings for one request."""

    def __init__(
        self,
        fusion: Literal["rrf", "weighted"] | None = None,
        rrf_k: float | None = Query(default=None, ge=0),
        norm: Literal["min-max", "z-score", "none"] | None = None,
        weights: str | None = Query(default=None, description="per-signal weights, e.g. lexical:1,visual:0.5"),
    ):
        self.fields: dict[str, Any] = {"fusion": fusion, "rrf_k": rrf_k, "norm": norm,
                                       "weights": parse_weights(weights)}
