"""The wording probe's conversational frames (benchmarks/shopper_frames.py): well formed, naming no graded catalog
value (so a framed query asks for what its plain query asks for), one seeded frame per query, and the report's
per-family ratio. Needs no index and searches nothing."""

from __future__ import annotations

import csv

import pytest
from support import SHARED_FASHION, load_benchmark

frames = load_benchmark("shopper_frames")
VALUES = ["Red", "Navy Blue", "Men", "Women", "Casual", "Smart Casual", "Tshirts", "Tops", "Perfume and Body Mist"]


def test_the_shipped_frames_are_well_formed_and_name_no_value():
    assert len(frames.FRAMES) == 120 and len(set(frames.FRAMES)) == 120
    assert frames.frame_problems(frames.FRAMES, VALUES) == []


def test_frame_problems_names_values_plurals_repeats_and_bad_placeholders():
    problems = frames.frame_problems(
        ["casual {q}", "{q} for men", "nice tshirt {q}", "navy blue {q}", "x", "x", "{q} {q}", "fine {q}"], VALUES)
    assert problems == [
        "frame 'x' repeats",
        "frame 'casual {q}' names the catalog values ['Casual']",
        "frame '{q} for men' names the catalog values ['Men']",
        "frame 'nice tshirt {q}' names the catalog values ['Tshirts']",
        "frame 'navy blue {q}' names the catalog values ['Navy Blue']",
        "frame 'x' must hold {q} exactly once and no other braces",
        "frame 'x' must hold {q} exactly once and no other braces",
        "frame '{q} {q}' must hold {q} exactly once and no other braces",
    ]


def test_a_word_of_a_value_alone_and_an_idiom_are_no_problem():
    # "and" is a word of "Perfume and Body Mist", "navy" of "Navy Blue": only the whole value names it
    assert frames.frame_problems(["nice and navy {q}", "top rated {q}"], VALUES) == []
    assert frames.frame_problems(["top rated tops {q}"], VALUES) == ["frame 'top rated tops {q}' names the catalog "
                                                                     "values ['Tops']"]


def test_each_query_gets_its_own_seeded_frame():
    assert frames.frame_for("s0001", 13) == frames.frame_for("s0001", 13)
    assert len({frames.frame_for(f"s{i:04d}", 13) for i in range(200)}) > 60
    assert [frames.frame_for(f"s{i:04d}", 13) for i in range(20)] != [frames.frame_for(f"s{i:04d}", 14)
                                                                      for i in range(20)]
    assert frames.framed("red  tshirts", "i need {q}  pls") == "i need red tshirts pls"


def test_frame_report_gives_each_family_and_all_with_the_ratio():
    plain = {"a": 1.0, "b": 0.5, "c": 0.8}
    framed = {"a": 0.5, "b": 0.5, "c": 0.8}
    lines = frames.frame_report({"f1": ["a", "b"], "f2": ["c"]}, plain, framed, {i: i.upper() for i in plain}, 1)
    assert lines[2] == "| f1 | 2 | 0.750 | 0.500 | 0.667 |"
    assert lines[3] == "| f2 | 1 | 0.800 | 0.800 | 1.000 |"
    assert lines[4] == "| all | 3 | 0.767 | 0.600 | 0.783 |"
    assert lines[-1] == "  1.000 -> 0.500  A"


@pytest.mark.shared
def test_no_frame_names_a_fashion_catalog_value(tmp_path):
    if not (SHARED_FASHION / "products.csv").is_file():
        pytest.skip(f"fashion dataset absent at {SHARED_FASHION}")
    from indexer.adapters.fashion import fashion_row_to_product

    with open(SHARED_FASHION / "products.csv", encoding="utf-8", newline="") as fh:
        rows = [fashion_row_to_product(r, tmp_path) for r in csv.DictReader(fh)]
    values = {r["attributes"][name] for r in rows if r for name in ("colour", "gender", "usage", "article_type")
              if r["attributes"].get(name)}
    assert len(values) > 150
    assert frames.frame_problems(frames.FRAMES, values) == []
