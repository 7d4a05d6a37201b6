"""Paired significance of one mode against another, per group of queries (issue #13's target per query kind).

The target: for each query kind (and each declared family) the engine's default beats that group's best single
signal on nDCG@10, with p < 0.05 where the group has at least `MIN_N_FOR_P` queries. Smaller groups are reported
"n < 50: not tested": their p-value is shown but not judged.

The test is Fisher's paired randomisation (sign-flip) test on the per-query differences, two-sided: exact (every
sign pattern) when 2**n <= `N_PERMUTATIONS`, else `N_PERMUTATIONS` seeded random sign patterns with the
(count + 1) / (N + 1) estimate, so it never reports p = 0. It is the test ranx's `compare` runs; ranx's own
implementation draws its permutations in numba's parallel threads, which a seed does not make repeatable (three
calls on one pair of runs gave 0.0328, 0.0336, 0.0364), so the report computes it here with numpy's seeded
generator and gives ranx's paired Student t-test beside it as a second opinion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_N_FOR_P = 50  # a group smaller than this need only score higher: too few queries for a p-value to decide
N_PERMUTATIONS = 10_000
SEED = 42
MAX_P = 0.05
_EXACT_MAX_N = 13  # up to 2**13 = 8192 sign patterns: enumerate them all


def randomisation_p(differences: Sequence[float] | np.ndarray, n_permutations: int = N_PERMUTATIONS,
                    seed: int = SEED) -> float:
    """Two-sided p-value of a mean paired difference under random sign flips (exact for small n)."""
    d = np.asarray(differences, dtype=np.float64)
    n = d.size
    if n == 0:
        return 1.0
    observed = abs(d.mean())
    tolerance = 1e-12 * max(1.0, float(np.abs(d).max()))  # equal means must count as "as extreme" despite rounding
    if n <= _EXACT_MAX_N:  # every sign pattern: the exact p-value
        patterns = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1) * 2 - 1
        means = np.abs(patterns @ d) / n
        return float(np.mean(means >= observed - tolerance))
    rng = np.random.default_rng(seed)
    count = 0
    for start in range(0, n_permutations, 1000):  # chunks keep the sign matrix small for large groups
        size = min(1000, n_permutations - start)
        signs = rng.integers(0, 2, size=(size, n), dtype=np.int8) * 2 - 1
        count += int(np.sum(np.abs(signs @ d) / n >= observed - tolerance))
    return (count + 1) / (n_permutations + 1)


def paired_t_p(reference: np.ndarray, other: np.ndarray) -> float | None:
    """ranx's paired two-sided Student t-test; None where it is undefined (fewer than 2 queries, no difference)."""
    diff = np.asarray(reference, dtype=np.float64) - np.asarray(other, dtype=np.float64)
    if len(diff) < 2 or np.allclose(diff, 0.0):
        return None
    if np.ptp(diff) <= 1e-12 * max(1.0, float(np.abs(diff).max())):  # one constant, non-zero difference: t is infinite
        return 0.0
    from ranx.statistical_tests import paired_student_t_test

    p, _ = paired_student_t_test(np.asarray(reference, dtype=np.float64), np.asarray(other, dtype=np.float64), 1.0)
    return None if p is None or not math.isfinite(float(p)) else float(p)


def paired_comparison(reference: np.ndarray, other: np.ndarray, *, max_p: float = MAX_P,
                      min_n: int = MIN_N_FOR_P) -> dict[str, Any]:
    """``reference`` vs ``other`` (per-query scores in one order): means, mean difference, p-values, verdict.

    ``met`` is True when the reference scores higher and, where n >= ``min_n``, p < ``max_p``; for smaller n
    ``tested`` is False and ``verdict`` says so, whatever p is.
    """
    reference, other = np.asarray(reference, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if reference.shape != other.shape:
        raise ValueError(f"paired scores differ in length: {reference.shape} vs {other.shape}")
    n = int(reference.size)
    diff = reference - other
    delta = float(diff.mean()) if n else 0.0
    p = randomisation_p(diff)
    higher = delta > 0
    tested = n >= min_n
    met = bool(higher and (not tested or p < max_p))
    if not tested:
        verdict = f"n < {min_n}: not tested ({'higher' if higher else 'not higher'})"
    elif met:
        verdict = f"met (p < {max_p:g})"
    else:
        verdict = "NOT met (" + ("not higher" if not higher else f"p >= {max_p:g}") + ")"
    return {"n": n, "reference": float(reference.mean()) if n else 0.0, "other": float(other.mean()) if n else 0.0,
            "delta": delta, "p_value": p, "p_t": paired_t_p(reference, other),
            "wins": int(np.sum(diff > 0)), "losses": int(np.sum(diff < 0)), "tested": tested, "met": met,
            "verdict": verdict}


def best_single_per_group(per_query: dict[str, np.ndarray], masks: dict[str, np.ndarray],
                          singles: Sequence[str]) -> dict[str, str]:
    """For each group, the single mode with the highest mean (first named on a tie)."""
    return {group: max(singles, key=lambda m: float(per_query[m][mask].mean()) if mask.any() else 0.0)
            for group, mask in masks.items()}


def group_comparisons(per_query: dict[str, np.ndarray], masks: dict[str, np.ndarray], reference: str,
                      singles: Sequence[str], *, max_p: float = MAX_P) -> dict[str, dict[str, Any]]:
    """Per group: ``reference`` against that group's best single mode (`paired_comparison`, named)."""
    out: dict[str, dict[str, Any]] = {}
    for group, single in best_single_per_group(per_query, masks, singles).items():
        mask = masks[group]
        row = paired_comparison(per_query[reference][mask], per_query[single][mask], max_p=max_p)
        out[group] = {"reference_mode": reference, "best_single": single, **row}
    return out


def render_comparisons(rows: dict[str, dict[str, Any]], label: str, metric: str = "ndcg@10") -> list[str]:
    """Markdown table of `group_comparisons` rows."""
    if not rows:
        return []
    lines = [f"| {label} | n | {metric} reference | best single | {metric} single | difference | "
             "wins/losses | p (randomisation) | p (paired t) | target |", "|" + "---|" * 10]
    for group, r in rows.items():
        p_t = "-" if r["p_t"] is None else f"{r['p_t']:.3g}"
        lines.append(f"| {group} | {r['n']} | {r['reference_mode']} {r['reference']:.4f} | {r['best_single']} | "
                     f"{r['other']:.4f} | {r['delta']:+.4f} | {r['wins']}/{r['losses']} | {r['p_value']:.3g} | "
                     f"{p_t} | {r['verdict']} |")
    return lines
