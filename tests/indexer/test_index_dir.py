"""The versioned index directory: layout, atomic switch, clean-up, migration of a flat index, and fault
injection (raise, and kill -9, at every stage of build and publish) followed by a check that the index at
DIR still loads and answers byte-for-byte as the previous one (or, once switched, as the new one).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO, write_synthetic_catalog

from indexer import index_dir
from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.errors import CorruptIndexError, IndexError_
from indexer.index_dir import CURRENT, PREVIOUS, VERSIONS, begin_build, has_index, resolve_current
from indexer.loaded import load_index

CRASH_SCRIPT = Path(__file__).with_name("crash_build.py")
# Every checkpoint of a build over a versioned index, in order; SWITCH is where `current` changes.
STAGES = ["embedded", "begun", "vectors_written", "lexical_written", "store_written", "manifest_written",
          "publish_start", "synced", "renamed", "current_link_created", "switched", "previous_link_created",
          "previous_set", "clean_version_removed", "cleaned"]
SWITCH = STAGES.index("switched")
MIGRATION_STAGES = ["renamed", "current_link_created", "switched", "clean_legacy_manifest_removed", "cleaned"]


def answers(directory: Path, encoders) -> bytes:
    """What the index at ``directory`` answers to a few text, product and photo queries, as bytes."""
    from search.searcher import Searcher
    from search.types import SearchRequest

    searcher = Searcher.open(directory, encoders)
    try:
        requests = [SearchRequest(text="red shoes", k=10), SearchRequest(text="Acme blue bag", k=5),
                    SearchRequest(text="green", k=10, weights={"lexical": 0}),
                    SearchRequest(product_id=searcher.index.store.products[3].id, k=5)]
        dumps = [searcher.search(r).model_dump(exclude={"timings_ms"}) for r in requests]
        thumbs = [searcher.index.store.thumbnail(row) for row in (0, 1)]
        return json.dumps([dumps, [t[1].hex() if t else None for t in thumbs]], sort_keys=True).encode()
    finally:
        searcher.index.close()


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory):
    base = tmp_path_factory.mktemp("catalogs")
    return write_synthetic_catalog(base / "old", n_per_cell=2), write_synthetic_catalog(base / "new", n_per_cell=1)


@pytest.fixture(scope="module")
def references(tmp_path_factory, catalogs):
    """Answers of a clean index of the old and of the new catalog."""
    from support import FakeClipEncoder, FakeTextEncoder

    from indexer.encoders import Encoders

    encoders = Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())
    out = tmp_path_factory.mktemp("refs")
    refs = []
    for i, catalog in enumerate(catalogs):
        build_index(load_catalog(catalog), out / str(i), encoders, progress=False)
        refs.append(answers(out / str(i), encoders))
    assert refs[0] != refs[1]
    return refs


def old_index(tmp_path: Path, catalog: Path, encoders) -> Path:
    """An index of the old catalog built twice: versions A1 (previous) and A2 (current)."""
    out = tmp_path / "idx"
    for _ in range(2):
        build_index(load_catalog(catalog), out, encoders, progress=False)
    (out / "cache").mkdir(exist_ok=True)  # the build's embedding cache (indexer/embedding_cache.py) lives here
    (out / "cache" / "keep.bin").write_bytes(b"not ours")
    return out


def version_names(out: Path) -> list[str]:
    return sorted(p.name for p in (out / VERSIONS).iterdir() if p.name != ".lock")


def test_layout_current_previous_and_cleanup(tmp_path, synthetic_catalog, fake_encoders):
    out = tmp_path / "idx"
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    first = resolve_current(out).name
    assert os.readlink(out / CURRENT) == f"{VERSIONS}/{first}" and not (out / PREVIOUS).exists()
    assert load_index(out).manifest.build_id == first
    (out / "cache").mkdir(exist_ok=True)  # the build's embedding cache (indexer/embedding_cache.py) lives here
    for _ in range(3):
        build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    names = version_names(out)
    assert len(names) == 2 and first not in names  # current and previous only
    assert resolve_current(out).name == max(names) and os.readlink(out / PREVIOUS) == f"{VERSIONS}/{min(names)}"
    assert (out / "cache").is_dir()
    assert sorted(p.name for p in out.iterdir()) == ["cache", CURRENT, PREVIOUS, VERSIONS]
    version = resolve_current(out)
    assert load_index(version).directory == version  # a version directory loads on its own


def test_stale_unfinished_builds_are_removed_by_the_next_build(tmp_path, synthetic_catalog, fake_encoders):
    out = tmp_path / "idx"
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    (out / VERSIONS / ".building-20000101T000000000000-dead00").mkdir()
    (out / VERSIONS / "20000101T000000000000-dead01").mkdir()  # renamed but never made current
    (out / ".current-x.tmp-link").symlink_to("versions/nowhere")
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    assert len(version_names(out)) == 2 and not list(out.glob(".*tmp-link"))


def test_second_concurrent_build_is_refused(tmp_path):
    with begin_build(tmp_path / "idx") as pending:
        with pytest.raises(IndexError_, match="another build is writing"):
            begin_build(tmp_path / "idx")
        assert pending.path.is_dir()
    assert not pending.path.exists()  # left without publish: discarded
    begin_build(tmp_path / "idx").abort()  # the lock was released


def test_a_build_into_a_directory_being_built_fails_before_embedding(tmp_path, synthetic_catalog):
    class Refuses:  # any embedding would fail the test with another message
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            raise AssertionError(f"encoders used: {name}")

    with begin_build(tmp_path / "idx"), pytest.raises(IndexError_, match="another build is writing"):
        build_index(load_catalog(synthetic_catalog), tmp_path / "idx", Refuses(), progress=False)


def test_dangling_current_is_one_line_error(tmp_path, synthetic_index):
    out = tmp_path / "idx"
    shutil.copytree(synthetic_index, out, symlinks=True)
    shutil.rmtree(resolve_current(out))
    with pytest.raises(CorruptIndexError, match=r"current points to versions/.*; rebuild the index$"):
        load_index(out)
    assert not has_index(out)


def test_a_current_link_loop_is_one_line_error(tmp_path, synthetic_index):
    out = tmp_path / "idx"
    shutil.copytree(synthetic_index, out, symlinks=True)
    (out / CURRENT).unlink()
    (out / CURRENT).symlink_to(CURRENT)
    with pytest.raises(CorruptIndexError, match="current cannot be resolved .*; rebuild the index$"):
        load_index(out)


def test_publish_expecting_a_version_refuses_once_a_build_replaced_it(tmp_path, synthetic_index):
    """A compaction derived from version A must not replace B, which a build published meanwhile."""
    out = tmp_path / "idx"
    shutil.copytree(synthetic_index, out, symlinks=True)
    served = resolve_current(out).name
    with begin_build(out) as pending:  # stands in for a full build publishing B
        shutil.copytree(resolve_current(out), pending.path, dirs_exist_ok=True)
        built = pending.publish(expect_current=served).name
    stale = begin_build(out)
    with stale, pytest.raises(index_dir.StaleVersionError, match=f"current version is {built}, not {served}.*reload"):
        stale.publish(expect_current=served)
    assert resolve_current(out).name == built and not stale.path.exists()  # nothing switched, the attempt discarded
    assert sorted(p.name for p in (out / VERSIONS).iterdir() if not p.name.startswith(".")) == sorted([served, built])


def make_flat(version: Path, out: Path) -> Path:
    """An index directory as the flat layout wrote it (manifest at the top, no build id or checksums)."""
    shutil.copytree(version, out)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["build_id"], manifest["files"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_flat_index_loads_and_is_migrated(tmp_path, synthetic_index, synthetic_catalog, fake_encoders, references):
    flat = make_flat(resolve_current(synthetic_index), tmp_path / "flat")
    before = answers(flat, fake_encoders)
    (flat / "cache").mkdir()
    build_index(load_catalog(synthetic_catalog), flat, fake_encoders, progress=False)
    assert sorted(p.name for p in flat.iterdir()) == ["cache", CURRENT, VERSIONS]
    assert answers(flat, fake_encoders) == before


def run_crashing_build(catalog: Path, out: Path, stage: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), index_dir.FAULT_ENV: stage}
    return subprocess.run([sys.executable, str(CRASH_SCRIPT), str(catalog), str(out)], env=env,
                          capture_output=True, text=True, timeout=300)


class Boom(Exception):
    pass


def check_after_fault(out: Path, stage_index: int, switch_index: int, references, encoders, catalog) -> None:
    """The index at DIR answers exactly as the old one (before the switch) or the new one (after)."""
    got = answers(out, encoders)
    expected = references[0] if stage_index < switch_index else references[1]
    assert got == expected
    # and the next build cleans up whatever the fault left, keeping only current and previous
    build_index(load_catalog(catalog), out, encoders, progress=False)
    assert len(version_names(out)) == 2 and answers(out, encoders) == references[1]
    assert not list(out.glob(".*tmp-link")) and (out / "cache" / "keep.bin").read_bytes() == b"not ours"


@pytest.mark.parametrize("stage", STAGES)
def test_raise_at_each_stage_keeps_an_index(tmp_path, monkeypatch, catalogs, references, fake_encoders, stage):
    out = old_index(tmp_path, catalogs[0], fake_encoders)
    real = index_dir.checkpoint
    seen = []

    def fail_at(name: str) -> None:
        seen.append(name)
        if name == stage:
            raise Boom(name)

    monkeypatch.setattr(index_dir, "checkpoint", fail_at)
    monkeypatch.setattr("indexer.build.checkpoint", fail_at)
    with pytest.raises(Boom):
        build_index(load_catalog(catalogs[1]), out, fake_encoders, progress=False)
    monkeypatch.setattr(index_dir, "checkpoint", real)
    monkeypatch.setattr("indexer.build.checkpoint", real)
    assert seen[-1] == stage
    check_after_fault(out, STAGES.index(stage), SWITCH, references, fake_encoders, catalogs[1])


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_kill9_at_each_stage_keeps_an_index(tmp_path, catalogs, references, fake_encoders, stage):
    out = old_index(tmp_path, catalogs[0], fake_encoders)
    result = run_crashing_build(catalogs[1], out, stage)
    assert result.returncode == -signal.SIGKILL, result.stderr
    check_after_fault(out, STAGES.index(stage), SWITCH, references, fake_encoders, catalogs[1])


@pytest.mark.slow
@pytest.mark.parametrize("stage", MIGRATION_STAGES)
def test_kill9_while_migrating_a_flat_index(tmp_path, catalogs, references, fake_encoders, stage):
    build_index(load_catalog(catalogs[0]), tmp_path / "v", fake_encoders, progress=False)
    out = make_flat(resolve_current(tmp_path / "v"), tmp_path / "idx")
    (out / "cache").mkdir(exist_ok=True)  # the build's embedding cache (indexer/embedding_cache.py) lives here
    (out / "cache" / "keep.bin").write_bytes(b"not ours")
    assert answers(out, fake_encoders) == references[0]
    result = run_crashing_build(catalogs[1], out, stage)
    assert result.returncode == -signal.SIGKILL, result.stderr
    got = answers(out, fake_encoders)
    assert got == (references[0] if MIGRATION_STAGES.index(stage) < 2 else references[1])
    build_index(load_catalog(catalogs[1]), out, fake_encoders, progress=False)
    assert {p.name for p in out.iterdir()} - {PREVIOUS} == {"cache", CURRENT, VERSIONS}  # flat files gone
    assert answers(out, fake_encoders) == references[1] and (out / "cache" / "keep.bin").is_file()


def test_a_loaded_index_keeps_answering_while_builds_replace_and_remove_its_version(
        tmp_path, catalogs, references, fake_encoders):
    from search.searcher import Searcher
    from search.types import SearchRequest

    out = tmp_path / "idx"
    build_index(load_catalog(catalogs[0]), out, fake_encoders, progress=False)
    served = resolve_current(out)
    searcher = Searcher.open(out, fake_encoders)
    try:
        before = searcher.search(SearchRequest(text="red shoes", k=10)).model_dump(exclude={"timings_ms"})
        thumb = searcher.index.store.thumbnail(0)
        for _ in range(2):  # the second build removes the served version from disk
            build_index(load_catalog(catalogs[1]), out, fake_encoders, progress=False)
        assert not served.exists()
        assert searcher.search(SearchRequest(text="red shoes", k=10)).model_dump(exclude={"timings_ms"}) == before
        assert searcher.index.store.thumbnail(0) == thumb
    finally:
        searcher.index.close()
    assert answers(out, fake_encoders) == references[1]  # a reload sees the new current version


def test_every_checkpoint_is_covered_by_the_fault_tests(tmp_path, monkeypatch, catalogs, fake_encoders):
    """A normal rebuild (with a version to clean up) passes exactly STAGES: a new stage must join the fault tests."""
    out = old_index(tmp_path, catalogs[0], fake_encoders)
    seen: list[str] = []
    monkeypatch.setattr(index_dir, "checkpoint", seen.append)
    monkeypatch.setattr("indexer.build.checkpoint", seen.append)
    build_index(load_catalog(catalogs[1]), out, fake_encoders, progress=False)
    assert seen == STAGES


def test_building_into_a_version_is_refused(tmp_path, synthetic_index):
    with pytest.raises(IndexError_, match="is a version inside an index directory"):
        begin_build(resolve_current(synthetic_index))


def test_lost_index_of_an_older_swap_is_pointed_at(tmp_path, synthetic_index):
    shutil.copytree(resolve_current(synthetic_index), tmp_path / ".idx.old-1796052604")
    with pytest.raises(IndexError_, match=r"no index at .*idx; .* left the previous index at .*\.idx\.old-1796052604"):
        load_index(tmp_path / "idx")
