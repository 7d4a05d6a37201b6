"""`eval compare`: several reports side by side (two models, Flat vs HNSW, two weightings).

Each report contributes one mode's TREC run (``REPORT:MODE``, else ``--mode``, else the mode
every report has, preferring tuned, then fused-rrf). The first report is the reference: metric deltas with Fisher's
randomisation test p-values (ranx), and latency deltas. The reports must share their qrels.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.metrics import MAX_P, check_metrics, compare_runs, significance_vs
from eval.relevance import RelevanceError, load_qrels
from indexer.json_input import parse_json

logger = logging.getLogger(__name__)

PREFERRED = ("tuned", "fused-rrf", "fused-weighted")


class CompareError(RelevanceError):
    pass


LATENCY_KEYS = ("p50", "p95", "p99", "qps")


def _load(path: Path) -> tuple[Path, dict[str, Any]]:
    path = Path(path)
    file = path / "report.json" if path.is_dir() else path
    if not file.is_file():
        raise CompareError(file, ["report not found; give a report.json or the directory `eval run --out` wrote"])
    try:
        report = parse_json(file.read_bytes())
    except ValueError as exc:  # bad JSON, not UTF-8, nesting too deep
        raise CompareError(file, [str(exc)]) from exc
    if not (isinstance(report, dict) and isinstance(report.get("modes"), dict) and report["modes"]
            and isinstance(report.get("metrics"), list) and isinstance(report.get("meta"), dict)):
        raise CompareError(file, ["not a report of `eval run` / `eval tune` (expected an object with \"modes\", "
                                  "\"metrics\" and \"meta\")"])
    return file.parent, report


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mode_entry(folder: Path, report: dict[str, Any], mode: str, metrics: list[str]) -> dict[str, Any]:
    """One mode of a report, checked: the metrics and latency the table shows, and a run file inside ``folder``."""
    file = folder / "report.json"
    m = report["modes"][mode]
    if not isinstance(m, dict):
        raise CompareError(file, [f"mode {mode!r}: not an object"])
    problems = []
    if not isinstance(m.get("metrics"), dict) or not all(_is_number(m["metrics"].get(k)) for k in metrics):
        problems.append(f"mode {mode!r}: \"metrics\" must hold a number for each of {metrics}")
    if not isinstance(m.get("latency_ms"), dict) or not all(_is_number(m["latency_ms"].get(k)) for k in LATENCY_KEYS):
        problems.append(f"mode {mode!r}: \"latency_ms\" must hold a number for each of {list(LATENCY_KEYS)}")
    run_file = m.get("run_file")
    if not isinstance(run_file, str) or not run_file.strip():
        problems.append(f"mode {mode!r}: \"run_file\" must name the mode's TREC run (runs/{mode}.trec)")
    if problems:
        raise CompareError(file, problems)
    return m


def _run_path(folder: Path, run_file: str) -> Path:
    """The run file, which must be a file inside the report's folder (a report is data: it may not name /etc/...)."""
    where = folder / "report.json"
    try:
        root, real = Path(os.path.realpath(folder)), Path(os.path.realpath(folder / run_file))
    except (OSError, ValueError) as exc:
        raise CompareError(where, [f"run_file {run_file!r:.120}: invalid path ({exc})"]) from exc
    if Path(run_file).is_absolute() or root not in real.parents:
        raise CompareError(where, [f"run_file {run_file!r:.120} resolves to {real}, outside the report's folder "
                                   f"{root}; run files are named relative to it (runs/MODE.trec)"])
    if not real.is_file():
        raise CompareError(where, [f"run_file {run_file!r:.120}: no such file in {root}"])
    return real


def _read_trec(path: Path) -> dict[str, list[str]]:
    ranked: dict[str, list[tuple[int, str]]] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 6 or not parts[3].isascii() or not parts[3].isdigit():
                    raise CompareError(path, [f"line {line_no}: not a TREC run line `QID Q0 DOC RANK SCORE TAG`"])
                ranked.setdefault(parts[0], []).append((int(parts[3]), parts[2]))
    except UnicodeDecodeError as exc:
        raise CompareError(path, [f"not UTF-8 text ({exc.reason})"]) from exc
    return {q: [d for _, d in sorted(rows)] for q, rows in ranked.items()}


def _split_mode(path: Path | str) -> tuple[Path, str | None]:
    """``REPORT:MODE`` -> (REPORT, MODE) when REPORT exists and the whole string does not."""
    text = str(path)
    if not Path(text).exists() and ":" in text:
        head, _, mode = text.rpartition(":")
        if Path(head).exists():
            return Path(head), mode
    return Path(text), None


