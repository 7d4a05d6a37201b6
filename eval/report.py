"""Turn an `EvalRun` into ``report.json``, ``report.md``, TREC run files and plots."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from eval.groups import group_masks, group_means, group_targets, perturbation_scores, render_groups
from eval.latency import summarize_latency
from eval.metrics import DEFAULT_METRICS, MAX_P, STAT_TEST, compare_runs, evaluate, significance_vs
from eval.modes import single_mode_names
from eval.relevance import RelevanceSet
from eval.runner import EvalRun
from eval.significance import randomisation_p

logger = logging.getLogger(__name__)

CURVE_KS = (1, 2, 3, 5, 10, 20, 30, 50, 75, 100)
FUSED_MODES = ("fused-rrf", "fused-weighted", "tuned", "default")
LATENCY_NOTE = ("latency = wall time of Searcher.search per query (filters, per-signal retrieval, fusion, building "
                "k hits), single client, sequential; query embeddings were computed beforehand in batch and "
                "their amortised cost per query is listed separately as encode_ms_per_query")


def write_trec_run(path: Path, ranked: dict[str, list[str]], tag: str) -> None:
    """TREC run lines ``QID Q0 DOC RANK SCORE TAG``; SCORE = n - rank + 1 (the engine's order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for qid, docs in ranked.items():
            for i, doc in enumerate(docs):
                fh.write(f"{qid} Q0 {doc} {i + 1} {len(docs) - i} {tag}\n")


def build_report(result: EvalRun, relevance: RelevanceSet, *, baseline: str | None = None,
                 metrics: Sequence[str] = DEFAULT_METRICS, meta: dict[str, Any] | None = None,
                 max_p: float = MAX_P) -> dict[str, Any]:
    """Metrics, latency and significance of every mode against ``baseline`` (default: the first mode)."""
    names = list(result.runs)
    baseline = baseline or names[0]
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not one of the modes run: {names}")
    qrels = {q.id: relevance.qrels[q.id] for q in relevance.queries}
    kinds = {q.id: q.kind for q in relevance.queries}
    n = max(result.n_queries, 1)
    encode_ms = {k: round(v * 1000 / n, 3) for k, v in result.encode_seconds.items()}
    modes: dict[str, Any] = {}
    curve_metrics = [f"recall@{k}" for k in CURVE_KS]
    masks = group_masks(relevance.queries, "kind")  # clean queries only: perturbed variants are judged apart
    families = group_masks(relevance.queries, "family")
    group_metrics = list(dict.fromkeys([*metrics, "ndcg@10"]))
    ndcg: dict[str, Any] = {}  # per-query nDCG@10 of each mode, for the paired per-group targets
    for name, run in result.runs.items():
        # one ranx evaluation per mode: the report's metrics and the recall curve together
        per_query = evaluate(qrels, run.ranked, list(dict.fromkeys([*metrics, "ndcg@10", *curve_metrics])), per_query=True)
        ndcg[name] = per_query["ndcg@10"]
        modes[name] = {
            "config": run.mode.to_dict(),
            "metrics": {m: float(per_query[m].mean()) for m in metrics},
            "by_kind": group_means(per_query, masks, group_metrics),
            "by_family": group_means(per_query, families, group_metrics),
            "by_perturbation": perturbation_scores(relevance.queries, per_query) if "ndcg@10" in per_query else {},
            "recall_curve": {str(k): float(per_query[f"recall@{k}"].mean()) for k in CURVE_KS},
            "latency_ms": summarize_latency(run.latencies_ms),
            "latencies_ms": [round(x, 3) for x in run.latencies_ms],
            "answered": len(run.latencies_ms),
            "unanswered": len(run.unanswered),
            "run_file": f"runs/{name}.trec",
        }
    comparison = compare_runs(qrels, {name: r.ranked for name, r in result.runs.items()}, metrics, max_p=max_p) \
        if len(names) > 1 else {"model_names": names, **{n_: {"comparisons": {}} for n_ in names}}
    pairwise = {a: comparison[a]["comparisons"] for a in names}
    report = {
        "meta": {**(meta or {}), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "queries": len(qrels), "queries_by_kind": {k: sum(v == k for v in kinds.values()) for k in set(kinds.values())},
                 "relevance": {"queries": str(relevance.queries_path), "qrels": str(relevance.qrels_path),
                               "derived": relevance.derived, "rule": relevance.meta.get("rule")},
                 "k": result.k, "eval_seconds": round(result.seconds, 2), "latency_note": LATENCY_NOTE,
                 "encode_ms_per_query": encode_ms, "stat_test": STAT_TEST, "max_p": max_p},
        "metrics": list(metrics),
        "baseline": baseline,
        "modes": modes,
        "significance": significance_vs(comparison, baseline, max_p) if len(names) > 1 else {},
        "pairwise_p": pairwise,
    }
    report["targets"] = check_targets(report, scores=ndcg)
    singles = [m for m in modes if m in single_mode_names()]
    fused = [m for m in modes if m not in singles]  # fused-*, default, tuned, config:PATH (named by the file)
    report["targets"]["groups"] = group_targets(report, relevance.queries, ndcg, singles, fused)
    return report


def check_targets(report: dict[str, Any], metric: str = "ndcg@10",
                  scores: dict[str, Any] | None = None) -> dict[str, Any]:
    """Best fused mode against the best single signal (p-value) and against BM25-only (relative gain).

    With ``scores`` (each mode's per-query ``metric``) the p-value is the seeded paired randomisation test of
    `eval.significance` (repeatable); without, ranx's from the pairwise comparison."""
    modes = report["modes"]
    single_names = single_mode_names()
    singles = [m for m in modes if m in single_names]
    fused = [m for m in modes if m not in single_names]  # every combination, config:PATH modes included
    if not singles or not fused:
        return {}
    score = lambda m: modes[m]["metrics"].get(metric, 0.0)  # noqa: E731
    best_single, best_fused = max(singles, key=score), max(fused, key=score)
    if scores is not None and best_fused in scores and best_single in scores:
        p = randomisation_p(scores[best_fused] - scores[best_single])
    else:
        p = report["pairwise_p"].get(best_fused, {}).get(best_single, {}).get(metric)
    out: dict[str, Any] = {"metric": metric, "best_single": best_single, "best_fused": best_fused,
                           "fused_minus_single": score(best_fused) - score(best_single), "p_value": p,
                           "beats_best_single": bool(score(best_fused) > score(best_single) and p is not None
                                                     and p < report["meta"]["max_p"])}
    lexical = next((m for m in ("bm25", "lexical") if m in modes), None)
    if lexical and score(lexical) > 0:
        gain = score(best_fused) / score(lexical) - 1
        out.update({"bm25_mode": lexical, "gain_over_bm25": gain, "beats_bm25_by_25pct": gain >= 0.25})
    return out


def _fmt(x: float) -> str:
    return f"{x:.4f}"


def render_markdown(report: dict[str, Any]) -> str:
    meta, modes, metrics = report["meta"], report["modes"], report["metrics"]
    rel = meta["relevance"]
    lines = ["# Relevance evaluation", ""]
    if rel.get("derived"):
        lines += ["> **Derived relevance set**: judgements come from catalog attributes, not human labels "
                  f"({rel.get('rule') or 'see relevance.json'}).", ""]
    lines += [f"- index: `{meta.get('index', '?')}` ({meta.get('products', '?')} products); text model "
              f"`{meta.get('text_model', '?')}`, CLIP `{meta.get('clip_model', '?')}`"
              + ("" if meta.get("clip_trained", True) else " (**untrained**: visual signals are noise)"),
              f"- queries: {meta['queries']} ({', '.join(f'{k} {v}' for k, v in sorted(meta['queries_by_kind'].items()))})"
              f", split: {meta.get('split') or 'all'}; qrels `{rel['qrels']}`",
              f"- evaluated in {meta['eval_seconds']} s; top {meta['k']} per query", ""]
    header = ["mode", *metrics, "p50 ms", "p95 ms", "p99 ms", "QPS", "unanswered"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    sig = report["significance"]
    for name, m in modes.items():
        cells = []
        for metric in metrics:
            cell = _fmt(m["metrics"][metric])
            s = sig.get(name, {}).get(metric)
            if s and s["significant"]:
                cell += "*" if s["delta"] > 0 else "↓"
            cells.append(cell)
        lat = m["latency_ms"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {lat['p50']:.2f} | {lat['p95']:.2f} | {lat['p99']:.2f} "
                     f"| {lat['qps']:.1f} | {m['unanswered']} |")
    lines += ["", f"`*` significantly better, `↓` significantly worse than **{report['baseline']}** "
              f"({meta['stat_test']} randomisation test, p < {meta['max_p']}).", ""]
    if sig:
        lines += [f"## Against the baseline ({report['baseline']})", "", "| mode | " + " | ".join(metrics) + " |",
                  "|" + "---|" * (len(metrics) + 1)]
        for name, per in sig.items():
            lines.append(f"| {name} | " + " | ".join(f"{per[m]['delta']:+.4f} (p={per[m]['p_value']:.3g})"
                                                    for m in metrics) + " |")
        lines.append("")
    kinds = sorted({k for m in modes.values() for k in m["by_kind"]})
    if len(kinds) > 1:
        first = next(iter(modes.values()))["by_kind"]
        lines += ["## ndcg@10 by query kind", "",
                  "| mode | " + " | ".join(f"{k} (n={first[k]['n']})" for k in kinds) + " |",
                  "|" + "---|" * (len(kinds) + 1)]
        for name, m in modes.items():
            lines.append(f"| {name} | " + " | ".join(_fmt(m["by_kind"][k].get("ndcg@10", 0.0)) for k in kinds) + " |")
        lines += ["", "A mode whose signals cannot serve a kind of query (a photo in lexical mode) ranks nothing "
                  "for it and scores 0 there.", ""]
    lines += render_groups(report)
    t = report.get("targets")
    if t and "best_fused" in t:
        lines += ["## Targets", "",
                  f"- best fused `{t['best_fused']}` vs best single `{t['best_single']}` on {t['metric']}: "
                  f"{t['fused_minus_single']:+.4f}, p={'-' if t['p_value'] is None else format(t['p_value'], '.3g')} "
                  "(paired randomisation, all kinds together) -> "
                  f"{'met' if t['beats_best_single'] else 'NOT met'}"]
        if "gain_over_bm25" in t:
            lines.append(f"- vs BM25 only (`{t['bm25_mode']}`): {t['gain_over_bm25']:+.1%} -> "
                         f"{'met' if t['beats_bm25_by_25pct'] else 'NOT met'} (target +25%)")
        lines.append("")
    enc = ", ".join(f"{k} {v} ms" for k, v in meta["encode_ms_per_query"].items()) or "none"
    lines += ["## Latency", "", meta["latency_note"] + ".", f"Amortised batch encoding per query: {enc}.", "",
              "Plots: `metrics.png`, `latency.png`, `recall_at_k.png`. Run files: `runs/<mode>.trec`.", ""]
    return "\n".join(lines)


def write_report(report: dict[str, Any], result: EvalRun, relevance: RelevanceSet, out_dir: Path,
                 plots: bool = True) -> list[Path]:
    """Write report.json, report.md, runs/*.trec, a copy of the qrels and the plots under ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, run in result.runs.items():
        write_trec_run(out_dir / "runs" / f"{name}.trec", run.ranked, name)
        written.append(out_dir / "runs" / f"{name}.trec")
    qrels_copy = out_dir / "qrels.txt"
    if relevance.qrels_path.resolve() != qrels_copy.resolve():
        ids = {q.id for q in relevance.queries}
        with open(relevance.qrels_path, encoding="utf-8") as src, open(qrels_copy, "w", encoding="utf-8") as dst:
            dst.writelines(line for line in src if line.split()[:1] and line.split()[0] in ids)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (out_dir / "report.md").write_text(render_markdown(report))
    written += [qrels_copy, out_dir / "report.json", out_dir / "report.md"]
    if plots:
        from eval.plots import write_plots

        written += write_plots(report, out_dir)
    return written
