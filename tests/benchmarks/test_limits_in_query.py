"""The limits-in-query benchmark's queries: a budget at the median price of the grade-2 products, a ruled-out colour
the plain query's top 10 mostly holds; each graded within its limit."""

from __future__ import annotations

from types import SimpleNamespace

from support import load_benchmark

bench = load_benchmark("limits_in_query")


def test_each_query_gets_the_median_budget_and_grades_within_it():
    probes = [SimpleNamespace(id="q1", text="red tees"), SimpleNamespace(id="q2", text="blue jeans")]
    qrels = {"q1": {"a": 2, "b": 2, "c": 2, "d": 1, "e": 2}, "q2": {"f": 2, "g": 2, "h": 1}}
    prices = {"a": 10.0, "b": 30.0, "c": 20.0, "d": 5.0, "e": None, "f": 1.0, "g": 2.0, "h": 3.0}
    assert bench.budget_queries(probes, qrels, prices) == [("q1", "red tees under 20", 20.0, {"a": 2, "c": 2, "d": 1})]
    assert [q[0] for q in bench.budget_queries(probes, qrels, prices, min_fitting=2)] == ["q1", "q2"]


def test_a_query_naming_no_colour_rules_out_the_colour_its_top_ten_mostly_holds():
    probes = [SimpleNamespace(id="q1", text="shoes", intent={"article_type": 1}),
              SimpleNamespace(id="q2", text="red tees", intent={"colour": 1}),
              SimpleNamespace(id="q3", text="bags", intent={})]
    qrels = {"q1": {"a": 2, "b": 2, "c": 2, "d": 2, "e": 1}, "q2": {"a": 2}, "q3": {"a": 2, "b": 2}}
    colours = {"a": "Black", "b": "Brown", "c": "Red", "d": "Black", "e": "Red", "x": "Black"}
    tops = {"shoes": ["a", "x", "c"], "bags": ["a", "b"]}
    rows = bench.not_queries(probes, qrels, colours, lambda text: tops[text], min_left=2)
    assert rows == [("q1", "shoes not black", "Black", {"b": 2, "c": 2, "e": 1})]  # q3: one grade-2 left


def test_a_ruled_out_brand_is_the_one_the_top_ten_mostly_holds():
    probes = [SimpleNamespace(id="q1", text="shoes", intent={"article_type": 1})]
    qrels = {"q1": {"a": 2, "b": 2, "c": 2, "d": 1}}
    brands = {"a": "Puma", "b": "Nike", "c": "Nike", "d": "Puma", "x": "Puma"}
    rows = bench.not_queries(probes, qrels, brands, lambda text: ["a", "x", "b"], min_left=2, field="brand")
    assert rows == [("q1", "shoes not puma", "Puma", {"b": 2, "c": 2})]
    assert bench.not_queries(probes, qrels, brands, lambda text: ["a", "x", "b"], min_left=3, field="brand") == []
