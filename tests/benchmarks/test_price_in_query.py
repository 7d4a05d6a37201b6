"""The price-in-query benchmark's queries: a budget at the median price of the grade-2 products, graded within it."""

from __future__ import annotations

from types import SimpleNamespace

from support import load_benchmark

bench = load_benchmark("price_in_query")


def test_each_query_gets_the_median_budget_and_grades_within_it():
    probes = [SimpleNamespace(id="q1", text="red tees"), SimpleNamespace(id="q2", text="blue jeans")]
    qrels = {"q1": {"a": 2, "b": 2, "c": 2, "d": 1, "e": 2}, "q2": {"f": 2, "g": 2, "h": 1}}
    prices = {"a": 10.0, "b": 30.0, "c": 20.0, "d": 5.0, "e": None, "f": 1.0, "g": 2.0, "h": 3.0}
    assert bench.budget_queries(probes, qrels, prices) == [("q1", "red tees under 20", 20.0, {"a": 2, "c": 2, "d": 1})]
    assert [q[0] for q in bench.budget_queries(probes, qrels, prices, min_fitting=2)] == ["q1", "q2"]
