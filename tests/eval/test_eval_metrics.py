"""Metrics on tiny hand-computed runs: ranx, and the numpy port used for tuning, agree with the hand values."""

from __future__ import annotations

import math
import random

import pytest

from eval.metrics import compare_runs, evaluate, mean_metric, query_metric, significance_vs

QRELS = {"q1": {"a": 2, "b": 1, "c": 1}, "q2": {"x": 1}}
RANKED = {"q1": ["a", "z", "b"], "q2": ["y", "x"]}

# by hand: q1 DCG = 2/log2(2) + 1/log2(4) = 2.5, IDCG = 2 + 1/log2(3) + 1/log2(4); q2 DCG = 1/log2(3), IDCG = 1
NDCG_Q1 = 2.5 / (2 + 1 / math.log2(3) + 0.5)
NDCG_Q2 = 1 / math.log2(3)
HAND = {
    "ndcg@10": (NDCG_Q1 + NDCG_Q2) / 2,
    "recall@2": (1 / 3 + 1) / 2,
    "recall@10": (2 / 3 + 1) / 2,
    "precision@2": (1 / 2 + 1 / 2) / 2,
    "mrr": (1 + 1 / 2) / 2,
    "map@100": ((1 + 2 / 3) / 3 + (1 / 2) / 1) / 2,
}


@pytest.mark.parametrize("metric", sorted(HAND))
def test_ranx_matches_hand_computed(metric):
    assert evaluate(QRELS, RANKED, [metric])[metric] == pytest.approx(HAND[metric], abs=1e-9)


@pytest.mark.parametrize("metric", sorted(HAND))
def test_numpy_port_matches_hand_computed(metric):
    assert mean_metric(metric, RANKED, QRELS) == pytest.approx(HAND[metric], abs=1e-9)


def test_numpy_port_matches_ranx_on_random_runs():
    rng = random.Random(7)
    docs = [f"d{i}" for i in range(40)]
    qrels = {f"q{i}": {d: rng.choice([1, 2, 3]) for d in rng.sample(docs, rng.randint(1, 8))} for i in range(25)}
    ranked = {q: rng.sample(docs, rng.randint(0, 30)) for q in qrels}
    metrics = ["ndcg@5", "ndcg@10", "recall@10", "recall@20", "precision@10", "mrr", "map@100", "mrr@5"]
    by_ranx = evaluate(qrels, ranked, metrics)
    for metric in metrics:
        assert mean_metric(metric, ranked, qrels) == pytest.approx(by_ranx[metric], abs=1e-9), metric


def test_empty_and_missing_rankings_score_zero():
    ranked = {"q1": []}  # q2 missing altogether
    scores = evaluate(QRELS, ranked, ["ndcg@10", "mrr", "recall@10"])
    assert scores == {"ndcg@10": 0.0, "mrr": 0.0, "recall@10": 0.0}
    per_query = evaluate(QRELS, {"q1": [], "q2": ["x"]}, ["mrr"], per_query=True)
    assert list(per_query["mrr"]) == [0.0, 1.0]  # in qrels order
    assert query_metric("ndcg@10", [], {"a": 1}) == 0.0


def test_significance_marks_a_clearly_better_run():
    qrels = {f"q{i}": {f"r{i}": 1} for i in range(40)}
    good = {q: [next(iter(g))] + [f"n{j}" for j in range(9)] for q, g in qrels.items()}
    bad = {q: [f"n{j}" for j in range(9)] + [next(iter(g))] for q, g in qrels.items()}
    comparison = compare_runs(qrels, {"bad": bad, "good": good, "same": bad}, ["ndcg@10", "mrr"])
    sig = significance_vs(comparison, "bad")
    assert sig["good"]["ndcg@10"]["significant"] and sig["good"]["ndcg@10"]["delta"] > 0
    assert sig["good"]["mrr"]["p_value"] < 0.05
    assert not sig["same"]["ndcg@10"]["significant"]
