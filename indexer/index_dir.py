"""The index directory's layout, in one place: versions, the `current` link, atomic publish, clean-up.

    DIR/
      current  -> versions/<build-id>    relative symlink, switched by rename(2) of a new link
      previous -> versions/<build-id>    the version `current` replaced (rollback; servers still on it)
      versions/<build-id>/               one complete index (manifest.json, *.faiss, ...)
      versions/.building-<build-id>/     a build in progress; removed by the next build if it died
      versions/.scratch-<id>/            a --no-cache build's embedding cache (`scratch_folder`); removed when
                                         it ends, or by the next build once no live process holds it
      versions/.lock                     flock held by the build writing DIR
      .removing-flat-index               while a migrated flat index's files are removed
      anything else (e.g. cache/)        left alone

A build writes a new version beside the others, fsyncs it, renames it to its final name
and only then switches `current`: at every instant `current` names a complete version, so
a reader (or a crash) sees the old index or the new one, never none. An old flat index
(manifest.json directly in DIR) keeps loading, and the next build migrates it: the flat
files are removed only after `current` points at the new version.

`checkpoint(stage)` marks each step so tests can crash the process there (see `FAULT_ENV`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from indexer.errors import CorruptIndexError, IndexError_

logger = logging.getLogger(__name__)

CURRENT = "current"
PREVIOUS = "previous"
VERSIONS = "versions"
BUILDING_PREFIX = ".building-"
SCRATCH_PREFIX = ".scratch-"
LINK_TMP_SUFFIX = ".tmp-link"
LOCK_FILE = ".lock"
LEGACY_MARKER = ".removing-flat-index"
MANIFEST = "manifest.json"
# The flat layout written before versioned directories (format 1, frozen): what a migration removes.
LEGACY_ENTRIES = ("text.faiss", "image.faiss", "clip_text.faiss", "image_rows.npy", "lexical",
                  "products.sqlite", "rejects.jsonl", "image_failures.jsonl")

# Tests only: the name of a stage at which `checkpoint` kills this process with SIGKILL.
FAULT_ENV = "PRODSEARCH_TEST_KILL_AT"


def checkpoint(stage: str) -> None:
    """A named step of a build or publish; tests monkeypatch this to raise, or set FAULT_ENV to kill -9 here."""
    if os.environ.get(FAULT_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def new_build_id() -> str:
    """Sortable by time: 20261130T151719123456-3fa2c1."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


def _link_target(link: Path) -> str | None:
    """The version name a `current`/`previous` link points to, or None."""
    try:
        return Path(os.readlink(link)).name
    except OSError:
        return None


def current_name(directory: str | Path) -> str | None:
    """The version DIR/current points to (None: no `current` link, e.g. an old flat index)."""
    return _link_target(Path(directory) / CURRENT)


def resolve_current(directory: str | Path) -> Path:
    """The directory holding the index files: DIR/current's target, or DIR itself (a version or a flat index)."""
    directory = Path(directory)
    link = directory / CURRENT
    if link.is_symlink() or link.is_dir():
        try:
            target = link.resolve(strict=False)
        except (OSError, RuntimeError) as exc:  # a link loop (RuntimeError before Python 3.13)
            raise CorruptIndexError(f"index {directory}: {CURRENT} cannot be resolved ({exc}); rebuild the index") from None
        if not (target / MANIFEST).is_file():
            shown = os.readlink(link) if link.is_symlink() else str(link)
            raise CorruptIndexError(f"index {directory}: {CURRENT} points to {shown}, which is missing or has no "
                                    f"{MANIFEST}; rebuild the index")
        return target
    return directory


def interrupted_swap_hint(directory: Path) -> str:
    """Where an index lost by an older version's interrupted swap lies (its `.DIR.old-*` sibling), if any."""
    olds = sorted(directory.parent.glob(f".{directory.name}.old-*")) if directory.parent.is_dir() else []
    if not olds:
        return ""
    return f" (an older version's interrupted rebuild left the previous index at {olds[-1]}: rename it to {directory})"


