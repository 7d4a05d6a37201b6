"""A damaged index fails at load with ONE line naming the file and saying "rebuild the index"
(`CorruptIndexError`), from the library and from the CLI, for versioned and for old flat indexes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from support import run_cli

from indexer.errors import CorruptIndexError
from indexer.index_dir import resolve_current
from indexer.loaded import load_index
from indexer.manifest import read_manifest


@pytest.fixture
def index_copy(tmp_path, synthetic_index) -> Path:
    out = tmp_path / "idx"
    shutil.copytree(synthetic_index, out, symlinks=True)
    return out


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_byte(path: Path, offset: int = -10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def strip_checksums(version: Path) -> None:
    """Make the version look like an index from before checksums were recorded (only counts are checked):
    those manifests had neither ``files`` nor ``build_id`` (they came in together)."""
    manifest = json.loads((version / "manifest.json").read_text())
    del manifest["files"], manifest["build_id"]
    (version / "manifest.json").write_text(json.dumps(manifest))


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text.endswith("rebuild the index"), text
    return text


def test_manifest_records_every_file(synthetic_index):
    manifest = read_manifest(synthetic_index)
    version = resolve_current(synthetic_index)
    on_disk = sorted(p.relative_to(version).as_posix() for p in version.rglob("*")
                     if p.is_file() and p.name != "manifest.json")
    assert sorted(manifest.files) == on_disk and manifest.build_id == version.name
    assert {"text.faiss", "products.sqlite", "image_rows.npy"} <= set(manifest.files)
    assert any(name.startswith("lexical/") for name in manifest.files)
    assert manifest.files["text.faiss"].size == (version / "text.faiss").stat().st_size


@pytest.mark.parametrize("name", ["text.faiss", "image.faiss", "products.sqlite", "image_rows.npy"])
def test_truncated_file_is_named(index_copy, name):
    truncate(resolve_current(index_copy) / name)
    with pytest.raises(CorruptIndexError) as info:
        load_index(index_copy)
    assert f": {name} has " in one_line(info.value) and "truncated" in str(info.value)


def test_changed_byte_fails_the_checksum(index_copy):
    flip_byte(resolve_current(index_copy) / "clip_text.faiss")
    with pytest.raises(CorruptIndexError, match="clip_text.faiss does not match its sha256") as info:
        load_index(index_copy)
    one_line(info.value)
    load_index(index_copy, verify_checksums=False).close()  # sizes only: the caller chose not to hash


def test_missing_lexical_folder(index_copy):
    shutil.rmtree(resolve_current(index_copy) / "lexical")
    with pytest.raises(CorruptIndexError, match="lexical/ folder is missing") as info:
        load_index(index_copy)
    one_line(info.value)


@pytest.mark.parametrize("name", ["text.faiss", "products.sqlite", "image_rows.npy"])
def test_truncated_file_without_checksums_is_still_one_line(index_copy, name):
    """An index without recorded checksums (older builds): the loaders' own errors become the one line."""
    version = resolve_current(index_copy)
    strip_checksums(version)
    truncate(version / name)
    with pytest.raises(CorruptIndexError, match=f": {name} cannot be read") as info:
        load_index(index_copy)
    one_line(info.value)


def test_missing_lexical_without_checksums(index_copy):
    version = resolve_current(index_copy)
    strip_checksums(version)
    shutil.rmtree(version / "lexical")
    with pytest.raises(CorruptIndexError, match="lexical/ is missing") as info:
        load_index(index_copy)
    one_line(info.value)


@pytest.mark.parametrize("bad", [72, -1, 10**9])
def test_image_rows_out_of_range(index_copy, bad):
    version = resolve_current(index_copy)
    rows = np.load(version / "image_rows.npy")
    rows[5] = bad
    np.save(version / "image_rows.npy", rows)
    strip_checksums(version)  # a consistent but wrong file: the range check must catch it, not the checksum
    with pytest.raises(CorruptIndexError, match=r"image_rows.npy has product rows in \[.*\], outside \[0, 72\)") as info:
        load_index(index_copy)
    one_line(info.value)


def test_counts_against_manifest(index_copy):
    version = resolve_current(index_copy)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["counts"]["products"] = 71
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptIndexError, match="products.sqlite holds 72 products, the manifest says 71"):
        load_index(index_copy)


def test_cli_prints_one_line_and_exits_non_zero(index_copy):
    truncate(resolve_current(index_copy) / "text.faiss")
    for args in (["index", "verify", str(index_copy)], ["query", "--index", str(index_copy), "red"]):
        result = run_cli(*args, timeout=300)
        assert result.returncode != 0
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines[-1].startswith("error: index ") and "text.faiss has" in lines[-1], result.stderr
        assert lines[-1].endswith("rebuild the index") and "Traceback" not in result.stderr


