"""Calibrating the relevance cutoff (`eval.cutoff`): the share of the best fused score that `total` counts from."""

from __future__ import annotations

import numpy as np
import pytest

from eval.cutoff import best_cutoff, cutoff_f1
from search.fusion import Run


def _run(scores) -> Run:
    return Run(np.arange(len(scores), dtype=np.int64), np.array(scores, np.float64))


def test_f1_of_the_candidates_above_the_cutoff():
    fused = _run([1.0, 0.9, 0.6, 0.2])
    assert cutoff_f1(fused, np.array([0, 1]), 0.8) == 1.0  # rows 0 and 1 above 0.8, both relevant
    assert cutoff_f1(fused, np.array([0, 1]), 0.5) == pytest.approx(2 * 2 / (3 + 2))
    assert cutoff_f1(fused, np.array([9]), 0.5) == 0.0 and cutoff_f1(_run([]), np.array([0]), 0.5) == 0.0


def test_the_best_cutoff_maximises_mean_f1_and_the_smallest_wins_ties():
    runs = [_run([1.0, 0.9, 0.6, 0.2]), _run([1.0, 0.75, 0.3])]
    relevant = [np.array([0, 1]), np.array([0, 1])]
    cutoff, f1 = best_cutoff(runs, relevant, cutoffs=(0.25, 0.5, 0.7, 0.95))
    assert cutoff == 0.7 and f1 == 1.0
    assert best_cutoff([_run([1.0, 0.5])], [np.array([0, 1])], cutoffs=(0.3, 0.4))[0] == 0.3
