"""`eval tune --latency-budget-ms MS`: the best engine settings whose p95 latency fits a budget (optuna).

A two-objective optuna study (NSGA-II, seeded) over fusion method, RRF k or normalisation, each
signal's weight, the candidate depth and the learned ranker on or off (when `--ranker` names one).
Each trial is scored on the train split from per-signal runs retrieved once at the deepest depth
(a shallower depth is a prefix of the same exact search), fused with the engine's `fuse` and passed
through the engine's own second stage (`Searcher.second_stage`: the ranker, exact photo first);
its latency is the p95 wall time of `Searcher.search` under the trial's settings over a fixed
sample of train queries (query embeddings cached, as in `eval run`). The Pareto front of
quality vs latency is plotted (``pareto.png``) and the best trial within the budget written as the
config. Timings on a busy machine are noisy: leave headroom in the budget.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from eval.metrics import query_metric
from eval.relevance import Query
from eval.runner import request_for
from eval.train_ranker import engine_fuse, engine_runs, using_ranker
from eval.tune import NORMS, RRF_KS, SignalRuns, collect_signal_runs
from eval.tune_ann import AnnSpace, using_search_params
from indexer.errors import InvalidQueryError, ProdsearchError
from search.config import SearchConfig
from search.fusion import Run
from search.ranker import Ranker
from search.searcher import Searcher
from search.signals import signal_names

logger = logging.getLogger(__name__)

DEPTHS = (100, 200, 500, 1000)
WEIGHT_STEP = 0.25
MAX_WEIGHT = 3.0


class BudgetError(ProdsearchError):
    """No setting tried meets the latency budget (the study is still written out)."""


@dataclass
class Trial:
    number: int
    config: SearchConfig
    quality: float
    p95_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "quality": round(self.quality, 6), "p95_ms": round(self.p95_ms, 3),
                "config": self.config.model_dump(exclude={"source", "exact_photo_threshold", "exact_photo_gap"})}


def _truncate(runs: dict[str, Run], depth: int) -> dict[str, Run]:
    return {s: Run(r.docs[:depth], r.scores[:depth], r.scale) for s, r in runs.items()}


def trial_quality(searcher: Searcher, config: SearchConfig, ranker: Ranker | None, queries: Sequence[Query],
                  runs: SignalRuns, images: dict[str, Image.Image], qrels: dict[str, dict[str, int]],
                  metric: str) -> float:
    """Mean ``metric`` of the engine's final order under ``config`` (+ ``ranker``), from the cached runs."""
    ids = [p.id for p in searcher.index.store.products]
    saved = searcher.config
    searcher.config = config
    total = 0.0
    try:
        with using_ranker(searcher, ranker):
            for q in queries:
                signal_runs = _truncate(engine_runs(runs.get(q.id, {}), config), config.candidate_depth)
                if not signal_runs:
                    continue
                final = searcher.second_stage(request_for(q, None, 10), images.get(q.id), signal_runs,
                                              engine_fuse(signal_runs, config))
                total += query_metric(metric, [ids[d] for d in final.docs[:100].tolist()], qrels.get(q.id, {}))
    finally:
        searcher.config = saved
    return total / max(len(queries), 1)


def trial_latency(searcher: Searcher, config: SearchConfig, ranker: Ranker | None, queries: Sequence[Query],
                  images: dict[str, Image.Image], k: int = 10, repeats: int = 2) -> float:
    """p95 wall ms of `Searcher.search` under ``config`` (+ ``ranker``) over ``queries`` (each ``repeats`` times)."""
    saved = searcher.config
    searcher.config = config
    times = []
    try:
        with using_ranker(searcher, ranker):
            for _ in range(repeats):
                for q in queries:
                    request = request_for(q, None, min(k, config.candidate_depth))
                    start = time.perf_counter()
                    try:
                        searcher.search(request, images.get(q.id))
                    except InvalidQueryError:
                        continue
                    times.append((time.perf_counter() - start) * 1000)
    finally:
        searcher.config = saved
    return float(np.percentile(times, 95)) if times else 0.0


def suggest_config(trial: Any, base: SearchConfig, signals: Sequence[str], depths: Sequence[int],
                   ranker_choices: Sequence[bool], ann: AnnSpace | None = None) -> tuple[SearchConfig, bool]:
    fusion = trial.suggest_categorical("fusion", ["rrf", "weighted"])
    update: dict[str, Any] = {"fusion": fusion}
    if fusion == "rrf":
        update["rrf_k"] = trial.suggest_categorical("rrf_k", list(RRF_KS))
    else:
        update["norm"] = trial.suggest_categorical("norm", list(NORMS))
    update["weights"] = {s: trial.suggest_float(f"w_{s}", 0.0, MAX_WEIGHT, step=WEIGHT_STEP) for s in signals}
    update["candidate_depth"] = trial.suggest_categorical("candidate_depth", list(depths))
    use_ranker = trial.suggest_categorical("ranker", list(ranker_choices))
    if ann is not None:
        update["search_params"] = {f: {p: float(trial.suggest_categorical(f"{p}_{f}", ann.choices[f]))}
                                   for f, p in ann.params.items()}
    return base.model_copy(update=update), bool(use_ranker)


def pareto_front(trials: Sequence[Trial]) -> list[Trial]:
    """Trials no other trial beats on both quality (higher) and p95 latency (lower), fastest first."""
    front = [t for t in trials if not any((o.quality >= t.quality and o.p95_ms <= t.p95_ms)
                                          and (o.quality > t.quality or o.p95_ms < t.p95_ms) for o in trials)]
    return sorted(front, key=lambda t: t.p95_ms)


