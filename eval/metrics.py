"""Metrics: ranx for reports and significance; a small numpy port of a few ranx metrics for fast tuning.

The numpy metrics follow ranx's definitions exactly (tests check them against ranx):
relevant = grade >= 1; ndcg uses the grade as gain with a log2(rank + 1) discount (Järvelin);
AP@k divides by the number of relevant products; MRR@k is 0 without a relevant product in the top k.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence

import numpy as np

from indexer.errors import ProdsearchError

logger = logging.getLogger(__name__)

DEFAULT_METRICS = ("recall@10", "recall@50", "recall@100", "ndcg@10", "mrr", "map@100", "precision@10")
STAT_TEST = "fisher"
MAX_P = 0.05
PLACEHOLDER_DOC = "__no_result__"  # never judged, so it changes no metric

Qrels = dict[str, dict[str, int]]
Ranked = dict[str, list[str]]

REPORT_METRICS = ("ndcg", "recall", "precision", "mrr", "map", "hits", "hit_rate", "f1", "r-precision", "dcg",
                  "dcg_burges", "ndcg_burges", "bpref")  # ranx's, as `eval run --metrics` may name them
TUNE_METRICS = ("ndcg", "recall", "precision", "mrr", "map")  # the numpy port below (`query_metric`)
_METRIC_RE = re.compile(r"([a-z_-]+)(?:@([1-9][0-9]{0,5}))?")


class MetricError(ProdsearchError, ValueError):
    """A metric name the report or the tuner cannot compute."""


def check_metrics(metrics: Sequence[str], allowed: Sequence[str] = REPORT_METRICS, option: str = "--metrics") -> None:
    """Refuse unknown metric names before any work (ranx would only fail once every query has run)."""
    if not metrics:
        raise MetricError(f"{option}: name at least one metric, e.g. ndcg@10")
    for metric in metrics:
        match = _METRIC_RE.fullmatch(metric)
        if not match or match.group(1) not in allowed:
            raise MetricError(f"{option}: unknown metric {metric!r}; use NAME or NAME@K (K a positive integer) with "
                              f"NAME one of {', '.join(allowed)}")


def _ranx():
    import numba  # noqa: F401  (ranx's kernels; silence its cast warnings)
    from numba.core.errors import NumbaTypeSafetyWarning

    warnings.filterwarnings("ignore", category=NumbaTypeSafetyWarning)
    import ranx

    return ranx


def to_ranx_run(ranked: Ranked, qids: Sequence[str], name: str):
    """A ranx Run with rank-derived scores (ties keep the engine's order); missing queries rank nothing."""
    ranx = _ranx()
    data = {qid: {doc: float(len(docs) - i) for i, doc in enumerate(docs)} for qid in qids
            for docs in [ranked.get(qid, [])]}
    if qids and not any(data.values()):  # ranx cannot build a run with no document at all
        data[qids[0]] = {PLACEHOLDER_DOC: 0.0}
    return ranx.Run(data, name=name)


def to_ranx_qrels(qrels: Qrels, qids: Sequence[str]):
    ranx = _ranx()
    return ranx.Qrels({qid: dict(qrels[qid]) for qid in qids})


def evaluate(qrels: Qrels, ranked: Ranked, metrics: Sequence[str] = DEFAULT_METRICS,
             per_query: bool = False) -> dict[str, float] | dict[str, np.ndarray]:
    """Mean ranx scores over the queries of ``qrels`` (with ``per_query``: arrays in ``qrels`` order)."""
    ranx = _ranx()
    qids = list(qrels)
    run = to_ranx_run(ranked, qids, "run")
    means = ranx.evaluate(to_ranx_qrels(qrels, qids), run, list(metrics))  # run has every qrels query
    if not isinstance(means, dict):
        means = {metrics[0]: means}
    if not per_query:
        return {m: float(v) for m, v in means.items()}
    return {m: np.array([float(run.scores[m][qid]) for qid in qids]) for m in metrics}


def compare_runs(qrels: Qrels, runs: dict[str, Ranked], metrics: Sequence[str] = DEFAULT_METRICS,
                 stat_test: str = STAT_TEST, max_p: float = MAX_P, n_permutations: int = 1000,
                 seed: int = 42) -> dict:
    """ranx `compare` (Fisher's randomisation test by default): scores and pairwise p-values per run."""
    ranx = _ranx()
    qids = list(qrels)
    ranx_runs = [to_ranx_run(r, qids, name) for name, r in runs.items()]
    report = ranx.compare(to_ranx_qrels(qrels, qids), ranx_runs, list(metrics), stat_test=stat_test,
                          n_permutations=n_permutations, max_p=max_p, random_seed=seed, rounding_digits=6)
    return report.to_dict()


def significance_vs(comparison: dict, baseline: str, max_p: float = MAX_P) -> dict[str, dict[str, dict]]:
    """For every run but ``baseline``: per metric, the delta, the p-value and whether p < max_p."""
    out: dict[str, dict[str, dict]] = {}
    base = comparison[baseline]["scores"]
    for name in comparison["model_names"]:
        if name == baseline:
            continue
        scores, pvals = comparison[name]["scores"], comparison[name]["comparisons"][baseline]
        out[name] = {m: {"delta": scores[m] - base[m], "rel_delta": (scores[m] - base[m]) / base[m] if base[m] else None,
                         "p_value": pvals[m], "significant": pvals[m] < max_p} for m in scores}
    return out


# -- numpy metrics (tuning inner loop) -------------------------------------------------------------
def _parse(metric: str) -> tuple[str, int]:
    name, _, cut = metric.partition("@")
    return name, int(cut) if cut else 0


def query_metric(metric: str, docs: Sequence[str], grades: dict[str, int]) -> float:
    """One query's score, as ranx computes it."""
    name, k = _parse(metric)
    top = list(docs[:k] if k else docs)
    rels = [grades.get(d, 0) for d in top]
    n_rel = sum(g >= 1 for g in grades.values())
    if n_rel == 0:
        return 0.0
    if name == "ndcg":
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(rels))
        ideal = sorted(grades.values(), reverse=True)[:k] if k else sorted(grades.values(), reverse=True)
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        return dcg / idcg if idcg else 0.0
    if name == "recall":
        return sum(g >= 1 for g in rels) / n_rel
    if name == "precision":
        return sum(g >= 1 for g in rels) / k if k else sum(g >= 1 for g in rels) / max(len(rels), 1)
    if name == "mrr":
        return next((1.0 / (i + 1) for i, g in enumerate(rels) if g >= 1), 0.0)
    if name == "map":
        hits, total = 0, 0.0
        for i, g in enumerate(rels):
            if g >= 1:
                hits += 1
                total += hits / (i + 1)
        return total / n_rel
    raise ValueError(f"numpy metric {metric!r} not implemented; use ndcg@k, recall@k, precision@k, mrr, map@k")


def mean_metric(metric: str, ranked: Ranked, qrels: Qrels) -> float:
    """Mean of `query_metric` over the queries of ``qrels`` (a query missing from ``ranked`` scores 0)."""
    if not qrels:
        return 0.0
    return float(np.mean([query_metric(metric, ranked.get(q, []), grades) for q, grades in qrels.items()]))