def has_index(directory: str | Path) -> bool:
    """Whether DIR holds a loadable index's manifest (versioned or flat); does not verify the files."""
    try:
        return (resolve_current(directory) / MANIFEST).is_file()
    except CorruptIndexError:
        return False


def fsync_tree(root: Path) -> None:
    """fsync every file under ``root``, then every directory bottom-up, so a rename after this is durable."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_link(root: Path, name: str, version: str) -> None:
    """Point root/name at versions/<version> atomically: a new symlink, then rename(2) over the old one."""
    tmp = root / f".{name}-{version}{LINK_TMP_SUFFIX}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(f"{VERSIONS}/{version}", tmp)
    checkpoint(f"{name}_link_created")
    os.replace(tmp, root / name)
    fsync_dir(root)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def clean_stale(root: Path) -> list[str]:
    """Remove unfinished builds, versions other than current and previous, and scratch folders no live process
    holds (`scratch_folder`); the names removed.

    Also removes a migrated flat index's files once `current` exists. Call with the build lock held.
    """
    root = Path(root)
    removed: list[str] = []
    versions = root / VERSIONS
    keep = {_link_target(root / CURRENT), _link_target(root / PREVIOUS)} - {None}
    if versions.is_dir():
        for entry in sorted(versions.iterdir()):
            if entry.name == LOCK_FILE or entry.name in keep:
                continue
            if entry.name.startswith(SCRATCH_PREFIX):
                if not _remove_unheld_scratch(entry):
                    continue  # a running build's (made before it takes the build lock)
            else:
                _remove(entry)
            removed.append(f"{VERSIONS}/{entry.name}")
            checkpoint("clean_version_removed")
    for entry in root.glob(f".*{LINK_TMP_SUFFIX}"):
        entry.unlink(missing_ok=True)
    marker = root / LEGACY_MARKER
    if (root / CURRENT).is_symlink() and ((root / MANIFEST).is_file() or marker.exists()):  # a migrated flat index
        marker.touch()  # finish the removal even if interrupted after the manifest is gone
        fsync_dir(root)
        if (root / MANIFEST).is_file():
            (root / MANIFEST).unlink()  # first: what is left is no longer mistaken for an index
            removed.append(MANIFEST)
            checkpoint("clean_legacy_manifest_removed")
        for name in LEGACY_ENTRIES:
            if (root / name).exists():
                _remove(root / name)
                removed.append(name)
        marker.unlink()
    if removed:
        logger.info("index %s: removed %s", root, ", ".join(removed))
    return removed


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _remove_unheld_scratch(path: Path) -> bool:
    """Remove a scratch folder that no live process holds (its build died); False when one does."""
    try:
        fd = os.open(path, _DIR_FLAGS)
    except FileNotFoundError:
        return True
    except OSError:  # not a folder (or a symlink): nobody's scratch
        _remove(path)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    try:
        shutil.rmtree(path, ignore_errors=True)
    finally:
        os.close(fd)
    return True


@contextmanager
def scratch_folder(root: str | Path) -> Iterator[Path]:
    """A folder for one build's scratch files (a ``--no-cache`` build's embedding cache), removed on leaving.

    It lives in DIR/versions/, not in the system's temporary folder, so that a build killed by SIGKILL or a power
    cut does not leave gigabytes there that nothing removes: the folder is flocked while its process lives, and the
    next build into DIR (`clean_stale`, and this function) removes every scratch folder no process holds. It is
    made before the build lock is taken (a build locks DIR only to write), hence a lock of its own."""
    _check_root(Path(root))
    versions = Path(root) / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    for entry in versions.glob(f"{SCRATCH_PREFIX}*"):
        _remove_unheld_scratch(entry)
    while True:
        path = versions / f"{SCRATCH_PREFIX}{new_build_id()}"
        path.mkdir()
        try:
            fd = os.open(path, _DIR_FLAGS)
        except FileNotFoundError:  # another build removed it before it was locked: make another
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.path.samestat(os.fstat(fd), os.stat(path)):  # still there now that it is held
                break
        except (BlockingIOError, FileNotFoundError):  # being removed by another build
            pass
        os.close(fd)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)  # releases the flock


class StaleVersionError(IndexError_):
    """DIR's current version is not the one a compaction started from: a build published meanwhile."""


