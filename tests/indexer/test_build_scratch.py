"""A ``--no-cache`` build's scratch embedding cache lives in the index directory (versions/.scratch-<id>/), not in
the system's temporary folder: a build killed with SIGKILL leaves it where the next build into that directory
removes it, a running build's is never removed by another, and no published version holds it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from support import REPO

from indexer import index_dir
from indexer.build import build_index
from indexer.build_target import check_build_target
from indexer.catalog import load_catalog
from indexer.index_dir import SCRATCH_PREFIX, VERSIONS, resolve_current, scratch_folder

CRASH_SCRIPT = Path(__file__).with_name("crash_build.py")


def scratch(out: Path) -> list[Path]:
    return sorted((out / VERSIONS).glob(f"{SCRATCH_PREFIX}*"))


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def temp_folder(tmp_path, monkeypatch) -> Path:
    """The system temporary folder, for this process and the builds it starts: empty, to see what is left there."""
    folder = tmp_path / "systemp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.slow
def test_a_killed_no_cache_build_leaves_its_cache_in_the_index_for_the_next_build(
        tmp_path, temp_folder, synthetic_catalog, fake_encoders):
    """SIGKILL after the embedding (the cache full, its clean-up never run): nothing in the temporary folder, the
    cache inside DIR/versions/, and the next build into DIR removes it."""
    out = tmp_path / "idx"
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False, use_cache=False)
    env = {**os.environ, "PYTHONPATH": str(REPO), index_dir.FAULT_ENV: "embedded"}
    result = subprocess.run([sys.executable, str(CRASH_SCRIPT), str(synthetic_catalog), str(out), "--no-cache"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert not list(temp_folder.glob("prodsearch-cache-*"))
    left = scratch(out)
    assert len(left) == 1 and any(p.is_file() for p in left[0].rglob("*"))  # the killed build's cache
    check_build_target(out, allow_foreign=False)  # the CLI still builds into DIR
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    assert not scratch(out) and not files_under(temp_folder)


@pytest.mark.slow
def test_a_first_build_killed_leaves_a_folder_the_next_build_accepts(tmp_path, temp_folder, synthetic_catalog,
                                                                     fake_encoders):
    out = tmp_path / "new"
    env = {**os.environ, "PYTHONPATH": str(REPO), index_dir.FAULT_ENV: "embedded"}
    result = subprocess.run([sys.executable, str(CRASH_SCRIPT), str(synthetic_catalog), str(out), "--no-cache"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert len(scratch(out)) == 1 and not files_under(temp_folder)
    check_build_target(out, allow_foreign=False)
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False, use_cache=False)
    assert not scratch(out) and (resolve_current(out) / "manifest.json").is_file()


def test_a_no_cache_build_leaves_nothing_behind(tmp_path, monkeypatch, temp_folder, synthetic_catalog,
                                               fake_encoders):
    out = tmp_path / "idx"
    seen: list[list[str]] = []

    def look(stage: str) -> None:  # the cache exists while the build runs, outside the version being written
        if stage in ("embedded", "manifest_written", "cleaned"):
            seen.append([p.name for p in scratch(out)])

    monkeypatch.setattr(index_dir, "checkpoint", look)
    monkeypatch.setattr("indexer.build.checkpoint", look)
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False, use_cache=False)
    assert len(seen) == 3 and all(len(names) == 1 and names == seen[0] for names in seen)  # kept by publish's clean
    assert not scratch(out) and not files_under(temp_folder)
    assert sorted(p.name for p in out.iterdir()) == ["current", VERSIONS]  # no cache/ either
    version = resolve_current(out)
    assert not [p for p in files_under(version) if "scratch" in p or "cache" in p]


def test_another_build_removes_only_scratch_no_process_holds(tmp_path, synthetic_catalog, fake_encoders):
    out = tmp_path / "idx"
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    dead = out / VERSIONS / f"{SCRATCH_PREFIX}20000101T000000000000-dead00"
    dead.mkdir()
    (dead / "vectors.bin").write_bytes(b"left by a killed build")
    with scratch_folder(out) as held:
        (held / "vectors.bin").write_bytes(b"a running build's")
        assert not dead.exists()  # a new scratch folder clears the dead ones first
        dead.mkdir()
        build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)  # its clean_stale
        assert not dead.exists() and (held / "vectors.bin").read_bytes() == b"a running build's"
    assert not held.exists() and not scratch(out)


def test_a_no_cache_build_into_a_version_is_refused_before_its_scratch_is_made(synthetic_index, synthetic_catalog,
                                                                               fake_encoders):
    from indexer.errors import IndexError_

    version = resolve_current(synthetic_index)
    with pytest.raises(IndexError_, match="is a version inside an index directory"):
        build_index(load_catalog(synthetic_catalog), version, fake_encoders, progress=False, use_cache=False)
    assert not (version / VERSIONS).exists()  # the published version is left as it was
