"""Weighted sum of normalised scores: score(d) = sum_s w_s * norm_s(score_s(d))."""

from __future__ import annotations

import numpy as np

from search.fusion.normalization import normalize
from search.fusion.types import Run


def weighted_contributions(run: Run, weight: float = 1.0, norm: str = "min-max") -> np.ndarray:
    """Each document's share of the fused score from this run: its normalised score, or, for a run on an absolute
    scale (`Run.scale`), its score over that scale whatever ``norm`` says."""
    if run.scale is not None:
        return weight * (run.scores.astype(np.float64) / run.scale)
    return weight * normalize(run.scores, norm)
