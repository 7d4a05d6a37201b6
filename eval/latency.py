"""Latency summaries: percentiles and single-client throughput."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PERCENTILES = (50, 95, 99)


def summarize_latency(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max in ms and sequential queries per second (1000 / mean latency)."""
    values = np.asarray(latencies_ms, dtype=np.float64)
    if values.size == 0:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0, "max": 0.0, "qps": 0.0}
    out = {"n": int(values.size)}
    for p in PERCENTILES:
        out[f"p{p}"] = round(float(np.percentile(values, p)), 3)
    out["mean"] = round(float(values.mean()), 3)
    out["max"] = round(float(values.max()), 3)
    out["qps"] = round(1000.0 / float(values.mean()), 2) if values.mean() > 0 else 0.0
    return out
