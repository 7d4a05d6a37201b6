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


def _taken(tmp_path: Path) -> tuple[Path, Path]:
    """A file, and a folder holding someone else's file."""
    (tmp_path / "afile").write_text("mine\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir" / "notes.txt").write_text("mine\n")
    return tmp_path / "afile", tmp_path / "adir"


@pytest.mark.parametrize("command", [
    ["run"], ["tune"], ["tune", "--latency-budget-ms", "5"], ["train-ranker"],
])
def test_out_is_checked_before_the_work(tmp_path, capsys, command):
    afile, adir = _taken(tmp_path)
    args = [a for a in _index_args(tmp_path) if a != str(tmp_path / "out") and a != "--out"]
    for out, needle in ((afile, "exists and is not a folder"), (afile / "sub", "is a file, not a folder"),
                        (adir, "the folder holds other files")):
        assert main(["eval", command[0], *args, *command[1:], "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"error: --out {out}: " in err and needle in err, err
    assert (adir / "notes.txt").read_text() == "mine\n" and afile.read_text() == "mine\n"


def test_tune_config_out_must_be_a_file_path(tmp_path, capsys):
    args = _index_args(tmp_path)
    assert main(["eval", "tune", *args, "--config-out", str(tmp_path)]) == 2
    assert f"error: --config-out {tmp_path}: is a folder" in capsys.readouterr().err


def test_build_qrels_compare_load_and_model_outputs_are_checked_first(tmp_path, capsys):
    afile, adir = _taken(tmp_path)
    assert main(["eval", "build-qrels", "--catalog", str(tmp_path / "none.jsonl"), "--out", str(adir)]) == 2
    assert "the folder holds other files" in capsys.readouterr().err
    assert main(["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(afile)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert main(["eval", "load", "--url", "http://127.0.0.1:9", "--out", str(adir)]) == 2
    assert f"--out {adir}: is a folder" in capsys.readouterr().err
    assert main(["eval", "model", "--catalog", str(tmp_path / "none.jsonl"), "--json", str(adir)]) == 2
    assert f"--json {adir}: is a folder" in capsys.readouterr().err


def test_a_previous_out_of_the_same_command_may_be_overwritten(tmp_path, capsys):
    rel = tmp_path / "rel"
    for _ in range(2):  # the second run overwrites the first's files
        assert main(["eval", "build-qrels", "--catalog", str(FIXTURES / "catalog.jsonl"), "--out", str(rel),
                     "--text-queries", "4", "--photo-queries", "2"]) == 0
    # a hand-made set (no relevance.json) is not a build-qrels output: its qrels are not overwritten
    (rel / "relevance.json").unlink()
    assert main(["eval", "build-qrels", "--catalog", str(FIXTURES / "catalog.jsonl"), "--out", str(rel)]) == 2
