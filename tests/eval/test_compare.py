"""`eval compare` reads only what a report folder holds, and a malformed report is a one-line error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eval.compare import CompareError, compare_reports, render_compare
from indexer.errors import ProdsearchError
from prodsearch.cli import main

METRICS = ["ndcg@10", "recall@10"]


def _report(folder: Path, docs: dict[str, list[str]]) -> Path:
    """A minimal report folder as `eval run` writes one: report.json, qrels.txt, runs/semantic.trec."""
    (folder / "runs").mkdir(parents=True)
    (folder / "qrels.txt").write_text("q1 0 p1 2\nq2 0 p2 1\n")
    lines = [f"{q} Q0 {d} {i + 1} {len(ds) - i} semantic\n" for q, ds in docs.items() for i, d in enumerate(ds)]
    (folder / "runs" / "semantic.trec").write_text("".join(lines))
    mode = {"metrics": {m: 0.5 for m in METRICS}, "run_file": "runs/semantic.trec",
            "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "qps": 100.0}}
    (folder / "report.json").write_text(json.dumps({"meta": {}, "metrics": METRICS, "modes": {"semantic": mode}}))
    return folder


@pytest.fixture
def reports(tmp_path):
    a = _report(tmp_path / "cmpA", {"q1": ["p1", "p2"], "q2": ["p1", "p2"]})
    b = _report(tmp_path / "cmpB", {"q1": ["p2", "p1"], "q2": ["p2", "p1"]})
    return a, b


def _edit(folder: Path, change) -> None:
    report = json.loads((folder / "report.json").read_text())
    (folder / "report.json").write_text(json.dumps(change(report)))


def test_compare_scores_the_runs_it_reads(reports):
    a, b = reports
    result = compare_reports([a, b], mode="semantic")
    # the metric columns are the scores of the runs compared (not report.json's 0.5), so they agree with the deltas
    assert result["variants"][0]["metrics"]["recall@10"] == 1.0
    assert result["variants"][1]["metrics"]["ndcg@10"] < 1.0
    assert "| cmpB |" in render_compare(result)


@pytest.mark.parametrize("run_file", ["/etc/hostname", "../cmpA/runs/semantic.trec", "runs/../../x.trec",
                                      "link.trec"])
def test_run_files_must_lie_inside_the_report_folder(reports, run_file, capsys):
    a, b = reports
    (b / "link.trec").symlink_to(a / "runs" / "semantic.trec")  # a symlink leading out counts as outside

    def point(report):
        report["modes"]["semantic"]["run_file"] = run_file
        return report

    _edit(b, point)
    with pytest.raises(CompareError, match="outside the report's folder"):
        compare_reports([a, b], mode="semantic")
    assert main(["eval", "compare", str(a), str(b), "--mode", "semantic"]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("change, needle", [
    (lambda r: [r], "not a report of"),
    (lambda r: {**r, "modes": []}, "not a report of"),
    (lambda r: {**r, "modes": {"semantic": {**r["modes"]["semantic"], "run_file": None}}}, "\"run_file\" must"),
    (lambda r: {**r, "modes": {"semantic": {k: v for k, v in r["modes"]["semantic"].items() if k != "run_file"}}},
     "\"run_file\" must"),
    (lambda r: {**r, "modes": {"semantic": {**r["modes"]["semantic"], "latency_ms": {}}}}, "\"latency_ms\" must"),
    (lambda r: {**r, "modes": {"semantic": {**r["modes"]["semantic"], "metrics": {"ndcg@10": "x"}}}},
     "\"metrics\" must"),
    (lambda r: {**r, "modes": {"semantic": 5}}, "not an object"),
])
def test_malformed_reports_are_errors_naming_the_file(reports, change, needle):
    a, b = reports
    _edit(b, change)
    with pytest.raises(CompareError, match=needle) as err:
        compare_reports([a, b], mode="semantic")
    assert str(b / "report.json") in str(err.value)


def test_a_bad_run_file_is_an_error_naming_it(reports):
    a, b = reports
    (b / "runs" / "semantic.trec").write_text("q1 Q0 p1 first 2 semantic\n")
    with pytest.raises(CompareError, match="line 1: not a TREC run line"):
        compare_reports([a, b], mode="semantic")
    (b / "runs" / "semantic.trec").write_bytes(b"\xff\xfe q1\n")
    with pytest.raises(CompareError, match="not UTF-8"):
        compare_reports([a, b], mode="semantic")
    shutil.rmtree(b / "runs")
    with pytest.raises(CompareError, match="no such file"):
        compare_reports([a, b], mode="semantic")


def test_an_unknown_metric_in_the_reference_report_is_an_error(reports):
    a, b = reports
    for folder in (a, b):
        _edit(folder, lambda r: {**r, "metrics": ["bogus@10"], "modes": {"semantic": {
            **r["modes"]["semantic"], "metrics": {"bogus@10": 0.5}}}})
    with pytest.raises(ProdsearchError, match="unknown metric 'bogus@10'"):
        compare_reports([a, b], mode="semantic")
