"""A tiny run of benchmarks/filtered_dense.py (fixture vectors, 3000 rows): every exact way returns the reference's
rows with its recall, and the report has what the README's table reads. No timings are checked."""

from __future__ import annotations

import json

from support import load_benchmark


def test_small_run_exact_ways_agree(tmp_path):
    bench = load_benchmark("filtered_dense")
    out = tmp_path / "report.json"
    assert bench.main(["--n", "3000", "--nlist", "16", "--queries", "8", "--fields", "text", "--shares", "0.02",
                       "--k", "10", "--base-index", str(tmp_path / "none"), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    (field,) = report["fields"]
    ((name, row),) = field["filters"].items()
    assert "k=10" in name and row["load"] >= 0
    for way in ("sq8", "faiss-all", "faiss-lists"):  # exact over the decoded vectors, as the reference is
        assert row[way]["same_as_decode"] == 1.0
        assert row[way]["recall@10"] == row["decode"]["recall@10"]
        assert row[way]["max_score_gap"] < 1e-5
    assert 0 < row["decode"]["recall@10"] <= 1
    assert set(field["unfiltered k=10"]) == {"faiss"} and report["peak_rss_gb"] > 0
