"""`prodsearch serve` options of the background compaction (each overrides its PRODSEARCH_COMPACT_* variable)."""

from __future__ import annotations

import argparse

from indexer.live.policy import DEFAULT_CHECK_S, DEFAULT_MAX_AGE_S, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_LOG_MB

# argparse dest -> Settings field (see `api.cli.OPTION_FIELDS`)
COMPACTION_OPTION_FIELDS = {"compact_auto": "compact_auto", "compact_max_entries": "compact_max_entries",
                            "compact_max_log_mb": "compact_max_log_mb", "compact_max_age_s": "compact_max_age_s",
                            "compact_check_s": "compact_check_s"}


def add_compaction_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("background compaction of live writes (a threshold of 0 is off)")
    group.add_argument("--compact-auto", action=argparse.BooleanOptionalAction, default=None,
                       help="compact the write log into a new index version on its own when a threshold is reached "
                            "(env PRODSEARCH_COMPACT_AUTO; default on)")
    group.add_argument("--compact-max-entries", type=int, default=None,
                       help=f"... at this many pending writes (env PRODSEARCH_COMPACT_MAX_ENTRIES; default "
                            f"{DEFAULT_MAX_ENTRIES})")
    group.add_argument("--compact-max-log-mb", type=float, default=None,
                       help=f"... when DIR/live/wal.jsonl reaches this size (env PRODSEARCH_COMPACT_MAX_LOG_MB; "
                            f"default {DEFAULT_MAX_LOG_MB:g})")
    group.add_argument("--compact-max-age-s", type=float, default=None,
                       help=f"... when the oldest pending write is this old (env PRODSEARCH_COMPACT_MAX_AGE_S; "
                            f"default {DEFAULT_MAX_AGE_S:g})")
    group.add_argument("--compact-check-s", type=float, default=None,
                       help=f"how often the thresholds are checked (env PRODSEARCH_COMPACT_CHECK_S; default "
                            f"{DEFAULT_CHECK_S:g})")
