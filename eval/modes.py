"""Evaluation modes: named presets of signal weights and fusion settings, or a tuned config file.

A mode becomes per-request overrides (`SearchRequest.weights/fusion/rrf_k/norm`), so every
mode runs through the same `Searcher.search` as the API. Signals a mode leaves out get weight
0 and are not computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.errors import ProdsearchError
from search.config import SIGNALS, SearchConfig, load_search_config


class ModeError(ProdsearchError):
    """An unknown mode name, or a `tuned` mode without a config file."""


@dataclass(frozen=True)
class Mode:
    name: str
    weights: dict[str, float]
    fusion: str = "rrf"
    rrf_k: float = 60.0
    norm: str = "min-max"
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def request_overrides(self) -> dict[str, Any]:
        """The `SearchRequest` fields that select this mode."""
        return {"weights": {s: float(self.weights.get(s, 0.0)) for s in SIGNALS}, "fusion": self.fusion,
                "rrf_k": self.rrf_k, "norm": self.norm}

    def active_signals(self) -> list[str]:
        return [s for s in SIGNALS if self.weights.get(s, 0.0) > 0]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weights": self.weights, "fusion": self.fusion, "rrf_k": self.rrf_k,
                "norm": self.norm, "description": self.description}


def _only(*signals: str) -> dict[str, float]:
    return {s: (1.0 if s in signals else 0.0) for s in SIGNALS}


PRESETS: dict[str, Mode] = {
    "lexical": Mode("lexical", _only("lexical"), description="BM25 only"),
    "semantic": Mode("semantic", _only("semantic"), description="text embeddings only"),
    "visual": Mode("visual", _only("visual", "image"), description="CLIP only (text->photo, photo->photo)"),
    "fused-rrf": Mode("fused-rrf", _only(*SIGNALS), "rrf", 60.0, description="every signal, RRF k=60"),
    "fused-weighted": Mode("fused-weighted", _only(*SIGNALS), "weighted", norm="min-max",
                           description="every signal, weighted sum of min-max scores"),
}
ALIASES = {"bm25": "lexical", "rrf": "fused-rrf", "weighted": "fused-weighted", "clip": "visual"}
DEFAULT_MODES = ("lexical", "semantic", "visual", "fused-rrf", "fused-weighted")


def mode_from_config(config: SearchConfig, name: str = "tuned") -> Mode:
    weights = {s: float(config.weights.get(s, 1.0)) for s in SIGNALS}
    source = "the engine's defaults" if config.source == "defaults" else f"config {config.source}"
    return Mode(name, weights, config.fusion, config.rrf_k, config.norm, description=source)


def resolve_modes(names: list[str] | tuple[str, ...], config_path: str | Path | None = None) -> list[Mode]:
    """Modes by name; ``tuned`` (or ``config:PATH``) reads a `SearchConfig` file; ``bm25`` is `lexical` renamed."""
    modes: list[Mode] = []
    for raw in names:
        name = raw.strip()
        if name == "tuned":
            if config_path is None:
                raise ModeError("mode 'tuned' needs --config PATH (the file `prodsearch eval tune` wrote)")
            modes.append(mode_from_config(load_search_config(config_path), "tuned"))
        elif name.startswith("config:"):
            path = Path(name.split(":", 1)[1])
            modes.append(mode_from_config(load_search_config(path), path.stem))
        elif name == "default":
            modes.append(mode_from_config(SearchConfig(), "default"))
        elif name in PRESETS:
            modes.append(PRESETS[name])
        elif name in ALIASES:
            preset = PRESETS[ALIASES[name]]
            modes.append(Mode(name, preset.weights, preset.fusion, preset.rrf_k, preset.norm,
                              f"{preset.description} (= {preset.name})"))
        else:
            valid = sorted([*PRESETS, *ALIASES, "default", "tuned", "config:PATH"])
            raise ModeError(f"unknown mode {name!r}; valid: {', '.join(valid)}")
    seen = [m.name for m in modes]
    if len(set(seen)) != len(seen):
        raise ModeError(f"a mode is named twice in {seen}")
    return modes
