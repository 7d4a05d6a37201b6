"""The paired test behind the per-kind targets, on cases whose answer is known by hand."""

import numpy as np
import pytest

from eval.significance import MIN_N_FOR_P, group_comparisons, paired_comparison, paired_t_p, randomisation_p


def test_exact_randomisation_p_by_hand():
    # differences 1, 2, 3: of the 8 sign patterns only +++ and --- reach |mean| 2 -> p = 2/8
    assert randomisation_p([1.0, 2.0, 3.0]) == pytest.approx(0.25)
    # 1, 1, 1, -1: |mean| 0.5 is reached by the patterns with three or four agreeing signs: 2 * (1 + 4) / 16
    assert randomisation_p([1.0, 1.0, 1.0, -1.0]) == pytest.approx(10 / 16)
    # one query: +d and -d are equally extreme; identical runs: every pattern ties
    assert randomisation_p([0.4]) == 1.0
    assert randomisation_p([0.0] * 5) == 1.0
    assert randomisation_p([]) == 1.0


def test_sampled_randomisation_p_is_seeded_and_bounded():
    # 20 equal positive differences: only 2 of 2**20 patterns are as extreme (p ~ 2e-6); sampled, the estimate
    # cannot go under 1 / (N + 1) and never says 0
    p = randomisation_p([0.1] * 20)
    assert p == pytest.approx(1 / 10_001)
    rng = np.random.default_rng(3)
    d = rng.normal(0.02, 0.2, 80)
    assert randomisation_p(d) == randomisation_p(d)  # the same seed, the same draws
    # large n: close to the paired t-test's p on roughly normal differences
    assert randomisation_p(d) == pytest.approx(paired_t_p(d, np.zeros_like(d)), abs=0.03)


def test_paired_t_by_hand():
    # differences 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 3.464 with 2 df -> two-sided p = 0.0742
    assert paired_t_p(np.array([1.0, 2.0, 3.0]), np.zeros(3)) == pytest.approx(0.0742, abs=1e-4)
    assert paired_t_p(np.ones(4), np.ones(4)) is None  # no difference: undefined, not 1 or nan
    assert paired_t_p(np.ones(1), np.zeros(1)) is None
    assert paired_t_p(np.full(5, 0.9), np.full(5, 0.8)) == 0.0  # one constant difference: t is infinite


def test_verdicts_tested_only_from_min_n():
    n = MIN_N_FOR_P
    ref, other = np.full(n, 0.9), np.full(n, 0.8)  # higher on every query: p tiny
    row = paired_comparison(ref, other)
    assert row["tested"] and row["met"] and row["verdict"].startswith("met")
    assert row["delta"] == pytest.approx(0.1) and row["wins"] == n and row["losses"] == 0
    # higher on average but as many losses as wins: p large -> not met
    mixed = np.tile([1.0, 0.0], n // 2)
    row = paired_comparison(mixed * 0.2 + 0.5, mixed[::-1] * 0.19 + 0.5)
    assert row["delta"] > 0 and not row["met"] and "p >= 0.05" in row["verdict"]
    # fewer queries: shown, not judged on p
    small = paired_comparison(np.array([0.9, 0.5, 0.9]), np.array([0.8, 0.6, 0.6]))
    assert not small["tested"] and small["met"] and small["verdict"] == f"n < {MIN_N_FOR_P}: not tested (higher)"
    # differences .1, -.1, .3 (|sum| .3): the sums +-.5, +-.3, +-.3, +-.1 -> 6 of 8 patterns as extreme
    assert small["p_value"] == pytest.approx(0.75)
    lower = paired_comparison(np.array([0.5, 0.5]), np.array([0.6, 0.6]))
    assert not lower["met"] and "not higher" in lower["verdict"]
    with pytest.raises(ValueError, match="differ in length"):
        paired_comparison(np.ones(3), np.ones(2))


def test_group_comparisons_pick_each_groups_best_single():
    scores = {"default": np.array([0.9, 0.9, 0.8, 0.8]), "lexical": np.array([0.95, 0.9, 0.1, 0.1]),
              "visual": np.array([0.0, 0.0, 0.85, 0.7])}
    masks = {"text": np.array([True, True, False, False]), "image": np.array([False, False, True, True])}
    rows = group_comparisons(scores, masks, "default", ["lexical", "visual"])
    assert rows["text"]["best_single"] == "lexical" and rows["image"]["best_single"] == "visual"
    assert rows["text"]["delta"] == pytest.approx(-0.025) and not rows["text"]["met"]
    assert rows["image"]["delta"] == pytest.approx(0.025) and rows["image"]["n"] == 2
