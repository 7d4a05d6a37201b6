"""The scale benchmark's outputs: a Markdown table with the targets checked, the JSON, a recall-latency PNG."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

# The targets of issue #11 section 3 (2-core machine, 1M products).
TARGETS = {
    "query_p95_ms": 30.0, "dense_recall": 0.95, "filtered_recall": 0.95, "filtered_p95_ms": 30.0,
    "bm25_p95_ms": 20.0, "compressed_kb": 0.5, "compressed_recall": 0.90, "peak_rss_gb": 16.0,
}


def _f(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}f}"


def _row(name: str, c: dict[str, Any], n: int) -> str:
    if "error" in c:
        return f"| {name} | {c.get('spec', '')} | not measured: {c['error']} |" + " |" * 10
    f = c["fields"]
    kb = "/".join(_f(f[x]["disk_bytes"] / n / 1024, 2) for x in ("text", "image"))
    rec = "/".join(_f(f[x]["recall"]["plain"]["recall"], 3) for x in ("text", "image"))
    frec = "/".join(_f(f[x]["recall"]["filtered"]["recall"], 3) for x in ("text", "image"))
    k10 = "/".join(_f(f[x]["recall"]["plain"]["p95_ms"], 2) for x in ("text", "image"))
    q, fq = c["query"]["plain"], c["query"]["filtered"]
    sig = "/".join(_f(q["stages"].get(s, {}).get("p95_ms"), 1) for s in ("semantic", "visual", "lexical"))
    fsig = "/".join(_f(fq["stages"].get(s, {}).get("p95_ms"), 1) for s in ("semantic", "visual", "lexical"))
    return (f"| {name} | `{c['spec']}` | {_f(c['build_seconds'])} | {kb} | {_f(c['rss_delta_mb'], 0)} | {rec} | "
            f"{frec} | {k10} | {sig} | {_f(q['total']['p50_ms'])}/{_f(q['total']['p95_ms'])} | {fsig} | "
            f"{_f(fq['total']['p50_ms'])}/{_f(fq['total']['p95_ms'])} |")


def targets(result: dict[str, Any]) -> list[str]:
    """One line per target: met or missed, by which configuration, with the figure."""
    t, lines = TARGETS, []
    configs = {k: c for k, c in result["configs"].items() if "error" not in c}

    def dense(c: dict[str, Any], kind: str) -> float:
        return min(c["fields"][x]["recall"][kind]["recall"] for x in ("text", "image"))

    for name, c in configs.items():
        p95, fp95 = c["query"]["plain"]["total"]["p95_ms"], c["query"]["filtered"]["total"]["p95_ms"]
        ok = p95 <= t["query_p95_ms"] and dense(c, "plain") >= t["dense_recall"]
        fok = fp95 <= t["filtered_p95_ms"] and dense(c, "filtered") >= t["filtered_recall"]
        lines.append(f"- {name}: whole text query p95 {p95:.1f} ms, min dense recall@10 {dense(c, 'plain'):.3f} -> "
                     f"{'MET' if ok else 'MISSED'}; 1% filter p95 {fp95:.1f} ms, recall {dense(c, 'filtered'):.3f} "
                     f"-> {'MET' if fok else 'MISSED'}")
        kb = max(c["fields"][x]["disk_bytes"] for x in ("text", "image")) / result["n"] / 1024
        if kb <= t["compressed_kb"]:
            cok = dense(c, "plain") >= t["compressed_recall"]
            lines.append(f"- {name}: compressed {kb:.3f} KB/product/field at recall@10 {dense(c, 'plain'):.3f} -> "
                         f"{'MET' if cok else 'MISSED'} (target <= {t['compressed_kb']} KB at >= {t['compressed_recall']})")
    bm = result["bm25"]["plain"]["p95_ms"]
    lines.append(f"- BM25 alone p95 {bm:.1f} ms -> {'MET' if bm <= t['bm25_p95_ms'] else 'MISSED'} "
                 f"(target <= {t['bm25_p95_ms']:g} ms)")
    gb = result["peak_rss_mb"] / 1024
    lines.append(f"- peak RSS {gb:.2f} GB -> {'MET' if gb <= t['peak_rss_gb'] else 'MISSED'} (target <= 16 GB)")
    return lines


def markdown(result: dict[str, Any]) -> str:
    n = result["n"]
    head = [
        f"# Scale benchmark: {n:,} products",
        "",
        f"- base: {result['base']}; seed {result['seed']}; {result['images']:,} image vectors; "
        f"candidate depth {result['depth']}; {result['queries']} queries ({result['timed']} timed)",
        f"- query vectors: {result['query_vectors']}; query encoding (apart) p50/p95 "
        f"{_f(result['encode'].get('p50_ms'))}/{_f(result['encode'].get('p95_ms'))} ms",
        f"- 1% filter: `{json.dumps(result['filter'])}` ({result['filter_share'] * 100:.2f}% of products)",
        f"- index directory (engine writer, Flat): {result['write']['seconds']:.0f} s, "
        + ", ".join(f"{k} {v / 2**20:.0f} MB" for k, v in sorted(result['write']['bytes'].items()) if v > 2**20),
        f"- BM25 alone p50/p95 {_f(result['bm25']['plain']['p50_ms'])}/{_f(result['bm25']['plain']['p95_ms'])} ms; "
        f"with the filter {_f(result['bm25']['filtered']['p50_ms'])}/{_f(result['bm25']['filtered']['p95_ms'])} ms",
        f"- peak RSS {result['peak_rss_mb'] / 1024:.2f} GB; machine: {result['machine']}",
        "",
        "Fields are text/image (semantic/visual signals). Latencies in ms, one query at a time on one thread; "
        "the whole query is `Searcher.search` (3 signals at the candidate depth, fusion, a page), "
        "encoding excluded.",
        "",
        "| config | spec | build s | KB/product (text/image) | RSS +MB | recall@10 | recall@10 1% filter | "
        "k=10 p95 | signal p95 sem/vis/lex | query p50/p95 | 1% filter signal p95 | 1% filter query p50/p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [_row(name, c, n) for name, c in result["configs"].items()]
    return "\n".join(head + rows + dense_fields(result) + sweeps(result) + variants(result)
                     + ["", "## Targets", "", *targets(result), ""])


def dense_fields(result: dict[str, Any]) -> list[str]:
    """Per dense field: RAM, and the 1% filter's search with row-ordered codes vs rows decoded one by one."""
    lines = ["", "## Dense fields (k=10, one query, one thread)", "",
             "| config | field | KB/product disk / RAM | recall@10 | p50/p95 | 1% filter recall@10 | "
             "1% filter p50/p95 | 1% filter, rows decoded one by one, p50/p95 |", "|---|---|---|---|---|---|---|---|"]
    n = result["n"]
    for name, c in result["configs"].items():
        for f, x in (c.get("fields") or {}).items():
            r = x["recall"]
            p, fl, old = r["plain"], r["filtered"], r.get("filtered_per_row")
            ram = x.get("ram_bytes")
            lines.append(f"| {name} | {f} | {_f(x['disk_bytes'] / n / 1024, 2)} / {_f(ram / n / 1024 if ram else None, 2)} | "
                         f"{_f(p['recall'], 3)} | {_f(p['p50_ms'], 2)}/{_f(p['p95_ms'], 2)} | {_f(fl['recall'], 3)} | "
                         f"{_f(fl['p50_ms'], 2)}/{_f(fl['p95_ms'], 2)} | "
                         + (f"{_f(old['p50_ms'], 2)}/{_f(old['p95_ms'], 2)} (recall {_f(old['recall'], 3)})" if old else "—")
                         + " |")
    return lines


