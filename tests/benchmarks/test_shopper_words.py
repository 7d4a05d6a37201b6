"""The shopper word lists of the wording probe (benchmarks/shopper_words*.py): every value they map to is a value of
the fashion catalog, the held-out lists repeat no older phrase, and `shopper_wording.py --check` fails on a list
the catalog does not back. Needs no index and searches nothing."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from support import SHARED_FASHION, load_benchmark

check = load_benchmark("shopper_words_check")
words = load_benchmark("shopper_words")
fresh2 = load_benchmark("shopper_words_fresh2")
fresh3 = load_benchmark("shopper_words_fresh3")
LISTS = {"core": words.FIELDS, "fresh": words.FRESH, "fresh2": fresh2.FRESH2, "fresh3": fresh3.FRESH3}


def test_phrase_key_ignores_case_spacing_and_plurals():
    assert check.phrase_key("Road  Trips") == check.phrase_key("road trip") == "road trip"
    assert check.phrase_key("T-Shirts") == "t shirt"
    assert check.phrase_key("glass") == "glass" and check.phrase_key("bus") == "bus"


def test_list_problems_names_unknown_values_empty_sets_and_double_fields():
    counts = {"colour": Counter({"Red": 3}), "gender": Counter({"Women": 2}), "usage": Counter(),
              "article_type": Counter({"Tops": 5})}
    good = {"colour": {"scarlet": ("Red",)}, "gender": {"my wife": ("Women",)}, "article_type": {"cami": ("Tops",)}}
    assert check.list_problems(good, counts) == []
    bad = {"colour": {"scarlet": ("Red", "Navy")}, "usage": {"gym": ()}, "article_type": {"scarlets": ("Tops",)},
           "size": {"xl": ("XL",)}}
    problems = check.list_problems(bad, counts)
    assert any("'Navy' is not a catalog value" in p for p in problems)
    assert any("'gym' maps to no value" in p for p in problems)
    assert any("in both colour and article_type" in p for p in problems)
    assert any("unknown field 'size'" in p for p in problems)
    assert len(problems) == 4


def test_overlap_problems_names_phrases_an_older_list_holds():
    older = {"core": {"usage": {"road trip": ("Travel",)}}}
    new = {"usage": {"road trips": ("Travel",), "city break": ("Travel",)}}
    assert check.overlap_problems(new, older) == ["usage: 'road trips' is already in the 'core' list"]


def test_fresh2_repeats_no_older_phrase_and_is_at_least_as_large_as_fresh():
    assert check.overlap_problems(fresh2.FRESH2, {"core": words.FIELDS, "fresh": words.FRESH}) == []
    for field, phrases in words.FRESH.items():
        assert len(fresh2.FRESH2[field]) >= len(phrases), field


def test_the_probe_offers_fresh2():
    wording = load_benchmark("shopper_wording")
    assert wording.WORD_LISTS["fresh2"] is fresh2.FRESH2


def test_fresh3_repeats_no_phrase_of_core_fresh_or_fresh2_and_fills_every_field():
    older = {"core": words.FIELDS, "fresh": words.FRESH, "fresh2": fresh2.FRESH2}
    assert check.overlap_problems(fresh3.FRESH3, older) == []
    assert sorted(fresh3.FRESH3) == sorted(check.FIELDS)
    assert all(len(phrases) >= 40 for phrases in fresh3.FRESH3.values())


def test_the_probe_offers_fresh3_after_the_lists_it_is_checked_against():
    wording = load_benchmark("shopper_wording")
    assert wording.WORD_LISTS["fresh3"] is fresh3.FRESH3
    assert list(wording.WORD_LISTS)[-1] == "fresh3"  # --check compares a list with every list before it


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_mapped_value_is_a_fashion_catalog_value(name, tmp_path):
    if not (SHARED_FASHION / "products.csv").is_file():
        pytest.skip(f"fashion dataset absent at {SHARED_FASHION}")
    from indexer.adapters.fashion import fashion_row_to_product

    with open(SHARED_FASHION / "products.csv", encoding="utf-8", newline="") as fh:
        rows = [fashion_row_to_product(r, tmp_path) for r in csv.DictReader(fh)]
    counts = check.catalog_values(r["attributes"] for r in rows if r)
    assert sum(counts["article_type"].values()) > 40_000
    assert check.list_problems(LISTS[name], counts) == []


def test_check_mode_fails_on_a_catalog_that_lacks_the_values(tmp_path, capsys):
    wording = load_benchmark("shopper_wording")
    catalog = tmp_path / "catalog.jsonl"
    rows = [{"id": str(i), "title": f"Red Tshirts {i}", "attributes": {"gender": "Men", "colour": "Red",
             "article_type": "Tshirts", "usage": "Casual"}} for i in range(5)]
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert wording.main(["--catalog", str(catalog), "--check", "--words", "fresh2", "--per-family", "2"]) == 1
    out = capsys.readouterr().out
    assert "'Navy Blue' is not a catalog value" in out and "check FAILED" in out
