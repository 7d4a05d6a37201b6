"""The steps behind `eval run` and `eval tune`, callable without the CLI (the benchmark uses them)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.cutoff import calibrate_cutoff
from eval.metrics import DEFAULT_METRICS, MAX_P
from eval.modes import Mode, default_modes, mode_from_config, presets
from eval.options import EvalOptionError
from eval.relevance import RelevanceSet, load_relevance
from eval.report import build_report, write_report
from eval.runner import load_query_images, run_modes
from eval.tune import TuneResult, collect_signal_runs, tune_fusion
from search.config import SearchConfig, save_search_config
from search.searcher import Searcher
from search.types import MAX_K

logger = logging.getLogger(__name__)


def index_meta(searcher: Searcher) -> dict[str, Any]:
    m = searcher.index.manifest
    return {"index": str(searcher.index.directory), "products": searcher.index.n_products,
            "text_model": m.text_model, "clip_model": m.clip_model, "clip_trained": m.clip_trained,
            "factories": m.factories, "candidate_depth": searcher.config.candidate_depth}


def photo_roots(index: Any, images_root: Path | None = None) -> tuple[Path, ...]:
    """Folders a relevance set's photos may come from besides its own: the folder of the catalog the index was
    built from (as its manifest records it; derived sets point there) and ``images_root`` (``--images-root``)."""
    roots = [Path(index.manifest.catalog_path).parent]
    return tuple(roots + ([Path(images_root)] if images_root is not None else []))


def relevance_for(searcher: Searcher, queries: Path, qrels: Path, images_root: Path | None = None) -> RelevanceSet:
    """The relevance set, validated against the index's product ids; photos confined by `photo_roots`."""
    return load_relevance(queries, qrels, known_ids=searcher.index.store.row_of.keys(),
                          image_roots=photo_roots(searcher.index, images_root))


def evaluate_modes(searcher: Searcher, relevance: RelevanceSet, modes: Sequence[Mode], out_dir: Path | None, *,
                   baseline: str | None = None, metrics: Sequence[str] = DEFAULT_METRICS, k: int = MAX_K,
                   split: str | None = None, limit: int | None = None, progress: bool = True,
                   plots: bool = True, max_p: float = MAX_P, extra_meta: dict[str, Any] | None = None) -> dict:
    """Run ``modes`` over one split of ``relevance`` and write the report under ``out_dir`` (when given)."""
    if limit is not None and limit < 1:  # a negative slice would silently drop queries from the end
        raise EvalOptionError(f"limit must be at least 1, got {limit}")
    subset = relevance.split(split)
    if limit:
        subset = RelevanceSet(subset.queries[:limit], subset.qrels, subset.queries_path, subset.qrels_path,
                              subset.derived, subset.meta)
    result = run_modes(searcher, modes, subset.queries, k=k, progress=progress)
    meta = {**index_meta(searcher), "split": split or "all", **(extra_meta or {})}
    report = build_report(result, subset, baseline=baseline, metrics=metrics, meta=meta, max_p=max_p)
    if out_dir is not None:
        write_report(report, result, subset, out_dir, plots=plots)
        logger.info("report written to %s", out_dir)
    return report


def tune_and_evaluate(searcher: Searcher, relevance: RelevanceSet, out_dir: Path, *, metric: str = "ndcg@10",
                      config_out: Path | None = None, fusions: Sequence[str] = ("rrf", "weighted"),
                      modes: Sequence[Mode] = (), baseline: str | None = None, progress: bool = True,
                      plots: bool = True, metrics: Sequence[str] = DEFAULT_METRICS
                      ) -> tuple[SearchConfig, TuneResult, dict]:
    """Tune on the train split, save the config, and report every mode plus `tuned` on the test split."""
    train = relevance.split("train")
    images = load_query_images(train.queries)
    runs = collect_signal_runs(searcher, train.queries, images, progress=progress)
    ids = [p.id for p in searcher.index.store.products]
    qrels = {q.id: train.qrels[q.id] for q in train.queries}
    result = tune_fusion(runs, qrels, ids, metric=metric, fusions=fusions, progress=progress)
    config = result.best.to_config(searcher.config.candidate_depth)
    cutoff, cutoff_summary = calibrate_cutoff(searcher, config, train.queries, runs, images, qrels)
    config = config.model_copy(update={"relevance_cutoff": cutoff})
    out_dir.mkdir(parents=True, exist_ok=True)
    config_out = config_out or out_dir / "search_config.json"
    config_out.parent.mkdir(parents=True, exist_ok=True)
    save_search_config(config, config_out)
    config = config.model_copy(update={"source": str(config_out)})
    logger.info("tuned %s on %d train queries: %.4f (equal-weight RRF: %.4f); config written to %s",
                metric, len(qrels), result.best_score, result.default_score, config_out)
    summary = {"metric": metric, "train_queries": len(qrels), "train_score": result.best_score,
               "train_score_default_rrf": result.default_score, "settings_tried": result.evaluations,
               "seconds": round(result.seconds, 2), "best": result.best.describe(), "per_method": result.per_method,
               "config": str(config_out), "relevance_cutoff": cutoff_summary,
               "search": "coordinate ascent over per-signal weights and RRF k / "
               "normalisation, scored with the engine's own fusion"}
    (out_dir / "tune.json").write_text(json.dumps(summary, indent=2) + "\n")
    known = presets()
    test_modes = list(modes) or [known[m] for m in default_modes()]
    test_modes = [m for m in test_modes if m.name != "tuned"] + [mode_from_config(config, "tuned")]
    report = evaluate_modes(searcher, relevance, test_modes, out_dir, baseline=baseline, split="test",
                            progress=progress, plots=plots, metrics=metrics,
                            extra_meta={"tuning": summary})
    return config, result, report