@dataclass
class PendingBuild:
    """A version being written at ``path``; `publish` makes it current, leaving without it discards it."""

    root: Path
    build_id: str
    path: Path
    _lock_fd: int

    def publish(self, expect_current: str | None = None) -> Path:
        """Make this version current (durably and atomically); the published version's directory.

        ``expect_current``: the version this one was derived from (a compaction's). When `current` names
        another one, a build published it meanwhile and replacing it would lose it: `StaleVersionError`
        (checked under the build lock, so no build can publish between the check and the switch)."""
        checkpoint("publish_start")
        now = current_name(self.root)
        if expect_current is not None and now is not None and now != expect_current:
            raise StaleVersionError(stale_message(self.root, now, expect_current))
        fsync_tree(self.path)
        checkpoint("synced")
        final = self.root / VERSIONS / self.build_id
        os.rename(self.path, final)
        fsync_dir(final.parent)
        self.path = final
        checkpoint("renamed")
        old = now
        _replace_link(self.root, CURRENT, self.build_id)
        checkpoint("switched")
        if old and old != self.build_id and (self.root / VERSIONS / old).is_dir():
            _replace_link(self.root, PREVIOUS, old)
        checkpoint("previous_set")
        clean_stale(self.root)
        checkpoint("cleaned")
        self._release()
        logger.info("index %s: version %s is current", self.root, self.build_id)
        return final

    def abort(self) -> None:
        """Remove the unfinished version (a crash leaves it to the next build's `clean_stale`)."""
        if self.path.name.startswith(BUILDING_PREFIX):
            shutil.rmtree(self.path, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = -1

    def __enter__(self) -> PendingBuild:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._lock_fd >= 0:  # not published
            self.abort()


def stale_message(root: Path, now: str, based_on: str) -> str:
    return (f"index {root}: its current version is {now}, not {based_on}, which this compaction started from "
            f"(a build published {now} meanwhile); nothing was published and the writes stay in the log: reload "
            "(POST /admin/reload or SIGHUP) to serve the new version with the log replayed, then compact")


def check_not_building(root: str | Path) -> None:
    """Fail now, before the embedding, when another build holds DIR's lock (`begin_build` takes it later)."""
    lock = Path(root) / VERSIONS / LOCK_FILE
    if not lock.is_file():
        return
    fd = os.open(lock, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise IndexError_(f"another build is writing {root}; wait for it to finish or use another --out") from None
    finally:
        os.close(fd)  # drops the probe's lock at once


def _check_root(root: Path) -> None:
    """`IndexError_` unless a build may write versions/ in ``root`` (and remove what it finds there)."""
    if root.exists() and not root.is_dir():
        raise IndexError_(f"{root} exists and is not a directory; choose another --out")
    if root.resolve().parent.name == VERSIONS and (root / MANIFEST).is_file():
        raise IndexError_(f"{root} is a version inside an index directory; build into the index directory itself")
    if (root / CURRENT).exists() and not (root / CURRENT).is_symlink():
        raise IndexError_(f"{root / CURRENT} is not a symlink (a copied index?); choose another --out")
    from indexer.build_target import check_build_target  # it imports this module's names

    check_build_target(root)  # what clean_stale may remove must be prodsearch's own


def begin_build(root: str | Path) -> PendingBuild:
    """Lock DIR for a build, clean what earlier builds left, and create versions/.building-<id>/."""
    root = Path(root)
    _check_root(root)
    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(versions / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock_fd)
        raise IndexError_(f"another build is writing {root}; wait for it to finish or use another --out") from None
    try:
        clean_stale(root)
        build_id = new_build_id()
        path = versions / f"{BUILDING_PREFIX}{build_id}"
        path.mkdir()
        checkpoint("begun")
    except BaseException:
        os.close(lock_fd)
        raise
    return PendingBuild(root=root, build_id=build_id, path=path, _lock_fd=lock_fd)
