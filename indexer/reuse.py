"""Parts of an index version a rebuild would write again byte for byte, copied from the current version.

Each reusable part is named by a digest of everything that decides its bytes, recorded in the manifest
(`Manifest.reuse_digests`): for the BM25 files, the lexical code (`indexer/lexical.py` and the project
modules it uses), bm25s's version and every product text in row order; for the product store, the
store code, the products' JSON and the photo (by content hash) whose thumbnail each row shows. A
rebuild with the same digest copies the previous version's files, checking each against the size and
sha256 the previous manifest recorded while copying; a missing, changed or unrecorded file, or another
digest, means the part is written from scratch. Files are copied, not hard-linked: versions share no inode.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType

from indexer.manifest import Manifest

logger = logging.getLogger(__name__)

PROJECT_PACKAGES = ("indexer", "search")
_CHUNK = 1 << 20


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def code_digest(module: ModuleType) -> str:
    """sha256 of ``module``'s source and of every project module it references (imported modules, and the
    modules of the functions and classes it imported)."""
    names = {module.__name__}
    for value in vars(module).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        if isinstance(name, str) and name.split(".")[0] in PROJECT_PACKAGES and name in sys.modules:
            names.add(name)
    digest = hashlib.sha256()
    for name in sorted(names):
        path = getattr(sys.modules[name], "__file__", None)
        if path:
            digest.update(name.encode() + b"\0" + Path(path).read_bytes())
    return digest.hexdigest()


def _digest_of(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little") + data)  # length-prefixed: no two lists collide
    return digest.hexdigest()


def lexical_digest(texts: Sequence[str]) -> str:
    """What decides the BM25 files' bytes."""
    import indexer.lexical

    return _digest_of(["lexical", code_digest(indexer.lexical), _version("bm25s"), _version("numpy"), *texts])


def store_digest(docs: Iterable[str], thumbnails: Sequence[tuple[int, str]], thumbnail_settings: str) -> str:
    """What decides the product store's bytes: products' JSON, (row, photo hash) of each thumbnail."""
    import indexer.store

    return _digest_of(["store", code_digest(indexer.store), thumbnail_settings, _version("pillow"),
                       sqlite_version(), *docs, *(f"{row}:{photo}" for row, photo in thumbnails)])


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def _copy_checked(source: Path, dest: Path, size: int, sha256: str) -> bool:
    """Copy ``source`` to ``dest`` hashing as it goes; False (``dest`` removed) when it is not the recorded file."""
    digest, copied = hashlib.sha256(), 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(source, "rb") as src, open(dest, "wb") as out:
            while block := src.read(_CHUNK):
                digest.update(block)
                out.write(block)
                copied += len(block)
        shutil.copystat(source, dest)
    except OSError as exc:
        logger.info("cannot reuse %s (%s)", source, exc)
        dest.unlink(missing_ok=True)
        return False
    if copied != size or digest.hexdigest() != sha256:
        dest.unlink(missing_ok=True)
        return False
    return True


def reuse_part(previous: tuple[Path, Manifest] | None, part: str, digest: str, rel: str, dest_dir: Path) -> bool:
    """Copy the previous version's ``rel`` (a file, or a folder and everything the manifest lists under it)
    into ``dest_dir`` when its recorded digest for ``part`` is ``digest`` and every file checks out;
    False, leaving nothing behind, otherwise."""
    if previous is None:
        return False
    directory, manifest = previous
    if manifest.reuse_digests.get(part) != digest:
        return False
    records = {name: r for name, r in manifest.files.items() if name == rel or name.startswith(rel + "/")}
    if not records:
        return False
    for name, record in sorted(records.items()):
        if not _copy_checked(directory / name, dest_dir / name, record.size, record.sha256):
            logger.warning("previous %s in %s is missing or damaged (%s): writing it again", part, directory, name)
            target = dest_dir / rel
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            return False
    logger.info("%s: reused from %s (same content digest)", part, directory)
    return True
