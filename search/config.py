"""Fusion settings: defaults, and the JSON file that `prodsearch eval tune` writes and the Searcher loads."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indexer.errors import ProdsearchError

SIGNALS = ("lexical", "semantic", "visual", "image", "cross_modal")
TEXT_SIGNALS = ("lexical", "semantic", "visual")
IMAGE_SIGNALS = ("image", "cross_modal")
PRODUCT_SIGNALS = ("semantic", "image")  # "more like this": the product's stored text and photo vectors


class ConfigError(ProdsearchError):
    """A search config file is missing or invalid."""


# Bounds on fusion numbers a request or a config file may set: anything larger only overflows
# scores to inf (or underflows RRF scores to 0), which the JSON response cannot carry.
MAX_WEIGHT = 1000.0
MAX_RRF_K = 1_000_000.0


def check_signal_names(weights: dict[str, float]) -> dict[str, float]:
    """Known signal names with finite weights in [0, MAX_WEIGHT], or ValueError saying which are not."""
    unknown = sorted(set(weights) - set(SIGNALS))
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ValueError(f"unknown signal(s) {unknown[:5]}{more}; valid: {', '.join(SIGNALS)}")
    bad = {k: v for k, v in weights.items() if not (math.isfinite(v) and 0 <= v <= MAX_WEIGHT)}
    if bad:
        raise ValueError(f"weights must be finite numbers from 0 to {MAX_WEIGHT:g}, got {bad}")
    return weights


# Defaults chosen from `prodsearch eval run` with the shipped CLIP (README, "How it works"):
# a weighted sum of min-max scores beat RRF on both the fixture set and the held-out fashion set,
# and the photo -> caption signal helps photo queries most at half weight.
DEFAULT_WEIGHTS = {"lexical": 1.0, "semantic": 1.0, "visual": 1.0, "image": 1.0, "cross_modal": 0.5}


class SearchConfig(BaseModel):
    """How signals are fused; every field can be overridden per request."""

    model_config = ConfigDict(extra="forbid")

    fusion: Literal["rrf", "weighted"] = "weighted"
    rrf_k: float = Field(default=60.0, ge=0, le=MAX_RRF_K, allow_inf_nan=False)
    norm: Literal["min-max", "z-score", "none"] = "min-max"
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    candidate_depth: int = Field(default=1000, ge=1, le=100_000)
    source: str = "defaults"

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float]) -> dict[str, float]:
        return check_signal_names(value)


def load_search_config(path: str | Path | None) -> SearchConfig:
    """The config at ``path``, or the defaults when ``path`` is None."""
    if path is None:
        return SearchConfig()
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        data.setdefault("source", str(path))
        return SearchConfig.model_validate(data)
    except FileNotFoundError as exc:
        raise ConfigError(f"search config not found: {path}") from exc
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ConfigError(f"invalid search config {path}: {exc}") from exc


def save_search_config(config: SearchConfig, path: str | Path) -> None:
    Path(path).write_text(config.model_dump_json(indent=2, exclude={"source"}) + "\n")
