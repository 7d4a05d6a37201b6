"""A content-addressed, on-disk embedding cache: (model identity, preprocessing, content) -> vector.

One SQLite file per model under the cache directory (default ``<index dir>/cache/``), plus one
file of photo thumbnails keyed by the photo's bytes and one of photo files' digests keyed by
(path, size, mtime, inode), so a rebuild of an unchanged catalog embeds, decodes and reads nothing.
Every batch is committed as soon as it is embedded (WAL mode), so a build killed mid-embedding
resumes from what it had done. The model identity includes a
fingerprint of the weights, so retrained weights under the same name never hit old vectors.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
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


class _KeyValueFile:
    """A SQLite key -> blob table, safe to share between the build's threads."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._con = sqlite3.connect(path, check_same_thread=False, timeout=60)
        self._lock = threading.Lock()
        with self._lock:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute(_SCHEMA)
            self._con.commit()

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), _LOOKUP_CHUNK):
                chunk = unique[start:start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(self._con.execute(f"SELECT key, value FROM entries WHERE key IN ({marks})", chunk))
        return found

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Insert and commit at once: what is committed survives a crash."""
        with self._lock:
            self._con.executemany("INSERT OR REPLACE INTO entries(key, value) VALUES (?, ?)", items)
            self._con.commit()

    def close(self) -> None:
        """Idempotent."""
        with self._lock:
            self._con.close()


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
        keys = {self.key(kind, c): c for c in contents}
        found = self._file.get_many(list(keys))
        out = {}
        for key, blob in found.items():
            vec = np.frombuffer(blob, dtype=np.float32)
            if vec.shape == (self.dim,):
                out[keys[key]] = vec
        return out

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

    def iter_thumbnails(self, rows: Iterable[tuple[int, str]]) -> Iterator[tuple[int, bytes]]:
        """``(row, thumbnail bytes)`` for ``(row, photo hash)`` pairs, read in chunks (streamed, not held);
        the file is closed once they are all read, so the cache directory can be moved."""
        batch: list[tuple[int, str]] = []
        for pair in rows:
            batch.append(pair)
            if len(batch) >= _LOOKUP_CHUNK:
                yield from self._read(batch)
                batch = []
        yield from self._read(batch)
        self.close()

    def _read(self, batch: list[tuple[int, str]]) -> Iterator[tuple[int, bytes]]:
        found = self._file.get_many([self._key(d) for _, d in batch])
        for row, digest in batch:
            data = found.get(self._key(digest))
            if data is not None:
                yield row, bytes(data)

    def close(self) -> None:
        self._file.close()


class FileDigests:
    """Photo file -> sha256 of its bytes, keyed by (resolved path, size, mtime, inode), so a rebuild
    need not read unchanged photo files (the check `make` and `git` rely on)."""

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
