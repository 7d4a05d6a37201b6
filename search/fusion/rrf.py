"""Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum_s w_s / (k + rank_s(d))."""

from __future__ import annotations

import numpy as np

from search.fusion.types import Run


def rrf_contributions(run: Run, weight: float = 1.0, k: float = 60.0) -> np.ndarray:
    """Each document's share of the fused score from this run; ranks start at 1."""
    return weight / (k + np.arange(1, len(run) + 1, dtype=np.float64))