def tune_budget_and_evaluate(searcher: Searcher, relevance: RelevanceSet, out_dir: Path, budget_ms: float, *,
                             metric: str = "ndcg@10", config_out: Path | None = None, trials: int = 40,
                             ranker_path: Path | None = None, latency_queries: int = 30, seed: int = 13,
                             modes: Sequence[Mode] = (), baseline: str | None = None, progress: bool = True,
                             plots: bool = True, metrics: Sequence[str] = DEFAULT_METRICS,
                             tune_ann: bool = True, min_recall: float | None = None
                             ) -> tuple[SearchConfig | None, dict, dict | None]:
    """`eval tune --latency-budget-ms`: the optuna study on train, then (when a trial fits) the test report.

    With ``tune_ann`` (and an approximate vector field) the study also picks each field's ANN search parameter
    among the values whose recall@10 reaches ``min_recall`` (default: the build's floor)."""
    from eval.tune_ann import ann_space, using_search_params
    from eval.tune_budget import BudgetError, tune_with_budget, write_study
    from indexer.index_specs import DEFAULT_MIN_RECALL
    from search.ranker import load_ranker

    ranker = load_ranker(ranker_path) if ranker_path else None
    if ranker is not None and ranker.meta.get("relevance") == str(relevance.queries_path):
        logger.warning("the ranker was trained on this set's train split, which also scores the trials: its "
                       "quality there is optimistic; judge it by the test report that follows")
    train = relevance.split("train")
    images = load_query_images(train.queries)
    runs = collect_signal_runs(searcher, train.queries, images, progress=progress)
    qrels = {q.id: train.qrels[q.id] for q in train.queries}
    ann = ann_space(searcher.index.vector_store, DEFAULT_MIN_RECALL if min_recall is None else min_recall) \
        if tune_ann else None
    best, trials_done = tune_with_budget(searcher, train.queries, runs, images, qrels, budget_ms, metric=metric,
                                         trials=trials, ranker=ranker, latency_queries=latency_queries, seed=seed,
                                         ann=ann)
    config_out = config_out or out_dir / "search_config.json"
    summary = write_study(out_dir, trials_done, best, budget_ms, metric,
                          {"train_queries": len(qrels), "config": str(config_out) if best else None,
                           "ranker": str(ranker_path) if ranker_path else None,
                           "ann": ann.to_dict() if ann is not None else None})
    if best is None:
        fastest = min(t.p95_ms for t in trials_done) if trials_done else float("nan")
        raise BudgetError(f"no setting tried has p95 <= {budget_ms:g} ms (fastest: {fastest:.2f} ms); "
                          f"see {out_dir / 'pareto.png'} and {out_dir / 'tune.json'}")
    if best.config.search_params:  # the cutoff is calibrated on runs retrieved as the chosen config will search
        with using_search_params(searcher.index.vector_store, best.config.search_params):
            runs = collect_signal_runs(searcher, train.queries, images, progress=progress)
    cutoff, summary["relevance_cutoff"] = calibrate_cutoff(searcher, best.config, train.queries, runs, images, qrels)
    best.config = best.config.model_copy(update={"relevance_cutoff": cutoff})
    config_out.parent.mkdir(parents=True, exist_ok=True)
    save_search_config(best.config, config_out)
    config = best.config.model_copy(update={"source": str(config_out)})
    known = presets()
    test_modes = list(modes) or [known[m] for m in default_modes()]
    test_modes = [m for m in test_modes if m.name != "tuned"] + [mode_from_config(config, "tuned")]
    report = evaluate_modes(searcher, relevance, test_modes, out_dir, baseline=baseline, split="test",
                            progress=progress, plots=plots, metrics=metrics, extra_meta={"tuning": summary})
    return config, summary, report
