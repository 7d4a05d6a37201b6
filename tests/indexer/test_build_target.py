"""A build never removes what prodsearch did not write: folders that are not an index are refused, untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.build_target import check_build_target, is_build_id, is_prodsearch_manifest
from indexer.catalog import load_catalog
from indexer.errors import IndexError_
from indexer.index_dir import CURRENT, VERSIONS, begin_build, new_build_id, resolve_current
from prodsearch.cli import main


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


def user_folder(root: Path) -> Path:
    """The audit's folder: another application's manifest.json, a versions/2024/ of notes, names a flat index uses."""
    (root / "versions" / "2024").mkdir(parents=True)
    (root / "manifest.json").write_text('{"name":"app"}\n')
    (root / "versions" / "2024" / "notes.txt").write_text("x\n")
    (root / "products.sqlite").write_text("db\n")
    (root / "lexical").mkdir()
    return root


def test_a_user_folder_is_refused_and_left_as_it_was(tmp_path, synthetic_catalog, fake_encoders):
    out = user_folder(tmp_path / "D")
    before = snapshot(out)
    with pytest.raises(IndexError_, match=r"manifest.json is not a prodsearch index manifest.*versions holds 2024"):
        build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    assert snapshot(out) == before  # not even the embedding cache was made there


@pytest.mark.parametrize("make", [
    lambda v: (v / "2024").mkdir(),  # not a version's name
    lambda v: (v / "notes.txt").write_text("x"),
    lambda v: (v / "20000101T000000000000-dead00").write_text("a file named like a version"),
    lambda v: (v / "20000101T000000000000-dead00").symlink_to(v.parent),
    lambda v: (v / ".building-mine").mkdir(),
])
def test_foreign_entries_in_versions_are_refused(tmp_path, synthetic_index, make):
    out = tmp_path / "idx"
    shutil.copytree(synthetic_index, out, symlinks=True)
    make(out / VERSIONS)
    before = snapshot(out)
    with pytest.raises(IndexError_, match="which no prodsearch build created"):
        begin_build(out)
    assert snapshot(out) == before


@pytest.mark.parametrize("text", ['{"name": "app"}', "not json", "[1, 2]", ""])
def test_a_manifest_of_another_tool_is_refused(tmp_path, text):
    (tmp_path / "manifest.json").write_text(text)
    (tmp_path / "products.sqlite").write_text("db")
    with pytest.raises(IndexError_, match="is not a prodsearch index manifest"):
        begin_build(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "products.sqlite"]


def test_a_temporary_link_name_that_is_not_a_link_is_refused(tmp_path, synthetic_index):
    out = tmp_path / "idx"
    shutil.copytree(synthetic_index, out, symlinks=True)
    (out / ".current-mine.tmp-link").write_text("mine")
    with pytest.raises(IndexError_, match="tmp-link is not a symlink"):
        begin_build(out)
    assert (out / ".current-mine.tmp-link").read_text() == "mine"


def test_a_flat_index_is_still_migrated_and_other_files_are_kept(tmp_path, synthetic_index, synthetic_catalog,
                                                                 fake_encoders):
    flat = tmp_path / "flat"
    shutil.copytree(resolve_current(synthetic_index), flat)
    assert is_prodsearch_manifest(flat / "manifest.json")
    (flat / "notes.txt").write_text("mine")
    build_index(load_catalog(synthetic_catalog), flat, fake_encoders, progress=False)
    assert sorted(p.name for p in flat.iterdir()) == ["cache", CURRENT, "notes.txt", VERSIONS]
    assert (flat / "notes.txt").read_text() == "mine"


def test_an_unreadable_manifest_is_not_a_prodsearch_one(tmp_path):
    """A foreign manifest.json at --out nested past Python's limit was a RecursionError traceback."""
    for name, content in [("deep.json", b"[" * 100_000), ("digits.json", b"1" * 5000), ("latin1.json", b'{"\xe9"}')]:
        (tmp_path / name).write_bytes(content)
        assert not is_prodsearch_manifest(tmp_path / name)


def test_build_ids_are_recognised():
    assert is_build_id(new_build_id())
    assert not is_build_id("2024") and not is_build_id("20000101T000000000000-dead0")


def test_non_empty_foreign_folder_is_refused_only_where_asked(tmp_path, synthetic_index):
    (tmp_path / "photo.png").write_bytes(b"png")
    check_build_target(tmp_path)  # the library's check: nothing there would be removed
    with pytest.raises(IndexError_, match=r"non-empty folder that is not a prodsearch index \(it holds photo.png\)"):
        check_build_target(tmp_path, allow_foreign=False)
    check_build_target(tmp_path / "new", allow_foreign=False)
    (tmp_path / "empty" / "cache").mkdir(parents=True)  # a first build's own cache
    check_build_target(tmp_path / "empty", allow_foreign=False)
    (tmp_path / "empty" / "emb").mkdir()
    check_build_target(tmp_path / "empty", allow_foreign=False, allow=["emb"])
    check_build_target(synthetic_index, allow_foreign=False)


def test_cli_refuses_a_user_folder_before_loading_models(tmp_path, capsys, monkeypatch):
    import indexer.encoders

    def no_models(*args, **kwargs):
        raise AssertionError("models loaded")

    monkeypatch.setattr(indexer.encoders, "load_encoders_for_build", no_models)
    catalog = tmp_path / "c.jsonl"
    catalog.write_text(json.dumps({"id": "a", "title": "Red shirt"}) + "\n")
    for out in (user_folder(tmp_path / "D"), tmp_path / "docs"):
        out.mkdir(exist_ok=True)
        (out / "report.md").write_text("mine")
        before = snapshot(out)
        assert main(["index", "build", "--catalog", str(catalog), "--out", str(out)]) == 2
        assert f"error: refusing to build into {out}" in capsys.readouterr().err
        assert snapshot(out) == before
