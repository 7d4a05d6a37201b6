"""`eval train-ranker`: train the learned second stage (`search.ranker`) on a relevance set's train split.

Every query's per-signal runs are retrieved once through the Searcher (`eval.tune.collect_signal_runs`),
fused with the engine's settings, and the fused top N become one lambdarank group whose labels are
the qrels' grades (a derived set works: no hand labels needed). The test split is then answered
with and without the model by the engine's own second stage (`Searcher.second_stage`, which also
puts exact photo matches first), and both are scored per query kind.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from eval.cutoff import calibrate_cutoff
from eval.metrics import query_metric
from eval.relevance import Query, RelevanceSet
from eval.runner import load_query_images, request_for
from eval.tune import SignalRuns, collect_signal_runs
from search.config import SearchConfig, save_search_config
from search.fusion import Run, fuse
from search.ranker import DEFAULT_DEPTH, QueryInfo, Ranker, build_features, train_ranker
from search.searcher import Searcher
from search.signals import signal_names

logger = logging.getLogger(__name__)

REPORT_METRICS = ("ndcg@10", "mrr", "recall@100")
MODEL_NAME = "ranker.json"


def engine_runs(runs: dict[str, Run], config: SearchConfig) -> dict[str, Run]:
    """The runs the engine would compute under ``config`` (a signal of weight 0 is not run)."""
    return {s: r for s, r in runs.items() if config.weights.get(s, 1.0) > 0}


def engine_fuse(runs: dict[str, Run], config: SearchConfig) -> Run:
    return fuse(runs, method=config.fusion, weights=config.weights, rrf_k=config.rrf_k, norm=config.norm)


def query_info(query: Query, images: dict[str, Image.Image]) -> QueryInfo:
    return QueryInfo(query.text, query.id in images, query.product_id is not None)


def training_groups(searcher: Searcher, queries: Sequence[Query], runs: SignalRuns, images: dict[str, Image.Image],
                    qrels: dict[str, dict[str, int]], depth: int, signals: Sequence[str]
                    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Features and grade labels of each query's fused top ``depth``."""
    ids = [p.id for p in searcher.index.store.products]
    words, has_photo = searcher._ranker_inputs
    features, labels = [], []
    for q in queries:
        signal_runs = engine_runs(runs.get(q.id, {}), searcher.config)
        if not signal_runs:
            continue
        fused = engine_fuse(signal_runs, searcher.config)
        head = Run(fused.docs[:depth], fused.scores[:depth])
        features.append(build_features(signal_runs, head, query_info(q, images), words, has_photo, signals))
        grades = qrels.get(q.id, {})
        labels.append(np.array([grades.get(ids[d], 0) for d in head.docs.tolist()], np.int32))
    return features, labels


@contextmanager
def using_ranker(searcher: Searcher, ranker: Ranker | None) -> Iterator[Searcher]:
    saved = searcher.ranker
    searcher.ranker = ranker
    try:
        yield searcher
    finally:
        searcher.ranker = saved


def score_second_stage(searcher: Searcher, queries: Sequence[Query], runs: SignalRuns,
                       images: dict[str, Image.Image], qrels: dict[str, dict[str, int]],
                       metrics: Sequence[str] = REPORT_METRICS) -> dict[str, Any]:
    """Mean ``metrics`` overall and per query kind of the engine's final order (fusion + second stage)."""
    ids = [p.id for p in searcher.index.store.products]
    per: dict[str, list[dict[str, float]]] = {}
    for q in queries:
        signal_runs = engine_runs(runs.get(q.id, {}), searcher.config)
        ranked: list[str] = []
        if signal_runs:
            final = searcher.second_stage(request_for(q, None, 10), images.get(q.id), signal_runs,
                                          engine_fuse(signal_runs, searcher.config))
            ranked = [ids[d] for d in final.docs[:100].tolist()]
        per.setdefault(q.kind, []).append({m: query_metric(m, ranked, qrels.get(q.id, {})) for m in metrics})
    everything = [row for rows in per.values() for row in rows]
    mean = lambda rows: {m: float(np.mean([r[m] for r in rows])) if rows else 0.0 for m in metrics}  # noqa: E731
    return {"n": len(everything), **mean(everything),
            "by_kind": {kind: {"n": len(rows), **mean(rows)} for kind, rows in sorted(per.items())}}


