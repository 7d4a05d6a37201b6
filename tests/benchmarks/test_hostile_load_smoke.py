"""A few seconds of benchmarks/hostile_load.py against a fake-encoder server: it runs, counts and reports."""

from __future__ import annotations

import json
import sys

import pytest
from support import REPO, load_benchmark


def test_hostile_load_smoke(tmp_path, capsys):
    hostile_load = load_benchmark("hostile_load")
    out = tmp_path / "load.json"
    server = f"{sys.executable} {REPO / 'tests' / 'fake_server.py'} {tmp_path / 'idx'}"
    rc = hostile_load.main(["--server-cmd", server, "--duration", "2.5", "--clients", "3", "--upload-mp", "1",
                            "--max-upload-mb", "1", "--oversize-every", "3", "--json-out", str(out)])
    assert rc == 0
    summary = json.loads(out.read_text())
    assert summary["errors"] == 0 and summary["server_errors"] == 0
    kinds = summary["per_kind"]
    assert {"text", "photo", "facets", "upload_huge", "upload_oversize"} <= set(kinds)
    assert kinds["upload_oversize"]["statuses"] == {"413": kinds["upload_oversize"]["latency_ms"]["n"]}
    assert all(kinds[k]["latency_ms"]["n"] > 0 for k in ("text", "photo", "facets", "upload_huge", "upload_huge_b64"))
    assert summary["health_ms"]["n"] > 0 and summary["rss_mb"]["peak"] > 50
    assert "p99" in capsys.readouterr().out


def test_refuses_unbounded_runs():
    hostile_load = load_benchmark("hostile_load")
    for argv in (["--index", "x", "--duration", "0"], ["--index", "x", "--clients", "1000"],
                 ["--index", "x", "--duration", "100000"]):
        with pytest.raises(SystemExit):
            hostile_load.main(argv)