def plot_pareto(trials: Sequence[Trial], front: Sequence[Trial], budget_ms: float, best: Trial | None,
                metric: str, path: Path) -> Path:
    from eval.plots import _pyplot, _save

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([t.p95_ms for t in trials], [t.quality for t in trials], s=14, alpha=0.5, label="trials")
    ax.plot([t.p95_ms for t in front], [t.quality for t in front], "o-", color="C1", label="Pareto front")
    ax.axvline(budget_ms, color="C3", linestyle="--", label=f"budget {budget_ms:g} ms")
    if best is not None:
        ax.scatter([best.p95_ms], [best.quality], s=120, marker="*", color="C2", zorder=5, label="best within budget")
    ax.set_xlabel("p95 latency of Searcher.search (ms)")
    ax.set_ylabel(f"{metric} (train split)")
    ax.set_title("Quality vs latency of the settings tried")
    ax.legend(loc="lower right")
    return _save(plt, fig, path)


def tune_with_budget(searcher: Searcher, queries: Sequence[Query], runs: SignalRuns, images: dict[str, Image.Image],
                     qrels: dict[str, dict[str, int]], budget_ms: float, *, metric: str = "ndcg@10",
                     trials: int = 40, ranker: Ranker | None = None, depths: Sequence[int] = DEPTHS,
                     latency_queries: int = 30, seed: int = 13, ann: AnnSpace | None = None,
                     progress: bool = False) -> tuple[Trial | None, list[Trial]]:
    """Run the study; the best trial within ``budget_ms`` (None when none fits) and every trial.

    With ``ann`` each trial also picks every approximate field's search parameter among the values that keep its
    recall floor (`eval.tune_ann`); its runs are retrieved again under a combination not seen before."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = searcher.config.model_copy(update={"ranker": None})
    signals = [s for s in signal_names() if any(s in r for r in runs.values())]
    max_depth = min(searcher.config.candidate_depth, searcher.index.n_products)
    depths = sorted({min(d, max_depth) for d in depths})
    timing_sample = [q for q in queries][:latency_queries]
    ranker_choices = [False, True] if ranker is not None else [False]
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=seed))
    recorded = {f"{p}_{f}": ann.recorded[f] if ann.recorded[f] in ann.choices[f] else max(ann.choices[f])
                for f, p in ann.params.items()} if ann is not None else {}
    study.enqueue_trial({"fusion": base.fusion, "rrf_k": base.rrf_k, "norm": base.norm,
                         **{f"w_{s}": min(base.weights.get(s, 1.0), MAX_WEIGHT) for s in signals},
                         "candidate_depth": max_depth, "ranker": ranker_choices[-1], **recorded})
    # `runs` were retrieved with the values the index was opened with
    runs_by_params: dict[tuple, SignalRuns] = {
        _key({f"{p}_{f}": ann.recorded[f] for f, p in ann.params.items()} if ann is not None else {}): runs}
    # one-off costs (exact-photo calibration, the ranker's word matrix, first calls) out of the timings
    _ = searcher.exact_photo_rule(), searcher._ranker_inputs
    trial_latency(searcher, base, ranker, timing_sample, images, repeats=1)
    done: list[Trial] = []

    def objective(trial: Any) -> tuple[float, float]:
        config, use_ranker = suggest_config(trial, base, signals, depths, ranker_choices, ann)
        if not any(w > 0 for w in config.weights.values()):
            raise optuna.TrialPruned()
        model = ranker if use_ranker else None
        with using_search_params(searcher.index.vector_store, config.search_params):
            key = _key({f"{p}_{f}": v for f, pv in config.search_params.items() for p, v in pv.items()})
            if key not in runs_by_params:
                runs_by_params[key] = collect_signal_runs(searcher, queries, images, progress=progress)
            quality = trial_quality(searcher, config, model, queries, runs_by_params[key], images, qrels, metric)
            p95 = trial_latency(searcher, config, model, timing_sample, images)
        if use_ranker and ranker is not None:
            config = config.model_copy(update={"ranker": str(ranker.path) if ranker.path else None})
        done.append(Trial(trial.number, config, quality, p95))
        logger.info("trial %d: %s %.4f, p95 %.2f ms", trial.number, metric, quality, p95)
        return quality, p95

    study.optimize(objective, n_trials=trials)
    within = [t for t in done if t.p95_ms <= budget_ms]
    best = max(within, key=lambda t: (t.quality, -t.p95_ms)) if within else None
    return best, done


def _key(params: dict[str, float]) -> tuple:
    return tuple(sorted((k, float(v)) for k, v in params.items()))


def write_study(out_dir: Path, trials: Sequence[Trial], best: Trial | None, budget_ms: float, metric: str,
                extra: dict[str, Any]) -> dict[str, Any]:
    """``tune.json`` (every trial, the front, the best) and ``pareto.png`` under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    front = pareto_front(trials)
    plot_pareto(trials, front, budget_ms, best, metric, out_dir / "pareto.png")
    summary = {"search": "optuna NSGA-II over fusion, RRF k / normalisation, weights, candidate depth, ranker on/off"
               + (", ANN search parameters" if extra.get("ann") else ""),
               "metric": metric, "latency_budget_ms": budget_ms, "latency": "p95 wall ms of Searcher.search, "
               "query embeddings cached", "trials": len(trials), "best": best.to_dict() if best else None,
               "pareto_front": [t.to_dict() for t in front], "all_trials": [t.to_dict() for t in trials], **extra}
    (out_dir / "tune.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