@dataclass
class TrainResult:
    ranker: Ranker
    model_path: Path
    config_path: Path
    summary: dict[str, Any]


def train_and_evaluate(searcher: Searcher, relevance: RelevanceSet, out_dir: Path, *, depth: int = DEFAULT_DEPTH,
                       rounds: int = 100, seed: int = 13, progress: bool = True) -> TrainResult:
    """Train on the train split, score the test split with and without the model, write model + config."""
    start = time.perf_counter()
    signals = signal_names()
    splits = {name: relevance.split(name) for name in ("train", "test")}
    images = load_query_images(relevance.queries)
    runs = collect_signal_runs(searcher, relevance.queries, images, progress=progress)
    qrels = relevance.qrels
    features, labels = training_groups(searcher, splits["train"].queries, runs, images, qrels, depth, signals)
    meta = {"relevance": str(relevance.queries_path), "derived": relevance.derived, "seed": seed,
            "fusion": searcher.config.model_dump(include={"fusion", "rrf_k", "norm", "weights"})}
    ranker = train_ranker(features, labels, signals, depth=depth, rounds=rounds, seed=seed, meta=meta)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = ranker.save(out_dir / MODEL_NAME)
    test = splits["test"].queries
    with using_ranker(searcher, None):
        fusion_only = score_second_stage(searcher, test, runs, images, qrels)
    with using_ranker(searcher, ranker):
        reranked = score_second_stage(searcher, test, runs, images, qrels)
    train_qrels = {q.id: qrels.get(q.id, {}) for q in splits["train"].queries}
    cutoff, cutoff_summary = calibrate_cutoff(searcher, searcher.config, splits["train"].queries, runs, images,
                                              train_qrels)
    config = searcher.config.model_copy(update={"ranker": MODEL_NAME, "ranker_depth": None,
                                                "relevance_cutoff": cutoff})
    config_path = out_dir / "search_config.json"
    save_search_config(config, config_path)
    importance = dict(zip(ranker.booster.feature_name(),
                          ranker.booster.feature_importance("gain").round(3).tolist(), strict=True))
    summary = {"train_queries": ranker.meta["train_queries"], "train_rows": ranker.meta["train_rows"],
               "test_queries": len(test), "depth": depth, "rounds": rounds, "seed": seed,
               "derived": relevance.derived, "test": {"fusion": fusion_only, "ranker": reranked},
               "feature_gain": dict(sorted(importance.items(), key=lambda kv: -kv[1])),
               "model": str(model_path), "config": str(config_path), "relevance_cutoff": cutoff_summary,
               "seconds": round(time.perf_counter() - start, 2)}
    (out_dir / "train_ranker.json").write_text(json.dumps(summary, indent=2) + "\n")
    logger.info("ranker trained on %d queries; test ndcg@10 %.4f -> %.4f", summary["train_queries"],
                fusion_only["ndcg@10"], reranked["ndcg@10"])
    return TrainResult(ranker, model_path, config_path, summary)


def render_summary(summary: dict[str, Any]) -> str:
    """The test metrics, fusion alone vs with the ranker, overall and per kind."""
    test = summary["test"]
    lines = [f"ranker trained on {summary['train_queries']} train queries ({summary['train_rows']} candidates, "
             f"top {summary['depth']}){' [derived relevance set]' if summary['derived'] else ''}",
             f"test split: {summary['test_queries']} queries", "",
             "| | n | " + " | ".join(REPORT_METRICS) + " |", "|" + "---|" * (len(REPORT_METRICS) + 2)]
    groups = [("all", test["fusion"], test["ranker"])] + [
        (kind, test["fusion"]["by_kind"][kind], test["ranker"]["by_kind"][kind]) for kind in test["fusion"]["by_kind"]]
    for name, before, after in groups:
        for label, row in ((f"{name}: fusion", before), (f"{name}: ranker", after)):
            lines.append(f"| {label} | {row['n']} | " + " | ".join(f"{row[m]:.4f}" for m in REPORT_METRICS) + " |")
    return "\n".join(lines)
