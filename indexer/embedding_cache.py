"""A content-addressed, on-disk embedding cache: (model identity, preprocessing, content) -> vector.

One SQLite file per model under the cache directory (default ``<index dir>/cache/``), plus one
file of photo thumbnails keyed by the photo's bytes and one of photo files' digests keyed by
(path, size, mtime, inode, ctime), so a rebuild of an unchanged catalog embeds, decodes and reads nothing.
Every batch is committed as soon as it is embedded (WAL mode), so a build killed mid-embedding
resumes from what it had done. The model identity includes a
fingerprint of the weights, so retrained weights under the same name never hit old vectors.

It is only a cache: a damaged file (not a database, a malformed page) is moved aside with a warning and
replaced by an empty one, so the build recomputes what it held instead of failing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

CACHE_DIR_NAME = "cache"
THUMBNAILS_FILE = "thumbnails.sqlite"
FILE_DIGESTS_FILE = "files.sqlite"
_LOOKUP_CHUNK = 500
_SCHEMA = "CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, value BLOB NOT NULL)"


def encoder_identity(encoder: Any) -> str:
    """The model identity a vector depends on: the encoder's `cache_identity` (name + weights
    fingerprint) where it has one, else its name (the name of an open_clip model already carries it)."""
    return str(getattr(encoder, "cache_identity", None) or encoder.name)


def preprocessing_id(encoder: Any, kind: str) -> str:
    """The preprocessing a vector depends on besides the weights (tokenizer length, image transform)."""
    return str(getattr(encoder, "preprocessing", {}).get(kind, "")) if hasattr(encoder, "preprocessing") else ""


def photo_hash(data: bytes) -> str:
    """The content address of a photo: sha256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def _file_name(identity: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", identity)[:60]
    return f"{readable}-{hashlib.sha256(identity.encode()).hexdigest()[:12]}.sqlite"


# SQLite's result codes for a damaged file: SQLITE_CORRUPT ("database disk image is malformed"), SQLITE_NOTADB.
_DAMAGED_CODES = (11, 26)


def is_damaged(exc: sqlite3.Error) -> bool:
    """True for a damaged file, as opposed to a busy, locked or read-only one (those are real errors)."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in _DAMAGED_CODES
    return "malformed" in str(exc) or "not a database" in str(exc)


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _aside_name(path: Path) -> Path:
    """``<name>.corrupt-<local time>``, made unique if a file of that name exists."""
    base = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
    aside, n = base, 1
    while aside.exists():
        n += 1
        aside = base.with_name(f"{base.name}-{n}")
    return aside


class _KeyValueFile:
    """A SQLite key -> blob table, safe to share between the build's threads.

    A damaged file is moved aside (`_set_aside`) and an empty one takes its place: reads then miss
    and writes go to the new file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        with self._lock:
            try:
                self._open()
            except sqlite3.DatabaseError as exc:
                if not is_damaged(exc):
                    raise
                self._set_aside(exc)

    def _open(self) -> None:
        self._con = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        self._opened = _file_id(self.path)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(_SCHEMA)
        self._con.commit()

    def _set_aside(self, exc: sqlite3.Error) -> None:
        """Move the damaged file (with its -wal and -shm) to ``<name>.corrupt-<time>`` and open an empty one.

        Unless another process sharing the cache did so first: then the file at the path is no longer
        the one opened, and it is only reopened."""
        with contextlib.suppress(sqlite3.Error):
            self._con.close()
        if self._opened is not None and _file_id(self.path) == self._opened:
            aside = _aside_name(self.path)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
            logger.warning("embedding cache file %s is damaged (%s): moved aside to %s; what it held is computed "
                           "again (delete the moved file once you no longer need it)", self.path, exc, aside.name)
        else:
            logger.warning("embedding cache file %s is damaged (%s) and was replaced meanwhile: reopening it",
                           self.path, exc)
        self._open()

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """The entries of ``keys`` that are present; none when the file turns out to be damaged."""
        found: dict[bytes, bytes] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            try:
                for start in range(0, len(unique), _LOOKUP_CHUNK):
                    chunk = unique[start:start + _LOOKUP_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    found.update(self._con.execute(f"SELECT key, value FROM entries WHERE key IN ({marks})", chunk))
            except sqlite3.DatabaseError as exc:
                if not is_damaged(exc):
                    raise
                self._set_aside(exc)
                return {}  # what was read before the damage showed is not trusted either
        return found

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Insert and commit at once: what is committed survives a crash."""
        items = list(items)
        with self._lock:
            try:
                self._put(items)
            except sqlite3.DatabaseError as exc:
                if not is_damaged(exc):
                    raise
                self._set_aside(exc)
                self._put(items)  # into the new, empty file

    def _put(self, items: list[tuple[bytes, bytes]]) -> None:
        try:
            self._con.executemany("INSERT OR REPLACE INTO entries(key, value) VALUES (?, ?)", items)
            self._con.commit()
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._con.rollback()
            raise

    def close(self) -> None:
        """Idempotent."""
        with self._lock:
            self._con.close()


# Encoders return L2-normalised rows (`indexer.encoders`): a stored norm further than this from 1 is damage.
NORM_TOLERANCE = 1e-3


def usable_rows(vectors: np.ndarray) -> np.ndarray:
    """Per row: finite and unit length (or all zero, as `l2_normalize` leaves a zero row), as an encoder
    wrote it. A flipped exponent bit (inf, or a norm far from 1) fails; SQLite checksums nothing."""
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    return np.isfinite(vectors).all(axis=1) & ((np.abs(norms - 1.0) <= NORM_TOLERANCE) | (norms == 0.0))


class VectorCache:
    """Vectors of one model; keys are hashes of (preprocessing id, kind, content)."""

    def __init__(self, directory: Path, encoder: Any):
        self.identity = encoder_identity(encoder)
        self.dim = int(encoder.dim)
        self._encoder = encoder
        self._file = _KeyValueFile(Path(directory) / _file_name(self.identity))

    def key(self, kind: str, content: str) -> bytes:
        """``kind`` is ``text`` (content = the exact text) or ``photo`` (content = its bytes' sha256)."""
        prep = preprocessing_id(self._encoder, kind)
        return hashlib.blake2b(f"{self.identity}\0{prep}\0{kind}\0{content}".encode(), digest_size=20).digest()

    def get_many(self, kind: str, contents: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of ``contents``; a damaged one (`usable_rows`) is a miss, embedded again."""
        keys = {self.key(kind, c): c for c in contents}
        found = [(keys[key], np.frombuffer(blob, dtype=np.float32)) for key, blob in self._file.get_many(list(keys)).items()]
        found = [(content, vec) for content, vec in found if vec.shape == (self.dim,)]
        if not found:
            return {}
        usable = usable_rows(np.stack([vec for _, vec in found]))
        if not usable.all():
            logger.warning("embedding cache file %s: %d cached %s vector(s) of %s are damaged (not finite or not unit "
                           "length); embedding them again", self._file.path, int((~usable).sum()), kind, self.identity)
        return {content: vec for (content, vec), ok in zip(found, usable, strict=True) if ok}

    def put_many(self, kind: str, contents: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._file.put_many((self.key(kind, c), v.tobytes()) for c, v in zip(contents, vectors, strict=True))

    def close(self) -> None:
        self._file.close()


class ThumbnailCache:
    """JPEG thumbnails by photo hash (they depend on the photo's bytes and the thumbnail settings only)."""

    def __init__(self, directory: Path, settings: str):
        self.settings = settings
        self._file = _KeyValueFile(Path(directory) / THUMBNAILS_FILE)

    def _key(self, digest: str) -> bytes:
        return hashlib.blake2b(f"{self.settings}\0{digest}".encode(), digest_size=20).digest()

    def has_many(self, digests: Sequence[str]) -> set[str]:
        keys = {self._key(d): d for d in digests}
        return {keys[k] for k in self._file.get_many(list(keys))}

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        self._file.put_many((self._key(d), data) for d, data in items)

    def get_many(self, digests: Sequence[str]) -> dict[str, bytes]:
        """The cached thumbnails of ``digests`` (live writes: a replayed upsert reads no photo)."""
        keys = {self._key(d): d for d in digests}
        return {keys[k]: bytes(v) for k, v in self._file.get_many(list(keys)).items()}

    def iter_thumbnails(self, rows: Iterable[tuple[int, str]],
                        recompute: Callable[[str], bytes | None] | None = None) -> Iterator[tuple[int, bytes]]:
        """``(row, thumbnail bytes)`` for ``(row, photo hash)`` pairs, read in chunks (streamed, not held);
        the file is closed once they are all read, so the cache directory can be moved. A thumbnail the
        file no longer has (it was damaged and moved aside mid-build) comes from ``recompute(photo hash)``."""
        batch: list[tuple[int, str]] = []
        for pair in rows:
            batch.append(pair)
            if len(batch) >= _LOOKUP_CHUNK:
                yield from self._read(batch, recompute)
                batch = []
        yield from self._read(batch, recompute)
        self.close()

    def _read(self, batch: list[tuple[int, str]],
              recompute: Callable[[str], bytes | None] | None) -> Iterator[tuple[int, bytes]]:
        found = self._file.get_many([self._key(d) for _, d in batch])
        for row, digest in batch:
            data = found.get(self._key(digest))
            if data is None and recompute is not None:
                data = recompute(digest)
                if data is not None:
                    self.put_many([(digest, data)])
            if data is not None:
                yield row, bytes(data)

    def close(self) -> None:
        self._file.close()


class FileDigests:
    """Photo file -> sha256 of its bytes, keyed by (resolved path, size, mtime, inode, ctime), so a rebuild
    need not read unchanged photo files (the check `git` relies on; `PhotoPipeline._stat_key`)."""

    def __init__(self, directory: Path):
        self._file = _KeyValueFile(Path(directory) / FILE_DIGESTS_FILE)

    @staticmethod
    def _key(stat_key: str) -> bytes:
        return hashlib.blake2b(stat_key.encode(), digest_size=20).digest()

    def get_many(self, stat_keys: Sequence[str]) -> dict[str, str]:
        keys = {self._key(k): k for k in stat_keys}
        return {keys[k]: bytes(v).decode() for k, v in self._file.get_many(list(keys)).items()}

    def put_many(self, items: Sequence[tuple[str, str]]) -> None:
        self._file.put_many((self._key(k), digest.encode()) for k, digest in items)

    def close(self) -> None:
        self._file.close()


class EmbeddingCache:
    """The cache directory: one `VectorCache` per model, opened on first use, and the thumbnails."""

    def __init__(self, directory: Path, thumbnail_settings: str):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._vectors: dict[str, VectorCache] = {}
        self.thumbnails = ThumbnailCache(self.directory, thumbnail_settings)
        self.files = FileDigests(self.directory)

    def vectors(self, encoder: Any) -> VectorCache:
        identity = encoder_identity(encoder)
        if identity not in self._vectors:
            self._vectors[identity] = VectorCache(self.directory, encoder)
        return self._vectors[identity]

    def close_vectors(self) -> None:
        for cache in self._vectors.values():
            cache.close()
        self._vectors.clear()
        self.files.close()

    def close(self) -> None:
        self.close_vectors()
        self.thumbnails.close()