def test_cli_verify_ok(synthetic_index):
    result = run_cli("index", "verify", str(synthetic_index), timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ") and "72 products" in result.stdout


@pytest.mark.parametrize("content", [b'{"text_model": "x"', b"\xff\xfe\x00garbage", b"[]", b"{}"])
def test_damaged_manifest_is_one_line(index_copy, content):
    from indexer.errors import IndexError_

    (resolve_current(index_copy) / "manifest.json").write_bytes(content)
    with pytest.raises(IndexError_, match="manifest.json is unreadable") as info:
        load_index(index_copy)
    one_line(info.value)


def edit_manifest(version: Path, edit) -> None:
    manifest = json.loads((version / "manifest.json").read_text())
    edit(manifest)
    (version / "manifest.json").write_text(json.dumps(manifest))


def set_spec(manifest: dict, value) -> None:
    manifest["vector_store"]["specs"]["text"] = value


EDITS = {
    "unknown backend": (lambda m: m.update(backend="bogus"),
                        "manifest.json names vector store backend 'bogus', not one of faiss"),
    "spec not an object": (lambda m: set_spec(m, "zzz"), r"damaged faiss record at vector_store.specs.text \("),
    "parameter not a number": (lambda m: set_spec(m, {"factory": "Flat", "params": {"efSearch": "x"}}),
                               r"vector_store.specs.text.params.efSearch \("),
    "unknown parameter": (lambda m: set_spec(m, {"factory": "Flat", "params": {"bogus": 1}}),
                          r"manifest.json vector_store.specs: field 'text': unknown parameter 'bogus'"),
    "files not an object": (lambda m: m["vector_store"].update(files="text.faiss"), r"at vector_store.files \("),
    "file outside the version": (lambda m: m["vector_store"]["files"].update(text="../../../etc/passwd"),
                                 r"vector_store.files.text \(.*is not a file of the index version"),
    "deleted of no field": (lambda m: m["vector_store"].update(deleted={"zzz": "zzz.deleted.npy"}),
                            "deleted names field.s. zzz that have no index file"),
    "field on another field's file": (lambda m: m["vector_store"]["files"].update(text="image.faiss"),
                                      "image.faiss holds 8-d vectors, the manifest says 64-d for field text"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_vector_store_record_is_one_line(index_copy, edit):
    change, message = EDITS[edit]
    edit_manifest(resolve_current(index_copy), change)
    with pytest.raises(CorruptIndexError, match=message) as info:
        load_index(index_copy)
    one_line(info.value)


def test_a_deeply_nested_manifest_is_one_line(index_copy):
    (resolve_current(index_copy) / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CorruptIndexError, match="manifest.json is unreadable") as info:
        load_index(index_copy)
    one_line(info.value)


@pytest.mark.parametrize("edit", ["unknown backend", "spec not an object"])
def test_cli_edited_manifest_is_one_line(index_copy, edit):
    edit_manifest(resolve_current(index_copy), EDITS[edit][0])
    for args in (["index", "verify", str(index_copy)], ["query", "--index", str(index_copy), "red"],
                 ["serve", "--index", str(index_copy), "--port", "18767"]):
        result = run_cli(*args, timeout=300)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr)
        assert lines[-1].startswith("error: index ") and lines[-1].endswith("rebuild the index"), (args, lines[-1])


CUT_LISTS = {
    "emptied": (lambda files: files.clear(), "manifest.json lists no files"),
    "no vector file": (lambda files: files.pop("text.faiss"), "manifest.json does not list text.faiss among"),
    "no store": (lambda files: files.pop("products.sqlite"), "manifest.json does not list products.sqlite among"),
    "no photo rows": (lambda files: files.pop("image_rows.npy"), "manifest.json does not list image_rows.npy among"),
    "no BM25 file": (lambda files: [files.pop(n) for n in list(files) if n.startswith("lexical/")],
                     "manifest.json does not list lexical/ among"),
}


@pytest.mark.parametrize("cut", sorted(CUT_LISTS))
def test_a_cut_file_list_does_not_turn_the_checks_off(index_copy, cut):
    change, message = CUT_LISTS[cut]
    version = resolve_current(index_copy)
    edit_manifest(version, lambda m: change(m["files"]))
    flip_byte(version / "text.faiss")  # would go unnoticed if the list decided what is checked
    with pytest.raises(CorruptIndexError, match=message) as info:
        load_index(index_copy)
    one_line(info.value)


def test_cli_verify_an_emptied_file_list(index_copy):
    edit_manifest(resolve_current(index_copy), lambda m: m.update(files={}))
    result = run_cli("index", "verify", str(index_copy), timeout=300)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and lines[-1].startswith("error: index ") and "lists no files" in lines[-1]
