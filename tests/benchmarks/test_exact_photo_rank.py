"""benchmarks/exact_photo_rank.py: identical photos are grouped by product, ranks are summarised as the README's table
reads them, and on the fixtures every product photo uploaded comes back first (no timings checked)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.support import load_benchmark

bench = load_benchmark("exact_photo_rank")
REPO = Path(__file__).resolve().parents[2]


def test_products_sharing_an_identical_photo_form_a_group():
    # photos 0..4 belong to products 0, 1, 1, 2, 3; product 1's second photo is product 2's photo
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0.6, 0.8, 0]], np.float32)
    photo_product = np.array([0, 1, 1, 2, 3])
    groups = bench.shared_photo_groups(vectors, photo_product, np.array([0, 1, 2, 3, 4]), chunk=2)
    assert groups == {0: 1, 1: 2, 2: 2, 3: 1}  # product 4 has no photo: not in the groups


def test_ranks_are_summarised_first_top10_mrr_and_within_the_group():
    ranks = np.array([1, 2, 11, 0])
    s = bench.summarise(ranks, group=np.array([1, 2, 2, 2]))
    assert s == {"n": 4, "first": 1, "top10": 2, "mrr": round((1 + 0.5 + 1 / 11) / 4, 4), "in_group": 2}
    assert bench.rank_of(["a", "b"], "b") == 2 and bench.rank_of(["a"], "z") == 0


@pytest.mark.slow
def test_every_fixture_photo_comes_back_first(real_fixture_index, tmp_path):
    out = tmp_path / "ranks.json"
    assert bench.main(["--index", str(real_fixture_index), "--images-root", str(REPO / "fixtures" / "images"),
                       "--suffix", "png", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    figures, ranks = report["figures"], report["ranks"]
    assert len(ranks) == 312
    own = figures["own photo"]
    assert own["default"]["n"] + figures["shared photo"]["default"]["n"] == figures["indexed photo (own + shared)"][
        "default"]["n"] == 312
    assert own["default"]["first"] == own["default"]["n"] and own["default"]["mrr"] == 1.0
    assert all(r["group"] >= 1 for r in ranks.values())
