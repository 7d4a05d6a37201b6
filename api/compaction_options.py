"""`prodsearch serve` options of the background compaction (each overrides its PRODSEARCH_COMPACT_* variable)."""

from __future__ import annotations

import argparse

from indexer.live.policy import DEFAULT_CHECK_S, DEFAULT_MAX_AGE_S, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_LOG_MB

# argparse dest -> Settings field (see `api.cli.OPTION_FIELDS`)
COMPACTION_OPTION_FIELDS = {"compact_auto": "compact_auto", "compact_max_entries": "compact_max_entries",
                            "compact_max_log_mb": "compact_max_log_mb", "compact_max_age_s": "compact_max_age_s",
                            "compact_check_s": "compact_check_s",
                            "live_embed_worker": "live_embed_worker", "live_embed_nice": "live_embed_nice"}


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
    live = parser.add_argument_group("embedding of live writes")
    live.add_argument("--live-embed-worker", action=argparse.BooleanOptionalAction, default=None,
                      help="embed written products in a separate process at low CPU priority, so searches preempt "
                           "the models (env PRODSEARCH_LIVE_EMBED_WORKER; default on; off: in the server process)")
    live.add_argument("--live-embed-nice", type=int, default=None, choices=range(0, 20), metavar="0-19",
                      help="that process's niceness (env PRODSEARCH_LIVE_EMBED_NICE; default 19, the lowest priority)")