def compare_reports(paths: Sequence[Path | str], mode: str | None = None, labels: Sequence[str] | None = None,
                    max_p: float = MAX_P) -> dict[str, Any]:
    """Deltas of every report against the first, on one mode each (``REPORT:MODE`` picks a report's mode)."""
    if len(paths) < 2:
        raise CompareError(Path(paths[0]) if paths else Path("."), ["give at least two reports to compare"])
    split = [_split_mode(p) for p in paths]
    loaded = [_load(p) for p, _ in split]
    modes_per = [m for _, m in split]
    if mode is None and not all(modes_per):
        common = set.intersection(*(set(r["modes"]) for (_, r), m in zip(loaded, modes_per, strict=True) if not m))
        mode = next((m for m in PREFERRED if m in common), None) or (sorted(common)[0] if common else None)
        if mode is None:
            raise CompareError(Path(paths[0]), ["the reports share no mode; pass --mode NAME, or NAME per report "
                                                "as REPORT:MODE"])
    labels = list(labels or [])
    metrics = [str(x) for x in loaded[0][1]["metrics"]]
    check_metrics(metrics, option=f"{loaded[0][0] / 'report.json'}: \"metrics\"")  # before ranx fails on one
    runs: dict[str, dict[str, list[str]]] = {}
    entries = []
    qrels = None
    for i, (folder, report) in enumerate(loaded):
        this_mode = modes_per[i] or mode
        label = labels[i] if i < len(labels) else (f"{folder.name}:{this_mode}" if modes_per[i] else folder.name)
        if label in runs:
            label = f"{label}#{i + 1}"
        if this_mode not in report["modes"]:
            raise CompareError(folder / "report.json", [f"no mode {this_mode!r} (it has {sorted(report['modes'])})"])
        m = _mode_entry(folder, report, this_mode, metrics)
        run_path = _run_path(folder, m["run_file"])
        this_qrels = load_qrels(folder / "qrels.txt")
        if qrels is None:
            qrels = this_qrels
        elif this_qrels != qrels:
            raise CompareError(folder / "qrels.txt", ["these qrels differ from the first report's; compare reports "
                                                      "made from one relevance set and split"])
        runs[label] = _read_trec(run_path)
        entries.append({"label": label, "report": str(folder), "mode": this_mode, "metrics": m["metrics"],
                        "latency_ms": m["latency_ms"], "index": report["meta"].get("index"),
                        "factory": report["meta"].get("factories"), "text_model": report["meta"].get("text_model"),
                        "clip_model": report["meta"].get("clip_model")})
    if qrels is None:
        raise CompareError(Path(paths[0]), ["no qrels found beside the reports"])
    comparison = compare_runs(qrels, runs, metrics, max_p=max_p)
    reference = entries[0]["label"]
    sig = significance_vs(comparison, reference, max_p)
    for e in entries:  # the scores of the runs compared, so the table's columns and deltas agree
        e["metrics"] = {k: float(v) for k, v in comparison[e["label"]]["scores"].items()}
    for e in entries[1:]:
        e["significance"] = sig[e["label"]]
        e["latency_delta_ms"] = {p: round(e["latency_ms"][p] - entries[0]["latency_ms"][p], 3)
                                 for p in ("p50", "p95", "p99")}
        e["qps_ratio"] = (e["latency_ms"]["qps"] / entries[0]["latency_ms"]["qps"]
                          if entries[0]["latency_ms"]["qps"] else None)
    return {"mode": mode or ", ".join(e["mode"] for e in entries), "reference": reference, "metrics": metrics,
            "max_p": max_p, "variants": entries}


def render_compare(result: dict[str, Any]) -> str:
    metrics = result["metrics"]
    lines = [f"# Comparison (mode `{result['mode']}`, reference `{result['reference']}`)", "",
             "| variant | " + " | ".join(metrics) + " | p50 ms | p95 ms | p99 ms | QPS |",
             "|" + "---|" * (len(metrics) + 5)]
    for e in result["variants"]:
        cells = []
        for m in metrics:
            s = e.get("significance", {}).get(m)
            cell = f"{e['metrics'][m]:.4f}"
            if s:
                cell += f" ({s['delta']:+.4f}{'*' if s['significant'] else ''})"
            cells.append(cell)
        lat = e["latency_ms"]
        d = e.get("latency_delta_ms", {})
        lat_cells = [f"{lat[p]:.2f}" + (f" ({d[p]:+.2f})" if d else "") for p in ("p50", "p95", "p99")]
        lines.append(f"| {e['label']} | " + " | ".join(cells + lat_cells) + f" | {lat['qps']:.1f} |")
    lines += ["", f"Deltas against `{result['reference']}`; `*` = p < {result['max_p']} (Fisher's randomisation "
              "test, ranx). Latency deltas are in ms; timings from different runs share the machine's noise.", ""]
    return "\n".join(lines)
