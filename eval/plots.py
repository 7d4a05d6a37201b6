"""PNG plots of a report: metric per mode, latency distribution per mode, recall@k curves (matplotlib Agg)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    """Write the figure as PNG and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_metrics(report: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    modes, metrics = list(report["modes"]), report["metrics"]
    width = 0.8 / max(len(modes), 1)
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(metrics)), 4.2))
    x = np.arange(len(metrics))
    for i, mode in enumerate(modes):
        values = [report["modes"][mode]["metrics"][m] for m in metrics]
        ax.bar(x + i * width - 0.4 + width / 2, values, width, label=mode)
    ax.set_xticks(x, metrics, rotation=20)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("score")
    ax.set_title("Relevance per mode" + (" (derived qrels)" if report["meta"]["relevance"].get("derived") else ""))
    ax.legend(fontsize=8, ncol=min(len(modes), 6), loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return _save(plt, fig, path)


def plot_latency(report: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    modes = list(report["modes"])
    data = [report["modes"][m]["latencies_ms"] or [0.0] for m in modes]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(modes)), 4))
    ax.boxplot(data, whis=(5, 99), showfliers=True, flierprops={"markersize": 2})
    ax.set_xticks(range(1, len(modes) + 1), modes, rotation=15)
    ax.set_ylabel("Searcher.search latency (ms)")
    ax.set_yscale("log")
    ax.set_title("Latency per mode (whiskers p5-p99)")
    ax.grid(axis="y", alpha=0.3)
    return _save(plt, fig, path)


def plot_recall_curves(report: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, m in report["modes"].items():
        ks = [int(k) for k in m["recall_curve"]]
        ax.plot(ks, list(m["recall_curve"].values()), marker="o", markersize=3, label=mode)
    ax.set_xscale("log")
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1)
    ax.set_title("Recall@k")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def write_plots(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """metrics.png, latency.png, recall_at_k.png under ``out_dir``."""
    return [plot_metrics(report, out_dir / "metrics.png"), plot_latency(report, out_dir / "latency.png"),
            plot_recall_curves(report, out_dir / "recall_at_k.png")]
