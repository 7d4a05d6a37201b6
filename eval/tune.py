"""`eval tune`: choose fusion settings (per-signal weights, RRF k / normalisation) on the train split.

Each train query's per-signal runs are retrieved once (`Searcher.retrieve`); every candidate
setting is then fused with the engine's own `search.fusion.fuse` (so what is tuned is exactly
what the Searcher and the API will do) and scored with the numpy port of the ranx metric.
The search is a coordinate ascent per fusion method, starting from equal weights: for each
signal in turn try every weight of `WEIGHT_GRID`, then every RRF k (or normalisation), keep
any strict improvement, and repeat until a round changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image
from tqdm import tqdm

from eval.metrics import query_metric
from eval.modes import presets
from eval.relevance import Qrels, Query
from eval.runner import prime_encoders, query_rewrites, request_for
from indexer.errors import InvalidQueryError
from search.config import SearchConfig
from search.fusion import Run, fuse
from search.searcher import Searcher
from search.signals import signal_names

logger = logging.getLogger(__name__)

WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
RRF_KS = (5.0, 10.0, 20.0, 40.0, 60.0, 100.0)
NORMS = ("min-max", "z-score")
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class FusionParams:
    fusion: str
    rrf_k: float
    norm: str
    weights: tuple[tuple[str, float], ...]

    def weight_dict(self) -> dict[str, float]:
        return dict(self.weights)

    def with_weight(self, signal: str, value: float) -> FusionParams:
        return replace(self, weights=tuple((s, value if s == signal else w) for s, w in self.weights))

    def to_config(self, candidate_depth: int) -> SearchConfig:
        return SearchConfig(fusion=self.fusion, rrf_k=self.rrf_k, norm=self.norm, weights=self.weight_dict(),
                            candidate_depth=candidate_depth)

    def describe(self) -> str:
        how = f"rrf k={self.rrf_k:g}" if self.fusion == "rrf" else f"weighted {self.norm}"
        return how + " " + " ".join(f"{s}={w:g}" for s, w in self.weights)


@dataclass
class TuneResult:
    best: FusionParams
    best_score: float
    default_score: float
    metric: str
    evaluations: int
    seconds: float
    per_method: dict[str, dict[str, Any]] = field(default_factory=dict)


SignalRuns = dict[str, dict[str, Run]]


def collect_signal_runs(searcher: Searcher, queries: Sequence[Query], images: dict[str, Image.Image],
                        progress: bool = True) -> SignalRuns:
    """Every signal's run for every query (all weights 1), retrieved once through the Searcher."""
    all_on = presets()["fused-rrf"]
    prime_encoders(searcher.encoders, queries, images, [all_on], query_rewrites(searcher, queries))
    out: SignalRuns = {}
    for q in tqdm(queries, desc="retrieving", unit="query", disable=not progress, dynamic_ncols=True):
        try:
            out[q.id] = searcher.retrieve(request_for(q, all_on, 10), images.get(q.id))
        except InvalidQueryError:
            out[q.id] = {}
    return out


def score_params(params: FusionParams, runs: SignalRuns, qrels: Qrels, metric: str, ids: list[str],
                 depth: int = 100) -> float:
    """Mean ``metric`` over the queries of ``qrels`` with ``params`` applied by the engine's `fuse`."""
    weights = params.weight_dict()
    total = 0.0
    for qid, grades in qrels.items():
        signal_runs = {s: r for s, r in runs.get(qid, {}).items() if weights.get(s, 0.0) > 0}
        if not signal_runs:
            continue
        fused = fuse(signal_runs, method=params.fusion, weights=weights, rrf_k=params.rrf_k, norm=params.norm)
        total += query_metric(metric, [ids[r] for r in fused.docs[:depth].tolist()], grades)
    return total / max(len(qrels), 1)


def tune_fusion(runs: SignalRuns, qrels: Qrels, ids: list[str], metric: str = "ndcg@10",
                fusions: Sequence[str] = FUSIONS, weight_grid: Sequence[float] = WEIGHT_GRID,
                rrf_ks: Sequence[float] = RRF_KS, norms: Sequence[str] = NORMS, max_rounds: int = 4,
                progress: bool = True) -> TuneResult:
    """Coordinate ascent over weights and RRF k / normalisation, per fusion method; best on ``metric``."""
    start = time.perf_counter()
    present = [s for s in signal_names() if any(s in r for r in runs.values())]
    cache: dict[FusionParams, float] = {}
    bar = tqdm(desc="tuning", unit="setting", disable=not progress, dynamic_ncols=True)

    def score(p: FusionParams) -> float:
        if p not in cache:
            cache[p] = score_params(p, runs, qrels, metric, ids) if any(w > 0 for _, w in p.weights) else -1.0
            bar.update(1)
        return cache[p]

    per_method: dict[str, dict[str, Any]] = {}
    base = FusionParams("rrf", 60.0, "min-max", tuple((s, 1.0) for s in signal_names()))
    default_score = score(base)
    for method in fusions:
        best = replace(base, fusion=method)
        best_score = score(best)
        for _ in range(max_rounds):
            improved = False
            for signal in present:
                for cand in [best.with_weight(signal, w) for w in weight_grid]:
                    if score(cand) > best_score + 1e-12:
                        best, best_score, improved = cand, score(cand), True
            knobs = [replace(best, rrf_k=k) for k in rrf_ks] if method == "rrf" else [replace(best, norm=n) for n in norms]
            for cand in knobs:
                if score(cand) > best_score + 1e-12:
                    best, best_score, improved = cand, score(cand), True
            if not improved:
                break
        per_method[method] = {"params": best.describe(), "score": best_score}
        logger.info("tuned %s: %s = %.4f (%s)", method, metric, best_score, best.describe())
    bar.close()
    winner = max((p for p in cache if cache[p] >= 0), key=lambda p: (cache[p], p == base))
    return TuneResult(winner, cache[winner], default_score, metric, len(cache), time.perf_counter() - start,
                      per_method)
