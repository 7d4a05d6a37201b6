"""The free-form shopper query probe (benchmarks/shopper_queries.py): its grades and checks on a hand-made catalog,
and its query list against the real fashion catalog. Searches nothing."""

from __future__ import annotations

import csv
import json

import pytest
from support import SHARED_FASHION, load_benchmark

from indexer.catalog import Product

probe = load_benchmark("shopper_queries")


def product(pid: str, article_type: str, colour: str, gender: str, brand: str = "Acme", age: str = "Adults-Men"):
    return Product(id=pid, title=f"{brand} {colour} {article_type}", brand=brand,
                   attributes={"article_type": article_type, "colour": colour, "gender": gender, "usage": "Casual",
                               "age_group": age})


PRODUCTS = [product("a", "Tshirts", "Red", "Men"), product("b", "Tshirts", "Red", "Unisex"),
            product("c", "Tshirts", "Red", "Men", brand="Birch"), product("d", "Tshirts", "Blue", "Men"),
            product("e", "Tshirts", "Blue", "Women"), product("f", "Shirts", "Red", "Men"),
            product("g", "Tshirts", "Red", "Unisex", age="Kids-Unisex")]


def test_grades_follow_the_wording_probe_with_brand_as_a_field():
    queries = [("colour+audience+type", "red tee for him", {"article_type": ("Tshirts",), "colour": ("Red",),
                                                            "gender": ("Men",)})]
    probes, qrels, problems = probe.build(PRODUCTS, queries)
    assert problems == [] and [p.text for p in probes] == ["red tee for him"]
    # a, b (Unisex suits Men), c: every value; d: the colour off; e: colour and gender off; f: not a Tshirt;
    # g: a kids' Unisex product does not suit a query for men (one value off)
    assert qrels[probes[0].id] == {"a": 2, "b": 2, "c": 2, "d": 1, "g": 1}
    queries = [("brand+type", "acme tees", {"article_type": ("Tshirts",), "brand": ("Acme",)})]
    probes, qrels, problems = probe.build(PRODUCTS, queries)
    assert qrels[probes[0].id] == {"a": 2, "b": 2, "d": 2, "e": 2, "g": 2, "c": 1}


def test_build_names_every_problem_and_leaves_those_queries_out():
    queries = [("x", "red tees", {"article_type": ("Tshirts",), "colour": ("Red",)}),
               ("x", "Red  Tees", {"article_type": ("Tshirts",), "colour": ("Red",)}),
               ("x", "navy tees", {"article_type": ("Tshirts",), "colour": ("Navy",)}),
               ("x", "size m tees", {"article_type": ("Tshirts",), "size": ("M",)}),
               ("x", "red shirts", {"article_type": ("Shirts",), "colour": ("Red",)}),
               ("x", "red things", {"colour": ("Red",)})]
    probes, _, problems = probe.build(PRODUCTS, queries)
    assert [p.text for p in probes] == ["red tees"]
    assert problems == ["query 1 'Red  Tees': repeated", "query 2 'navy tees': colour 'Navy' is not a catalog value",
                        "query 3 'size m tees': unknown field 'size'",
                        "query 4 'red shirts': 1 grade-2 products (< 3)", "query 5 'red things': no article_type"]


@pytest.fixture(scope="module")
def fashion_catalog(tmp_path_factory):
    """The real fashion catalog as a catalog.jsonl without photos (grading needs none), converted once."""
    if not (SHARED_FASHION / "products.csv").is_file():
        pytest.skip(f"fashion dataset absent at {SHARED_FASHION}")
    from indexer.adapters.fashion import fashion_row_to_product

    folder = tmp_path_factory.mktemp("fashion")
    with open(SHARED_FASHION / "products.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in (fashion_row_to_product(r, folder) for r in csv.DictReader(fh)) if r]
    for r in rows:
        r.pop("images", None)
    catalog = folder / "catalog.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return catalog


@pytest.mark.shared
@pytest.mark.parametrize(("name", "count"), [("free", 309), ("free2", 308), ("free3", 252), ("free4", 240)])
def test_the_free_form_queries_check_against_the_fashion_catalog(name, count, fashion_catalog, capsys):
    assert probe.main(["--catalog", str(fashion_catalog), "--check", "--set", name]) == 0
    out = capsys.readouterr().out
    assert f"check passed: 0 problem(s), {count} queries" in out
