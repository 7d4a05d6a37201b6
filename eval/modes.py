"""Evaluation modes: named presets of signal weights and fusion settings, or a tuned config file.

A mode becomes per-request overrides (`SearchRequest.weights/fusion/rrf_k/norm`), so every
mode runs through the same `Searcher.search` as the API. Signals a mode leaves out get weight
0 and are not computed. The presets derive from the signal registry (`search.signals`): one
single-signal mode per `Signal.eval_mode` (`visual` = the `visual` and `image` signals), and
the two fused modes over every registered signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.errors import ProdsearchError
from search.config import SearchConfig, load_search_config
from search.signals import all_signals, signal_names


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
    # Engine settings a request cannot carry; the runner applies them to the Searcher for this mode
    # (`eval.runner.mode_settings`): the second-stage model and the candidate depth (None: the Searcher's).
    ranker: str | None = None
    candidate_depth: int | None = None
    search_params: dict[str, dict[str, float]] = field(default_factory=dict)  # ANN parameters per vector field

    def request_overrides(self) -> dict[str, Any]:
        """The `SearchRequest` fields that select this mode."""
        return {"weights": {s: float(self.weights.get(s, 0.0)) for s in signal_names()}, "fusion": self.fusion,
                "rrf_k": self.rrf_k, "norm": self.norm}

    def active_signals(self) -> list[str]:
        return [s for s in signal_names() if self.weights.get(s, 0.0) > 0]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weights": self.weights, "fusion": self.fusion, "rrf_k": self.rrf_k,
                "norm": self.norm, "description": self.description, "ranker": self.ranker,
                "candidate_depth": self.candidate_depth, **({"search_params": self.search_params}
                                                             if self.search_params else {})}


def _only(*signals: str) -> dict[str, float]:
    return {s: (1.0 if s in signals else 0.0) for s in signal_names()}


# How the report describes the built-in single-signal modes; a mode of a new signal quotes its signals.
SINGLE_MODE_DESCRIPTIONS = {"lexical": "BM25 only", "semantic": "text embeddings only",
                            "visual": "CLIP only (text->photo, photo->photo)"}
FUSED_MODES = ("fused-rrf", "fused-weighted")
ALIASES = {"bm25": "lexical", "rrf": "fused-rrf", "weighted": "fused-weighted", "clip": "visual"}


def single_modes() -> dict[str, tuple[str, ...]]:
    """Single-signal mode name -> the signals it runs, from each registered signal's `eval_mode`."""
    out: dict[str, tuple[str, ...]] = {}
    for signal in all_signals():
        if signal.eval_mode is not None:
            out[signal.eval_mode] = (*out.get(signal.eval_mode, ()), signal.name)
    return out


def presets() -> dict[str, Mode]:
    """Every preset mode by name, over the signals registered now."""
    described = {s.name: s.description for s in all_signals()}
    out = {name: Mode(name, _only(*signals), description=SINGLE_MODE_DESCRIPTIONS.get(
               name, "; ".join(f"{s} only: {described[s]}" for s in signals)))
           for name, signals in single_modes().items()}
    out["fused-rrf"] = Mode("fused-rrf", _only(*signal_names()), "rrf", 60.0, description="every signal, RRF k=60")
    out["fused-weighted"] = Mode("fused-weighted", _only(*signal_names()), "weighted", norm="min-max",
                                 description="every signal, weighted sum of min-max scores")
    return out


def default_modes() -> tuple[str, ...]:
    """`eval run`'s modes when none are named: every single-signal mode, then the fused ones."""
    return (*single_modes(), *FUSED_MODES)


def single_mode_names() -> set[str]:
    """The single-signal modes and their aliases (`bm25`): what the report's targets compare fusion with."""
    singles = set(single_modes())
    return singles | {alias for alias, target in ALIASES.items() if target in singles}


def __getattr__(name: str) -> object:
    """`PRESETS` and `DEFAULT_MODES` stay importable, read from the registry when used."""
    if name == "PRESETS":
        return presets()
    if name == "DEFAULT_MODES":
        return default_modes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def mode_from_config(config: SearchConfig, name: str = "tuned") -> Mode:
    weights = {s: float(config.weights.get(s, 1.0)) for s in signal_names()}
    source = "the engine's defaults" if config.source == "defaults" else f"config {config.source}"
    return Mode(name, weights, config.fusion, config.rrf_k, config.norm, description=source, ranker=config.ranker,
                candidate_depth=None if config.source == "defaults" else config.candidate_depth,
                search_params=config.search_params)


def resolve_modes(names: list[str] | tuple[str, ...], config_path: str | Path | None = None) -> list[Mode]:
    """Modes by name; ``tuned`` (or ``config:PATH``) reads a `SearchConfig` file; ``bm25`` is `lexical` renamed."""
    modes: list[Mode] = []
    known = presets()
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
        elif name in known:
            modes.append(known[name])
        elif name in ALIASES and ALIASES[name] in known:
            preset = known[ALIASES[name]]
            modes.append(Mode(name, preset.weights, preset.fusion, preset.rrf_k, preset.norm,
                              f"{preset.description} (= {preset.name})"))
        else:
            valid = sorted([*known, *ALIASES, "default", "tuned", "config:PATH"])
            raise ModeError(f"unknown mode {name!r}; valid: {', '.join(valid)}")
    seen = [m.name for m in modes]
    if len(set(seen)) != len(seen):
        raise ModeError(f"a mode is named twice in {seen}")
    return modes
