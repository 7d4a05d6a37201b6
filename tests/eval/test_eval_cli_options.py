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
