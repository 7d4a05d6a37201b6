"""Fusion of per-signal runs into one ranking, chosen by name (numpy, for the request path).

`fuse(runs, method="rrf")` returns documents and fused scores, best first, ties
broken by document row. Batch evaluation may use ranx's own fusion; tests check
that both agree.
"""

from __future__ import annotations

import numpy as np

from search.fusion.normalization import NORMALIZATIONS
from search.fusion.rrf import rrf_contributions
from search.fusion.types import Run
from search.fusion.weighted import weighted_contributions

FUSION_METHODS = ("rrf", "weighted")

__all__ = ["FUSION_METHODS", "NORMALIZATIONS", "Run", "fuse"]


def fuse(runs: dict[str, Run], method: str = "rrf", weights: dict[str, float] | None = None,
         rrf_k: float = 60.0, norm: str = "min-max") -> Run:
    """Fuse runs by `method` (`rrf` or `weighted`); unknown names raise ValueError listing the valid ones."""
    weights = weights or {}
    if method == "rrf":
        if rrf_k < 0:
            raise ValueError(f"rrf_k must be >= 0, got {rrf_k}")
        share = lambda run, w: rrf_contributions(run, w, rrf_k)  # noqa: E731
    elif method == "weighted":
        if norm not in NORMALIZATIONS:
            raise ValueError(f"unknown normalisation {norm!r}; valid: {', '.join(NORMALIZATIONS)}")
        share = lambda run, w: weighted_contributions(run, w, norm)  # noqa: E731
    else:
        raise ValueError(f"unknown fusion method {method!r}; valid: {', '.join(FUSION_METHODS)}")
    used = [(run, weights.get(name, 1.0)) for name, run in runs.items() if len(run) and weights.get(name, 1.0) != 0]
    if not used:
        return Run(np.zeros(0, np.int64), np.zeros(0, np.float64))
    all_docs = np.concatenate([run.docs for run, _ in used]).astype(np.int64)
    all_shares = np.concatenate([share(run, w) for run, w in used])
    docs, inverse = np.unique(all_docs, return_inverse=True)
    scores = np.bincount(inverse, weights=all_shares, minlength=len(docs))
    order = np.lexsort((docs, -scores))
    return Run(docs[order], scores[order])
