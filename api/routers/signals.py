"""GET /signals: the registered retrieval signals (`search.signals`) and the weights this server fuses them with.

The page's "Why this rank?" panel reads it, so the signals are described in one place only; the
OpenAPI description of every `weights` parameter is written from the same registry
(`describe_weights_in`), when the schema is first asked for.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import get_searcher
from api.errors import error_responses
from search.searcher import Searcher
from search.signals import all_signals, describe_weights

router = APIRouter(tags=["search"])


class SignalInfo(BaseModel):
    name: str = Field(description="the key of `weights` and of each hit's `signals`")
    description: str
    queries: dict[str, str] = Field(description="query kinds it answers (text, photo, product) -> what embeds that query")
    searches: str = Field(description="`lexical` (the BM25 index) or the vector field of the index it searches")
    default_weight: float
    weight: float = Field(description="the weight this server fuses it with when a request names none")


class SignalsResponse(BaseModel):
    signals: list[SignalInfo]


@router.get("/signals", response_model=SignalsResponse, responses=error_responses())
def list_signals(searcher: Searcher = Depends(get_searcher)) -> SignalsResponse:
    """Every signal a search can use, in the order responses list them."""
    weights = searcher.config.weights
    return SignalsResponse(signals=[SignalInfo(**s.describe(), weight=weights.get(s.name, 1.0))
                                    for s in all_signals()])


def describe_weights_in(schema: dict[str, Any]) -> dict[str, Any]:
    """Set the description of every `weights` query parameter and body field of ``schema`` from the registry."""
    text = describe_weights()
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("name") == "weights":
                    parameter["description"] = text
    for component in schema.get("components", {}).get("schemas", {}).values():
        weights = component.get("properties", {}).get("weights")
        if isinstance(weights, dict):
            weights["description"] = text
    return schema