def sweeps(result: dict[str, Any]) -> list[str]:
    """The recall-latency trade-off of each swept search parameter (the plot's points, as a table)."""
    lines: list[str] = []
    for name, c in result["configs"].items():
        for f, x in (c.get("fields") or {}).items():
            points = x.get("sweep") or []
            if not points:
                continue
            param = next(k for k in points[0] if k not in ("recall", "p50_ms", "p95_ms"))
            if not lines:
                lines = ["", "## Search parameter sweeps (unfiltered, k=10, one query, one thread)", ""]
            lines.append(f"- {name} {f}: " + "; ".join(
                f"{param} {pt[param]:g}: recall {pt['recall']:.3f}, p95 {pt['p95_ms']:.2f} ms" for pt in points))
    return lines


def variants(result: dict[str, Any]) -> list[str]:
    """Whole queries per Searcher variant (`--signal-threads`, `--reference-attributes`), timed in the same run."""
    lines = []
    for name, c in result["configs"].items():
        found = c.get("query_variants") or {}
        if len(found) < 2:
            continue
        lines += ["", f"## Whole query variants, {name} (same run, interleaved query by query)", "",
                  "| variant | query p50/p95 | 1% filter p50/p95 | attributes p50/p95 | semantic/visual p95 | "
                  "1% filter semantic/visual p95 | total_estimate p95 | same pages as the first |",
                  "|---|---|---|---|---|---|---|---|"]
        for label, q in found.items():
            p, f = q["plain"], q["filtered"]
            st = p["stages"]
            lines.append(
                f"| {label} | {_f(p['total']['p50_ms'])}/{_f(p['total']['p95_ms'])} | "
                f"{_f(f['total']['p50_ms'])}/{_f(f['total']['p95_ms'])} | "
                f"{_f(st.get('attributes', {}).get('p50_ms'))}/{_f(st.get('attributes', {}).get('p95_ms'))} | "
                f"{_f(st.get('semantic', {}).get('p95_ms'))}/{_f(st.get('visual', {}).get('p95_ms'))} | "
                f"{_f(f['stages'].get('semantic', {}).get('p95_ms'))}/{_f(f['stages'].get('visual', {}).get('p95_ms'))} | "
                f"{_f(st.get('total_estimate', {}).get('p95_ms'))} | "
                f"{'yes' if p.get('pages_as_first_variant') and f.get('pages_as_first_variant') else 'NO'} |")
    return lines


