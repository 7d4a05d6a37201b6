"""Checks of `prodsearch eval` options, run before any index, relevance set or model is loaded.

A bad value used to surface only after every query had run (ranx refusing a metric name, a
baseline that was not run) or never (a NaN budget written into tune.json); each is now one
`EvalOptionError` line up front.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

from indexer.errors import ProdsearchError


class EvalOptionError(ProdsearchError, ValueError):
    """An `eval` option out of range, or naming something the command will not produce."""


# files that mark a folder as the --out of a previous run of the command (which may overwrite it)
OUT_MARKERS = {"eval run": ("report.json",), "eval tune": ("tune.json", "search_config.json"),
               "eval train-ranker": ("train_ranker.json", "ranker.json"), "eval build-qrels": ("relevance.json",),
               "eval compare": ("compare.json", "compare.md")}


def check_report_options(args: argparse.Namespace, mode_names: Sequence[str]) -> None:
    """--metrics, --baseline (one of ``mode_names``, the modes the report will hold) and --images-root."""
    from eval.metrics import check_metrics

    if args.metrics is not None:
        check_metrics(args.metrics)
    if args.baseline is not None and args.baseline not in mode_names:
        raise EvalOptionError(f"--baseline {args.baseline!r} is not one of the modes this report holds: "
                              f"{', '.join(mode_names)}")
    if args.images_root is not None and not args.images_root.is_dir():
        raise EvalOptionError(f"--images-root {args.images_root}: not a folder")


def check_run_options(args: argparse.Namespace, mode_names: Sequence[str]) -> None:
    """`eval run`: the report options, plus --k and --limit."""
    check_report_options(args, mode_names)
    if args.k < 1:
        raise EvalOptionError(f"--k must be at least 1, got {args.k}")
    if args.limit is not None and args.limit < 1:  # --limit -1 used to drop the last query (queries[:-1])
        raise EvalOptionError(f"--limit must be at least 1, got {args.limit}")


def check_tune_options(args: argparse.Namespace) -> None:
    """`eval tune`: --metric (one the tuner's own metric code computes), --fusions, the budget options."""
    from eval.metrics import TUNE_METRICS, check_metrics
    from eval.modes import default_modes
    from eval.tune import FUSIONS

    check_report_options(args, [*default_modes(), "tuned"])
    check_metrics([args.metric], TUNE_METRICS, "--metric")
    bad = [f for f in args.fusions if f not in FUSIONS]
    if bad or not args.fusions:
        raise EvalOptionError(f"--fusions: expected some of {', '.join(FUSIONS)}, got {','.join(args.fusions) or '-'}")
    if args.latency_budget_ms is not None:
        if not (math.isfinite(args.latency_budget_ms) and args.latency_budget_ms > 0):
            raise EvalOptionError(f"--latency-budget-ms must be a positive number, got {args.latency_budget_ms}")
        if args.trials < 1 or args.latency_queries < 1:
            raise EvalOptionError("--trials and --latency-queries must be at least 1")
        if args.min_recall is not None and not 0 <= args.min_recall <= 1:
            raise EvalOptionError(f"--min-recall {args.min_recall}: expected a number between 0 and 1")


def check_out_folder(command: str, path: Path, markers: Sequence[str], option: str = "--out") -> None:
    """An --out folder: new, empty, or the --out of a previous ``command`` (it holds one of ``markers``), whose
    files this run overwrites. A file, a path under a file, or a folder of other files is refused now rather
    than after the whole run (FileExistsError) or by overwriting someone's files (a relevance set's qrels.txt)."""
    from indexer.cli import check_folder_path

    check_folder_path(option, path)
    if not path.is_dir():
        return
    try:
        empty = next(path.iterdir(), None) is None
    except OSError as exc:
        raise EvalOptionError(f"{option} {path}: cannot read the folder ({exc.strerror or exc})") from exc
    if not empty and not any((path / m).is_file() for m in markers):
        raise EvalOptionError(f"{option} {path}: the folder holds other files; give a new or empty folder, or the "
                              f"--out of a previous `prodsearch {command}` (its files are overwritten)")


def check_out_file(path: Path, option: str) -> None:
    """A file to write: not a folder, and not under a file (its parent folder is created when missing)."""
    from indexer.cli import check_folder_path

    if path.is_dir():
        raise EvalOptionError(f"{option} {path}: is a folder; give a file path")
    check_folder_path(option, path.parent)
