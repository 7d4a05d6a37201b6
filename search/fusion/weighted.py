"""Weighted sum of normalised scores: score(d) = sum_s w_s * norm_s(score_s(d))."""

from __future__ import annotations

import numpy as np

from search.fusion.normalization import normalize
from search.fusion.types import Run


def weighted_contributions(run: Run, weight: float = 1.0, norm: str = "min-max") -> np.ndarray:
    """Each document's share of the fused score from this run."""
    return weight * normalize(run.scores, norm)
