"""Calibrating `SearchConfig.relevance_cutoff`: the share of the best fused score above which a candidate counts as
a product that really matches (`total` and the facets of a query that names no catalog value, `search.relevant`).

On a relevance set's train split, each query's fused candidates above a cutoff are compared with the products its
qrels judge relevant (grade > 0); the cutoff with the best mean F1 wins. Only the queries whose `total` comes from
the cutoff count (photos, "more like this", text naming no value: a text query naming values counts the products
holding them instead), unless fewer than `MIN_QUERIES` do, when every query counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from eval.relevance import Query
from eval.runner import request_for
from eval.tune import SignalRuns
from search.config import SearchConfig
from search.fusion import Run, fuse
from search.relevant import understood_mask
from search.searcher import Searcher

logger = logging.getLogger(__name__)

CUTOFFS = tuple(round(c, 2) for c in np.arange(0.05, 1.0, 0.05))
MIN_QUERIES = 5


def cutoff_f1(fused: Run, relevant: np.ndarray, cutoff: float) -> float:
    """F1 of the candidates scoring at least ``cutoff`` x the best against the ``relevant`` rows."""
    if not len(fused) or not len(relevant):
        return 0.0
    top = float(fused.scores[0])
    chosen = fused.docs[fused.scores >= cutoff * top] if top > 0 else fused.docs
    hits = int(np.isin(chosen, relevant).sum())
    return 0.0 if hits == 0 else 2 * hits / (len(chosen) + len(relevant))


def best_cutoff(fused: Sequence[Run], relevant: Sequence[np.ndarray], cutoffs: Sequence[float] = CUTOFFS
                ) -> tuple[float, float]:
    """The cutoff with the best mean F1 over the queries (the smallest among equals), and that F1."""
    scores = [float(np.mean([cutoff_f1(f, r, c) for f, r in zip(fused, relevant, strict=True)])) for c in cutoffs]
    best = int(np.argmax(scores))
    return float(cutoffs[best]), scores[best]


def calibrate_cutoff(searcher: Searcher, config: SearchConfig, queries: Sequence[Query], runs: SignalRuns,
                     images: dict[str, Image.Image], qrels: dict[str, dict[str, int]]) -> tuple[float, dict[str, Any]]:
    """`SearchConfig.relevance_cutoff` for ``config``'s fusion, from the train ``queries`` and their cached ``runs``;
    also what was measured (for the tuning summary)."""
    row_of = searcher.index.store.row_of
    saved = searcher.config
    searcher.config = config
    try:
        on_cutoff = [q for q in queries if understood_mask(searcher, request_for(q, None, 10), q.id in images) is None]
    finally:
        searcher.config = saved
    chosen = on_cutoff if len(on_cutoff) >= MIN_QUERIES else list(queries)
    fused, relevant = [], []
    for q in chosen:
        signal_runs = {s: r for s, r in runs.get(q.id, {}).items() if config.weights.get(s, 1.0) > 0}
        rows = np.array([row_of[d] for d, g in qrels.get(q.id, {}).items() if g > 0 and d in row_of], np.int64)
        if signal_runs and len(rows):
            fused.append(fuse(signal_runs, method=config.fusion, weights=config.weights, rrf_k=config.rrf_k,
                              norm=config.norm))
            relevant.append(rows)
    if not fused:
        return config.relevance_cutoff, {"queries": 0, "cutoff": config.relevance_cutoff, "calibrated": False}
    cutoff, f1 = best_cutoff(fused, relevant)
    before = float(np.mean([cutoff_f1(f, r, config.relevance_cutoff) for f, r in zip(fused, relevant, strict=True)]))
    summary = {"queries": len(fused), "only_cutoff_queries": len(on_cutoff) >= MIN_QUERIES, "cutoff": cutoff,
               "mean_f1": round(f1, 4), "previous_cutoff": config.relevance_cutoff, "previous_mean_f1": round(before, 4),
               "calibrated": True}
    logger.info("relevance cutoff calibrated on %d train queries: %.2f (mean F1 %.3f; %.2f gave %.3f)", len(fused),
                cutoff, f1, config.relevance_cutoff, before)
    return cutoff, summary
