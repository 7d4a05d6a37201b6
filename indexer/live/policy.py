"""When the server compacts on its own: thresholds on the write log (entries, bytes, age of the oldest).

A compaction folds the log into a new index version; until then every pending write lives in the
in-memory delta, which each search scans exactly (vectors) or through its postings (BM25), so the
delta's size bounds what live writes add to a search. Any threshold reached starts one compaction;
a threshold of 0 is off. The defaults (10,000 entries, 256 MB of log, an hour) keep the delta well
under a tenth of a 44k catalog and the log's replay at start-up to seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_LOG_MB = 256.0
DEFAULT_MAX_AGE_S = 3600.0
DEFAULT_CHECK_S = 5.0
# the settings' bounds (api/settings.py): finite, so that the compactor's timed wait never overflows
MAX_ENTRIES = 10_000_000
MAX_LOG_MB = 100_000.0
MAX_AGE_S = 30 * 86400.0
MIN_CHECK_S, MAX_CHECK_S = 0.01, 3600.0
RETRY_AFTER_FAILURE_S = 300.0  # a failed compaction is not retried sooner (it is reported in /health and the log)


@dataclass(frozen=True)
class CompactionPolicy:
    max_entries: int = DEFAULT_MAX_ENTRIES  # pending log entries
    max_log_mb: float = DEFAULT_MAX_LOG_MB  # size of DIR/live/wal.jsonl
    max_age_s: float = DEFAULT_MAX_AGE_S  # seconds since the oldest pending write
    check_s: float = DEFAULT_CHECK_S  # how often the background thread looks
    enabled: bool = True

    def due(self, pending: int, log_bytes: int, oldest_age_s: float | None) -> str | None:
        """Why a compaction is due now (a short reason for the log), or None."""
        if not self.enabled or pending <= 0:
            return None
        if self.max_entries and pending >= self.max_entries:
            return f"{pending} pending writes >= {self.max_entries}"
        if self.max_log_mb and log_bytes >= self.max_log_mb * 1024 * 1024:
            return f"write log {log_bytes / 1e6:.1f} MB >= {self.max_log_mb:g} MB"
        if self.max_age_s and oldest_age_s is not None and oldest_age_s >= self.max_age_s:
            return f"oldest pending write {oldest_age_s:.0f} s old >= {self.max_age_s:g} s"
        return None
