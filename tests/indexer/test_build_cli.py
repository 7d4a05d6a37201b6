"""`prodsearch index build` checks --out and --cache before any model loads: a file there is a one-line error."""

from __future__ import annotations

import json

import pytest

from prodsearch.cli import main


@pytest.fixture
def no_models(monkeypatch):
    import indexer.encoders

    def refuse(*args, **kwargs):
        raise AssertionError("the models were loaded")

    monkeypatch.setattr(indexer.encoders, "load_encoders_for_build", refuse)


@pytest.mark.parametrize("args,message", [
    (["--out", "{f}"], "--out {f}: exists and is not a folder"),
    (["--out", "{f}/sub"], "--out {f}/sub: {f} is a file, not a folder"),
    (["--out", "{d}/idx", "--cache", "{f}"], "--cache {f}: exists and is not a folder"),
    (["--out", "{d}/idx", "--cache", "{f}/sub"], "--cache {f}/sub: {f} is a file, not a folder"),
    (["--out", "{d}/with-cache-file"], "--cache (default) {d}/with-cache-file/cache: exists and is not a folder"),
], ids=["out-file", "out-under-file", "cache-file", "cache-under-file", "default-cache-file"])
def test_a_file_where_a_folder_is_expected_is_one_line(tmp_path, capsys, no_models, args, message):
    catalog = tmp_path / "c.jsonl"
    catalog.write_text(json.dumps({"id": "a", "title": "Red shirt"}) + "\n")
    (tmp_path / "afile").write_text("mine")
    (tmp_path / "with-cache-file").mkdir()
    (tmp_path / "with-cache-file" / "cache").write_text("mine")
    names = {"f": str(tmp_path / "afile"), "d": str(tmp_path)}
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["index", "build", "--catalog", str(catalog), *(a.format(**names) for a in args)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: " + message.format(**names)
    assert sorted(p.name for p in tmp_path.iterdir()) == before and (tmp_path / "afile").read_text() == "mine"


@pytest.mark.parametrize("args,message", [
    (["--max-image-mb", "inf"], "--max-image-mb inf: expected more than 0 and at most 64"),
    (["--max-image-mb", "nan"], "--max-image-mb nan: expected more than 0 and at most 64"),
    (["--max-image-mb", "0"], "--max-image-mb 0: expected more than 0"),
    (["--image-workers", "0"], "--image-workers 0: expected 1 to 64"),
    (["--image-workers", "100000"], "--image-workers 100000: expected 1 to 64"),
])
def test_numeric_options_out_of_range_are_one_line(tmp_path, capsys, no_models, args, message):
    catalog = tmp_path / "c.jsonl"
    catalog.write_text(json.dumps({"id": "a", "title": "Red shirt"}) + "\n")
    assert main(["index", "build", "--catalog", str(catalog), "--out", str(tmp_path / "idx"), *args]) == 2
    assert capsys.readouterr().err.startswith("error: " + message)
    assert not (tmp_path / "idx").exists()