def plot(result: dict[str, Any], path: Path) -> Path | None:
    """recall@10 against p95 latency (k=10, one query) per field; sweeps drawn as lines."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, field in zip(axes, ("text", "image"), strict=True):
        for name, c in result["configs"].items():
            if "error" in c:
                continue
            f = c["fields"][field]
            points = f.get("sweep") or []
            if points:
                key = next(k for k in points[0] if k not in ("recall", "p50_ms", "p95_ms"))
                ax.plot([p["recall"] for p in points], [p["p95_ms"] for p in points], marker=".", label=f"{name} ({key})")
                for p in points:
                    ax.annotate(f"{p[key]:g}", (p["recall"], p["p95_ms"]), fontsize=7)
            r = f["recall"]["plain"]
            ax.scatter([r["recall"]], [r["p95_ms"]], marker="*", s=120, zorder=3,
                       label=None if points else name)
        ax.set_title(f"{field} field ({'semantic' if field == 'text' else 'visual'}), {result['n']:,} products")
        ax.set_xlabel("recall@10 vs exact")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("p95 latency, k=10, 1 thread (ms)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_outputs(result: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"scale-{result['n']}"
    paths = {"json": out_dir / f"{stem}.json", "md": out_dir / f"{stem}.md"}
    paths["json"].write_text(json.dumps(result, indent=1, default=float) + "\n")
    paths["md"].write_text(markdown(result))
    png = plot(result, out_dir / f"{stem}.png")
    if png:
        paths["png"] = png
    return paths
