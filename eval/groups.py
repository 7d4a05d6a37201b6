"""The report judged per group of queries: each query kind, each query family, each perturbation.

A fused mode that wins on the mix of kinds can lose on one of them (each single signal cannot answer
some kinds at all), so the targets are checked per kind and per family (the derived sets' attribute
combinations, "colour+gender+type"): the engine's default (else the best fused mode) must beat that group's
best single signal, significantly where the group has at least `MIN_N_FOR_P` queries (`eval.significance`).
Perturbed variants (`eval.perturb`) are set beside the queries they came from:
their metric must keep a share of the clean queries'.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.relevance import Query
from eval.significance import MIN_N_FOR_P, group_comparisons, render_comparisons

logger = logging.getLogger(__name__)

ROBUSTNESS_TARGETS = {"typos": 0.95, "synonyms": 0.97}  # variant / clean nDCG@10 (issue #13)


def group_masks(queries: Sequence[Query], attribute: str) -> dict[str, np.ndarray]:
    """Clean (unperturbed) queries grouped by ``attribute`` (`kind` or `family`), as boolean masks."""
    values = [getattr(q, attribute) if q.perturb is None else None for q in queries]
    return {v: np.array([x == v for x in values]) for v in sorted({x for x in values if x is not None})}


def group_means(per_query: dict[str, np.ndarray], masks: dict[str, np.ndarray],
                metrics: Sequence[str]) -> dict[str, dict[str, float]]:
    return {name: {"n": int(mask.sum()), **{m: float(per_query[m][mask].mean()) for m in metrics}}
            for name, mask in masks.items()}


def perturbation_scores(queries: Sequence[Query], per_query: dict[str, np.ndarray],
                        metric: str = "ndcg@10") -> dict[str, dict[str, float]]:
    """Per perturbation kind: the variants' mean ``metric``, their originals' mean, and the ratio."""
    position = {q.id: i for i, q in enumerate(queries)}
    out: dict[str, dict[str, float]] = {}
    for kind in sorted({q.perturb for q in queries if q.perturb}):
        pairs = [(position[q.id], position[q.of]) for q in queries if q.perturb == kind and q.of in position]
        if not pairs:
            continue
        variant = float(np.mean([per_query[metric][i] for i, _ in pairs]))
        clean = float(np.mean([per_query[metric][j] for _, j in pairs]))
        out[kind] = {"n": len(pairs), metric: variant, f"clean_{metric}": clean,
                     "ratio": variant / clean if clean else 0.0}
    return out


def reference_mode(modes: Sequence[str], fused: Sequence[str], score) -> str | None:
    """The mode the per-group targets judge: the engine's `default` when it was run, else the best fused mode."""
    if "default" in modes:
        return "default"
    return max(fused, key=score) if fused else None


def group_targets(report: dict[str, Any], queries: Sequence[Query], scores: dict[str, np.ndarray],
                  singles: Sequence[str], fused: Sequence[str], metric: str = "ndcg@10") -> dict[str, Any]:
    """Per kind and per family: the default (else the best fused mode) against that group's best single mode.

    ``scores`` holds each mode's per-query ``metric`` in ``queries`` order; the comparison is paired
    (`eval.significance`): both means, the mean difference, p-values, and whether the target is met.
    """
    modes, max_p = report["modes"], report["meta"]["max_p"]
    out: dict[str, Any] = {}
    for attribute, key in (("kind", "by_kind"), ("family", "by_family")):
        rows: dict[str, Any] = {}
        masks = group_masks(queries, attribute)
        if singles and fused:
            for group, mask in masks.items():
                reference = reference_mode(list(modes), fused,
                                           lambda m: modes[m][key].get(group, {}).get(metric, 0.0))  # noqa: B023
                row = group_comparisons(scores, {group: mask}, reference, singles, max_p=max_p)[group]
                # `best_fused` / `fused_minus_single` keep the names earlier reports used
                rows[group] = {**row, "best_fused": reference, "fused_minus_single": row["delta"]}
        out[key] = rows
    robust: dict[str, dict[str, Any]] = {}
    for name in fused:
        for kind, row in modes[name].get("by_perturbation", {}).items():
            target = ROBUSTNESS_TARGETS.get(kind)
            if target is not None:
                robust.setdefault(kind, {})[name] = {**row, "target": target, "met": row["ratio"] >= target}
    out["robustness"] = robust
    return out


def render_groups(report: dict[str, Any], metric: str = "ndcg@10") -> list[str]:
    """Markdown: the metric per family and per perturbation for every mode, and the per-group targets."""
    modes = report["modes"]
    lines: list[str] = []
    families = sorted({f for m in modes.values() for f in m.get("by_family", {})})
    if families:
        first = next(iter(modes.values()))["by_family"]
        lines += [f"## {metric} by query family", "",
                  "| mode | " + " | ".join(f"{f} (n={first[f]['n']})" for f in families) + " |",
                  "|" + "---|" * (len(families) + 1)]
        for name, m in modes.items():
            lines.append(f"| {name} | " + " | ".join(f"{m['by_family'][f].get(metric, 0.0):.4f}" for f in families)
                         + " |")
        lines.append("")
    kinds = sorted({k for m in modes.values() for k in m.get("by_perturbation", {})})
    if kinds:
        lines += [f"## Robustness: {metric} of perturbed variants / their clean queries", "",
                  "| mode | " + " | ".join(kinds) + " |", "|" + "---|" * (len(kinds) + 1)]
        for name, m in modes.items():
            cells = []
            for k in kinds:
                row = m["by_perturbation"].get(k)
                cells.append(f"{row[metric]:.4f} / {row['clean_' + metric]:.4f} = {row['ratio']:.3f}" if row else "-")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    groups = report.get("targets", {}).get("groups", {})
    if groups.get("by_kind") or groups.get("by_family"):
        lines += [f"## Targets per group ({metric}: the default against that group's best single mode, paired; "
                  f"p < {report['meta']['max_p']} needed where n >= {MIN_N_FOR_P})", ""]
        lines += render_comparisons(groups.get("by_kind", {}), "kind", metric)
        lines.append("")
        if groups.get("by_family"):
            lines += render_comparisons(groups["by_family"], "family", metric) + [""]
        lines += ["Paired two-sided randomisation (sign-flip) test on the per-query differences (exact up to 13 "
                  "queries, else 10,000 seeded draws); the paired t-test's p beside it. A group with fewer than "
                  f"{MIN_N_FOR_P} queries is not tested: its p-value is shown, not judged.", ""]
    for kind, per_mode in groups.get("robustness", {}).items():
        for name, r in per_mode.items():
            lines.append(f"- {kind} robustness of `{name}`: {r['ratio']:.3f} (target >= {r['target']}) -> "
                         f"{'met' if r['met'] else 'NOT met'}")
    if groups.get("robustness"):
        lines.append("")
    return lines
