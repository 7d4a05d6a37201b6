"""Fusion settings: defaults, and the JSON file that `prodsearch eval tune` writes and the Searcher loads."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indexer.errors import IndexError_, ProdsearchError
from indexer.json_input import read_json_file
from indexer.vector_index import apply_params
from search import signals as _signals
from search.photo_pixels import MAX_RMSE as MAX_PIXEL_RMSE
from search.ranker import MAX_DEPTH as RANKER_MAX_DEPTH
from search.ranker import MIN_DEPTH as RANKER_MIN_DEPTH

# The signal names and default weights are declared in `search.signals`; these names stay importable
# (SIGNALS, TEXT_SIGNALS, IMAGE_SIGNALS, PRODUCT_SIGNALS, DEFAULT_WEIGHTS) and read the registry when used.
_DERIVED = {
    "SIGNALS": _signals.signal_names,
    "TEXT_SIGNALS": lambda: tuple(s.name for s in _signals.signals_for("text")),
    "IMAGE_SIGNALS": lambda: tuple(s.name for s in _signals.signals_for("photo")),
    "PRODUCT_SIGNALS": lambda: tuple(s.name for s in _signals.signals_for("product")),
    "DEFAULT_WEIGHTS": _signals.default_weights,
}


def __getattr__(name: str) -> object:
    if name in _DERIVED:
        return _DERIVED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ConfigError(ProdsearchError):
    """A search config file is missing or invalid."""


# Bounds on fusion numbers a request or a config file may set: anything larger only overflows
# scores to inf (or underflows RRF scores to 0), which the JSON response cannot carry.
MAX_WEIGHT = 1000.0
MAX_RRF_K = 1_000_000.0
# `total` and the facets of a query naming no catalog value count the fused candidates scoring at least this share
# of the best fused score (`search.relevant`); `eval tune` and `eval train-ranker` calibrate it (`eval.cutoff`).
RELEVANCE_CUTOFF = 0.5


# ANN search parameters a config may set per vector field (`faiss.ParameterSpace` names), and their bound.
SEARCH_PARAMS = ("nprobe", "efSearch", "quantizer_efSearch", "max_codes")
MAX_SEARCH_PARAM = 1_000_000
MAX_CONFIG_BYTES = 1 << 20  # a config is a few hundred bytes; an endless file (/dev/zero) is not read whole


def apply_search_params(store: object, params: dict[str, dict[str, float]]) -> None:
    """Set ``params`` on the fields of a vector store (faiss backend), or `ConfigError` saying what does not apply.

    The CPU index is changed in place: every Searcher over this loaded index searches with them (a GPU copy keeps
    the nprobe recorded at build time)."""
    if not params:
        return
    faiss_index = getattr(store, "faiss_index", None)
    if faiss_index is None:
        raise ConfigError(f"search_params need the faiss vector backend (this index uses "
                          f"{getattr(store, 'backend', '?')}): set them in the index specs instead")
    for field_name, values in params.items():
        try:
            apply_params(faiss_index(field_name), values, what=f"search_params.{field_name}")
        except IndexError_ as exc:
            raise ConfigError(str(exc)) from exc


def check_signal_names(weights: dict[str, float]) -> dict[str, float]:
    """Registered signal names with finite weights in [0, MAX_WEIGHT], or ValueError saying which are not."""
    names = _signals.signal_names()
    unknown = sorted(set(weights) - set(names))
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ValueError(f"unknown signal(s) {unknown[:5]}{more}; valid: {', '.join(names)}")
    bad = {k: v for k, v in weights.items() if not (math.isfinite(v) and 0 <= v <= MAX_WEIGHT)}
    if bad:
        raise ValueError(f"weights must be finite numbers from 0 to {MAX_WEIGHT:g}, got {bad}")
    return weights


class SearchConfig(BaseModel):
    """How signals are fused; every field can be overridden per request. The default weights are the
    registered signals' own (`search.signals`); the weighted sum beat RRF with the shipped CLIP."""

    model_config = ConfigDict(extra="forbid")

    fusion: Literal["rrf", "weighted"] = "weighted"
    rrf_k: float = Field(default=60.0, ge=0, le=MAX_RRF_K, allow_inf_nan=False)
    norm: Literal["min-max", "z-score", "none"] = "min-max"
    weights: dict[str, float] = Field(default_factory=_signals.default_weights)
    candidate_depth: int = Field(default=300, ge=1, le=100_000)
    # The learned second stage (`search.ranker`): a model file written by `prodsearch eval train-ranker`
    # (a relative path is relative to the config file); None = fusion order only.
    ranker: str | None = None
    # None: the depth the model was trained for
    ranker_depth: int | None = Field(default=None, ge=RANKER_MIN_DEPTH, le=RANKER_MAX_DEPTH)
    # A price the query's words state ("under 1000") is the request's price filter (`search.price_phrases`).
    price_from_text: bool = True
    # Values the query's words rule out ("not black") are left out by its attribute filters (`search.negation`).
    exclusions_from_text: bool = True
    # Exact photo matches first (`search.exact_photo`); None = the threshold calibrated on the index.
    exact_photo_first: bool = True
    exact_photo_threshold: float | None = Field(default=None, ge=-1.0, le=1.0, allow_inf_nan=False)
    exact_photo_gap: float | None = Field(default=None, ge=0.0, le=2.0, allow_inf_nan=False)
    # An upload within this RMS pixel difference (RGB 0-255, `search.photo_pixels`) of a near product's stored photo
    # is that product's photo; None = no pixel check.
    exact_photo_pixel_rmse: float | None = Field(default=MAX_PIXEL_RMSE, gt=0.0, le=255.0, allow_inf_nan=False)
    relevance_cutoff: float = Field(default=RELEVANCE_CUTOFF, ge=0.0, le=1.0, allow_inf_nan=False)
    # ANN search parameters per vector field ({"image": {"nprobe": 16}}), set on the index when the Searcher opens
    # it, over the ones its manifest records (`apply_search_params`); `eval tune --latency-budget-ms` chooses them.
    search_params: dict[str, dict[str, float]] = Field(default_factory=dict)
    source: str = "defaults"

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float]) -> dict[str, float]:
        """Merged with the defaults, as a request's weights are: {"lexical": 2} leaves attributes at 6, not 1."""
        return {**_signals.default_weights(), **check_signal_names(value)}

    @field_validator("ranker")
    @classmethod
    def _check_ranker(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or "\x00" in value):
            raise ValueError("expected the path of a ranker model file")
        return value

    @field_validator("search_params")
    @classmethod
    def _check_search_params(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for field_name, params in value.items():
            unknown = sorted(set(params) - set(SEARCH_PARAMS))
            if unknown:
                raise ValueError(f"search_params.{field_name}: unknown parameter(s) {unknown}; valid: "
                                 f"{', '.join(SEARCH_PARAMS)}")
            bad = {k: v for k, v in params.items() if not (math.isfinite(v) and 1 <= v <= MAX_SEARCH_PARAM)}
            if bad:
                raise ValueError(f"search_params.{field_name}: values must be from 1 to {MAX_SEARCH_PARAM}, got {bad}")
        return value


def validation_problems(exc: ValidationError, whole: str = "config") -> str:
    """A ValidationError as one line: "field: message; ..." (pydantic's own text spans several lines);
    ``whole`` names an error of the object itself."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or whole}: {e['msg'].removeprefix('Value error, ')}"
                     for e in exc.errors())


def load_search_config(path: str | Path | None) -> SearchConfig:
    """The config at ``path``, or the defaults when ``path`` is None. Its ``weights`` are merged with the default
    weights (as a request's are): a file naming one signal leaves the others at their defaults. Its values must
    have their JSON types (`ConfigError` for ``"60"`` or ``true`` as a number): only request parameters, which
    arrive as text, are converted."""
    if path is None:
        return SearchConfig()
    path = Path(path)
    try:
        data = read_json_file(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"search config not found: {path}") from None
    except ValueError as exc:
        raise ConfigError(f"invalid search config {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"invalid search config {path}: expected a JSON object of settings, got "
                          f"{type(data).__name__ if data is not None else 'null'}")
    data.setdefault("source", str(path))
    ranker = data.get("ranker")
    if isinstance(ranker, str) and "\x00" not in ranker and not Path(ranker).is_absolute():
        data["ranker"] = str(path.parent / ranker)
    try:  # strict: a file is JSON the user wrote, so "60" or true is not a number (an integer is a float)
        return SearchConfig.model_validate(data, strict=True)
    except ValidationError as exc:
        raise ConfigError(f"invalid search config {path}: {validation_problems(exc)}") from None


def save_search_config(config: SearchConfig, path: str | Path) -> None:
    Path(path).write_text(config.model_dump_json(indent=2, exclude={"source"}) + "\n")
