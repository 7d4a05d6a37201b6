"""Checks of `prodsearch eval` options, run before any index, relevance set or model is loaded.

A bad value used to surface only after every query had run (ranx refusing a metric name, a
baseline that was not run) or never (a NaN budget written into tune.json); each is now one
`EvalOptionError` line up front.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from indexer.errors import ProdsearchError


class EvalOptionError(ProdsearchError, ValueError):
    """An `eval` option out of range, or naming something the command will not produce."""


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
