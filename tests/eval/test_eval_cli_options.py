"""`prodsearch eval ...` options: a bad value is one `error:` line, found before any file is read or model loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prodsearch.cli import main

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"


@pytest.mark.parametrize("option, needle", [
    (["--perturb", "typos,typos"], "--perturb names typos more than once"),
    (["--test-fraction", "2"], "--test-fraction must be a number from 0 to 1"),
    (["--test-fraction", "nan"], "--test-fraction must be a number from 0 to 1"),
    (["--text-queries", "-1"], "--text-queries must be 0 or more"),
    (["--text-queries", "0", "--photo-queries", "0"], "--text-queries and --photo-queries are both 0"),
    (["--max-judged", "-1"], "--max-judged must be at least 1"),
    (["--photo-queries", "-5"], "--photo-queries must be 0 or more"),
    (["--phrasings", "-1"], "--phrasings must be at least 1"),
    (["--min-support", "0"], "--min-support must be at least 1"),
])
def test_build_qrels_options_are_checked_before_the_catalog_is_read(tmp_path, capsys, option, needle):
    code = main(["eval", "build-qrels", "--catalog", str(tmp_path / "no-such-catalog.jsonl"),
                 "--out", str(tmp_path / "rel"), *option])
    err = capsys.readouterr().err
    assert code == 2 and f"error: {needle}" in err and "Traceback" not in err
    assert not (tmp_path / "rel").exists()


def test_build_qrels_counts_are_honoured(tmp_path, capsys):
    assert main(["eval", "build-qrels", "--catalog", str(FIXTURES / "catalog.jsonl"), "--out", str(tmp_path / "rel"),
                 "--text-queries", "0", "--photo-queries", "4"]) == 0
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "rel" / "queries.jsonl").read_text().splitlines()]
    assert kinds == ["image"] * 4  # --text-queries 0 used to write two text queries anyway
    code = main(["eval", "build-qrels", "--catalog", str(FIXTURES / "catalog.jsonl"), "--out", str(tmp_path / "r2"),
                 "--photo-queries", "0", "--min-support", "100000"])
    assert code == 2 and "no query could be derived" in capsys.readouterr().err
    assert not (tmp_path / "r2").exists()


def _index_args(tmp_path: Path) -> list[str]:
    """A missing index and relevance set: an option error must come first, before any of them is opened."""
    return ["--index", str(tmp_path / "no-index"), "--queries", str(tmp_path / "q.jsonl"),
            "--qrels", str(tmp_path / "r.txt"), "--out", str(tmp_path / "out")]


@pytest.mark.parametrize("command, needle", [
    (["run", "--metrics", "bogus@10"], "--metrics: unknown metric 'bogus@10'"),
    (["run", "--metrics", "ndcg@0"], "--metrics: unknown metric 'ndcg@0'"),
    (["run", "--modes", "lexical,semantic", "--baseline", "nope"], "--baseline 'nope' is not one of the modes"),
    (["run", "--limit", "-1"], "--limit must be at least 1"),
    (["run", "--limit", "0"], "--limit must be at least 1"),
    (["run", "--k", "0"], "--k must be at least 1"),
    (["run", "--images-root", "/no/such/folder"], "--images-root /no/such/folder: not a folder"),
    (["tune", "--metric", "bogus"], "--metric: unknown metric 'bogus'"),
    (["tune", "--metric", "bpref"], "--metric: unknown metric 'bpref'"),  # ranx has it, the tuner does not
    (["tune", "--fusions", "bogus"], "--fusions: expected some of rrf, weighted"),
    (["tune", "--baseline", "nope"], "--baseline 'nope' is not one of the modes"),
    (["tune", "--latency-budget-ms", "nan"], "--latency-budget-ms must be a positive number, got nan"),
    (["tune", "--latency-budget-ms", "0"], "--latency-budget-ms must be a positive number"),
    (["tune", "--latency-budget-ms", "5", "--trials", "0"], "--trials and --latency-queries must be at least 1"),
])
def test_eval_options_are_checked_before_anything_is_loaded(tmp_path, capsys, command, needle):
    code = main(["eval", command[0], *_index_args(tmp_path), *command[1:]])
    err = capsys.readouterr().err
    assert code == 2 and f"error: {needle}" in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_good_options_pass_the_checks(tmp_path, capsys):
    """The checks refuse only bad values: valid ones reach the index (missing here)."""
    code = main(["eval", "run", *_index_args(tmp_path), "--metrics", "ndcg@10,recall,mrr,r-precision@5",
                 "--baseline", "semantic", "--limit", "1", "--k", "100"])
    assert code != 0 and "no-index" in capsys.readouterr().err
