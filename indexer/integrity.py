"""An index version's integrity: each file's size and sha256 recorded in the manifest at build time,
checked on load together with the counts, so a damaged index fails at load with one line naming the
file ("... rebuild the index") instead of a traceback, or an IndexError at query time.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np

from indexer.catalog import file_sha256
from indexer.errors import CorruptIndexError
from indexer.manifest import MANIFEST_NAME, FileRecord, Manifest

logger = logging.getLogger(__name__)

T = TypeVar("T")
# What a loader may raise on a damaged file (faiss: RuntimeError; sqlite3; numpy: ValueError/EOFError; bm25s: ...).
LOAD_ERRORS = (OSError, RuntimeError, ValueError, EOFError, KeyError, IndexError, TypeError, sqlite3.Error)


def corrupt(directory: Path, rel: str, problem: str) -> CorruptIndexError:
    """The one-line error for a damaged part of an index version."""
    problem = " ".join(problem.split())
    if len(problem) > 300:
        problem = problem[:300] + "..."
    return CorruptIndexError(f"index {directory}: {rel} {problem}; rebuild the index")


def _hash_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def record_files(directory: Path) -> dict[str, FileRecord]:
    """Size and sha256 of every file under ``directory`` but the manifest, by POSIX relative path."""
    paths = sorted(p for p in Path(directory).rglob("*") if p.is_file() and p.name != MANIFEST_NAME)
    with ThreadPoolExecutor(_hash_workers()) as pool:  # hashlib releases the GIL on large blocks
        digests = list(pool.map(file_sha256, paths))
    return {p.relative_to(directory).as_posix(): FileRecord(size=p.stat().st_size, sha256=d)
            for p, d in zip(paths, digests, strict=True)}


def records_files(manifest: Manifest) -> bool:
    """Whether the manifest's version was built by a version that lists its files: ``files`` and ``build_id``
    came in together, so a manifest with either is held to its list; one with neither is from before."""
    return "files" in manifest.model_fields_set or bool(manifest.build_id)


def _listed(rel: str, files: Collection[str]) -> bool:
    """``rel`` is listed; a folder (``lexical/``) is listed when a file in it is."""
    return any(name.startswith(rel) for name in files) if rel.endswith("/") else rel in files


def verify_files(directory: Path, manifest: Manifest, *, checksums: bool = True, required: Iterable[str] = ()) -> None:
    """Every file the manifest lists is present with its size (and sha256 when ``checksums``).

    The list itself is checked first: an emptied or cut list would otherwise turn the checks off. It must
    name each of ``required`` (files, or folders ending in ``/``), and it may be empty only in a manifest
    from before files were listed (`records_files`)."""
    if not records_files(manifest):
        logger.info("index %s records no file checksums (built by an older version); checking counts only", directory)
        return
    if not manifest.files:
        raise corrupt(directory, MANIFEST_NAME, "lists no files, but a version lists each of its files (edited or damaged)")
    missing = [rel for rel in required if not _listed(rel, manifest.files)]
    if missing:
        raise corrupt(directory, MANIFEST_NAME, f"does not list {', '.join(missing)} among the version's files "
                                                "(edited or damaged)")
    for rel, record in sorted(manifest.files.items()):
        path = directory / rel
        if not path.is_file():
            top = rel.split("/", 1)[0]
            if "/" in rel and not (directory / top).is_dir():
                raise corrupt(directory, f"{top}/", "folder is missing")
            raise corrupt(directory, rel, "is missing")
        size = path.stat().st_size
        if size != record.size:
            raise corrupt(directory, rel, f"has {size} bytes, the manifest says {record.size} (truncated or changed)")
    if not checksums:
        return
    names = sorted(manifest.files)
    with ThreadPoolExecutor(_hash_workers()) as pool:
        digests = list(pool.map(lambda rel: file_sha256(directory / rel), names))
    for rel, digest in zip(names, digests, strict=True):
        if digest != manifest.files[rel].sha256:
            raise corrupt(directory, rel, "does not match its sha256 in the manifest (damaged or changed)")


def load_part(directory: Path, rel: str, loader: Callable[[Path], T]) -> T:
    """``loader(directory / rel)``, with a missing or unreadable part reported as `CorruptIndexError`."""
    path = directory / rel
    if not path.exists():
        raise corrupt(directory, rel, "is missing")
    try:
        return loader(path)
    except CorruptIndexError:
        raise
    except LOAD_ERRORS as exc:
        first = (str(exc).strip().splitlines() or [""])[-1]
        raise corrupt(directory, rel, f"cannot be read ({type(exc).__name__}: {first})") from exc


def check_counts(directory: Path, manifest: Manifest, *, store: tuple[str, int], per_product: dict[str, int],
                 per_image: dict[str, int], image_rows: tuple[str, np.ndarray]) -> None:
    """Counts agree with each other and with the manifest, and every photo row names a product.

    ``store``: (file, products in it); ``per_product`` / ``per_image``: file -> rows it holds, which must
    equal the number of products / photos; ``image_rows``: (file, product row of each photo).
    """
    store_file, n = store
    expected = manifest.counts.get("products")
    if expected is not None and n != expected:
        raise corrupt(directory, store_file, f"holds {n} products, the manifest says {expected}")
    for rel, held in per_product.items():
        if held != n:
            raise corrupt(directory, rel, f"holds {held} rows for {n} products")
    rows_file, rows = image_rows
    if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
        raise corrupt(directory, rows_file, f"has dtype {rows.dtype} and shape {rows.shape}, expected 1-D integers")
    images = manifest.counts.get("images", len(rows))
    if len(rows) != images:
        raise corrupt(directory, rows_file, f"lists {len(rows)} photos, the manifest says {images}")
    for rel, count in per_image.items():
        if count != len(rows):
            raise corrupt(directory, rel, f"holds {count} photos, {rows_file} lists {len(rows)}")
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        raise corrupt(directory, rows_file, f"has product rows in [{rows.min()}, {rows.max()}], outside [0, {n})")
