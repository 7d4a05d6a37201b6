"""When the background compaction starts (`indexer.live.policy`)."""

from __future__ import annotations

from indexer.live.policy import CompactionPolicy


def test_any_threshold_reached_starts_a_compaction_and_zero_is_off():
    policy = CompactionPolicy(max_entries=100, max_log_mb=1.0, max_age_s=60.0)
    assert policy.due(0, 10**9, 10**6) is None  # nothing pending: never
    assert policy.due(99, 1000, 59.0) is None
    assert "pending writes" in policy.due(100, 1000, 1.0)  # type: ignore[operator]
    assert "write log" in policy.due(1, 2 * 1024 * 1024, 1.0)  # type: ignore[operator]
    assert "oldest pending write" in policy.due(1, 1000, 61.0)  # type: ignore[operator]
    assert policy.due(1, 1000, None) is None
    off = CompactionPolicy(max_entries=0, max_log_mb=0, max_age_s=0)
    assert off.due(10**6, 10**12, 10**9) is None
    assert CompactionPolicy(enabled=False).due(10**6, 10**12, 10**9) is None
