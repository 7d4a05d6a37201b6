"""The report judged per group of queries: each query kind, each query family, each perturbation.

A fused mode that wins on the mix of kinds can lose on one of them (each single signal cannot answer
some kinds at all), so the targets are checked per kind and per family (the derived sets' attribute
combinations, "colour+gender+type"): the best fused mode must beat that group's best single signal,
significantly where the group has at least `MIN_N_FOR_P` queries. Perturbed variants (`eval.perturb`)
are set beside the queries they came from: their metric must keep a share of the clean queries'.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.metrics import compare_runs
from eval.relevance import Query

logger = logging.getLogger(__name__)

MIN_N_FOR_P = 50  # a group smaller than this need only score higher (too few queries for a p-value to mean much)
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


def _p_value(qrels: dict[str, dict[str, int]], ranked: dict[str, dict[str, list[str]]], a: str, b: str,
             metric: str, max_p: float) -> float | None:
    try:
        comparison = compare_runs(qrels, {a: ranked[a], b: ranked[b]}, [metric], max_p=max_p)
    except Exception as exc:  # ranx refuses some tiny groups; the comparison then has no p-value
        logger.info("no p-value for %s vs %s on %d queries: %s", a, b, len(qrels), exc)
        return None
    return float(comparison[a]["comparisons"][b][metric])


def group_targets(report: dict[str, Any], queries: Sequence[Query], qrels: dict[str, dict[str, int]],
                  ranked: dict[str, dict[str, list[str]]], singles: Sequence[str], fused: Sequence[str],
                  metric: str = "ndcg@10") -> dict[str, Any]:
    """Per kind and per family: the best fused mode against that group's best single mode (with a p-value)."""
    modes, max_p = report["modes"], report["meta"]["max_p"]
    out: dict[str, Any] = {}
    for attribute, key in (("kind", "by_kind"), ("family", "by_family")):
        rows = {}
        for group, mask in group_masks(queries, attribute).items():
            score = lambda m: modes[m][key].get(group, {}).get(metric, 0.0)  # noqa: E731, B023
            if not singles or not fused:
                continue
            best_single, best_fused = max(singles, key=score), max(fused, key=score)
            ids = [q.id for q, keep in zip(queries, mask, strict=True) if keep]
            n = len(ids)
            p = _p_value({q: qrels[q] for q in ids}, ranked, best_fused, best_single, metric, max_p) \
                if best_fused != best_single else None
            beats = score(best_fused) > score(best_single)
            rows[group] = {"n": n, "best_single": best_single, "best_fused": best_fused,
                           "fused_minus_single": score(best_fused) - score(best_single), "p_value": p,
                           "met": bool(beats and (n < MIN_N_FOR_P or (p is not None and p < max_p)))}
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
    rows = [(f"kind {g}", r) for g, r in groups.get("by_kind", {}).items()] + \
           [(f"family {g}", r) for g, r in groups.get("by_family", {}).items()]
    if rows:
        lines += [f"## Targets per group ({metric}: best fused vs that group's best single mode; p-value needed "
                  f"where n >= {MIN_N_FOR_P})", "", "| group | n | best fused | best single | delta | p | met |",
                  "|---|---|---|---|---|---|---|"]
        for label, r in rows:
            p = "-" if r["p_value"] is None else f"{r['p_value']:.3g}"
            lines.append(f"| {label} | {r['n']} | {r['best_fused']} | {r['best_single']} | "
                         f"{r['fused_minus_single']:+.4f} | {p} | {'yes' if r['met'] else 'NO'} |")
        lines.append("")
    for kind, per_mode in groups.get("robustness", {}).items():
        for name, r in per_mode.items():
            lines.append(f"- {kind} robustness of `{name}`: {r['ratio']:.3f} (target >= {r['target']}) -> "
                         f"{'met' if r['met'] else 'NOT met'}")
    if groups.get("robustness"):
        lines.append("")
    return lines
