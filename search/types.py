"""Request and response models of the Searcher (shared by the API and the eval suite)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from indexer.catalog import Product
from search.config import MAX_RRF_K, check_signal_names
from search.filters import Filters

MAX_K = 100


class SearchRequest(BaseModel):
    """What to search for (text, an image passed beside it, or a product id) and how."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=1000)
    product_id: str | None = Field(default=None, max_length=1000)
    k: int = Field(default=10, ge=1, le=MAX_K)
    offset: int = Field(default=0, ge=0)
    filters: Filters | None = None
    weights: dict[str, float] | None = None
    fusion: Literal["rrf", "weighted"] | None = None
    rrf_k: float | None = Field(default=None, ge=0, le=MAX_RRF_K, allow_inf_nan=False)
    norm: Literal["min-max", "z-score", "none"] | None = None

    @field_validator("text")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return None if value is None else check_signal_names(value)


class SignalHit(BaseModel):
    rank: int
    score: float


class Hit(BaseModel):
    product: Product
    score: float
    signals: dict[str, SignalHit]
    has_image: bool


class PriceBounds(BaseModel):
    """The price bounds a query's words state ("under 1000": max 1000), as `search.price_phrases` reads them."""

    min: float | None = None
    max: float | None = None
    words: str = Field(default="", description="the query's words that stated them, e.g. \"under 1000\"")


class SearchResponse(BaseModel):
    hits: list[Hit]
    total: int = Field(description="an estimate of the products that really match: those holding every catalog value "
                                   "the query names (`understood`), else the fused candidates scoring at least half "
                                   "the best (the same set `GET /facets` counts); may be fewer than the hits, "
                                   "which go on to less relevant products (see `pageable`)")
    pageable: int = Field(default=0, description="fused candidates available for paging (offset + k must stay within)")
    understood: dict[str, str] = Field(default_factory=dict,
                                       description="catalog values the query names, by field (attribute, brand, "
                                                   "category), e.g. {\"colour\": \"Red\"}; a hint, not a filter")
    price_from_text: PriceBounds | None = Field(default=None, description="the price bounds the query's words "
                                                "state (\"under 1000\"), applied as the price filter where the "
                                                "request sets no bound itself; null when the words state none")
    excluded_from_text: dict[str, list[str]] = Field(default_factory=dict, description="catalog values the query's "
                                                     "words rule out (\"not black\": {\"colour\": [\"Black\"]}), "
                                                     "left out by the attribute filters")
    searched: str | None = Field(default=None, description="the query as the signals searched it when query "
                                 "understanding rewrote it (typos corrected, synonyms replaced by the catalog values "
                                 "they name, e.g. \"red dres\" -> \"red dress\"; the words of a stated price or of "
                                 "ruled-out values taken out); null when searched as typed")
    k: int
    offset: int
    fusion: str
    signals: list[str]
    timings_ms: dict[str, float]
