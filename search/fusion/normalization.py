"""Score normalisation kernels for score-based fusion (per run, over its candidate list)."""

from __future__ import annotations

import numpy as np

NORMALIZATIONS = ("min-max", "z-score", "none")


def min_max(scores: np.ndarray) -> np.ndarray:
    """(s - min) / (max - min); a run whose scores are all equal maps to 1 (ranx maps it to 0)."""
    if scores.size == 0:
        return scores.astype(np.float64)
    lo, hi = float(scores.min()), float(scores.max())
    if hi == lo:
        return np.ones_like(scores, dtype=np.float64)
    return (scores.astype(np.float64) - lo) / (hi - lo)


def z_score(scores: np.ndarray) -> np.ndarray:
    """(s - mean) / std (population std); a constant run maps to 0."""
    if scores.size == 0:
        return scores.astype(np.float64)
    std = float(scores.std())
    centred = scores.astype(np.float64) - float(scores.mean())
    return centred / std if std > 0 else np.zeros_like(centred)


def normalize(scores: np.ndarray, method: str) -> np.ndarray:
    """Apply one of `NORMALIZATIONS` by name."""
    if method == "min-max":
        return min_max(scores)
    if method == "z-score":
        return z_score(scores)
    if method == "none":
        return scores.astype(np.float64)
    raise ValueError(f"unknown normalisation {method!r}; valid: {', '.join(NORMALIZATIONS)}")
