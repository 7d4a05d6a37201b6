"""The write-ahead log of live writes, in the index directory (beside ``versions/``).

    DIR/live/
      wal.jsonl        one JSON object per acknowledged write, appended and fsync'd before the ack
      writer.lock      flock held by the one process that writes (a server, or `index update`)
      compacted.json   {"version", "seq"}: the version a compaction wrote and the last entry it holds
      uploads/         photos uploaded with a write, named by their sha256 (kept for compaction and rebuilds)

Each entry is a whole product (a PATCH is logged as the product it results in) or a delete, so
replaying entries onto a state that already holds them changes nothing: that is what makes a
crash between a compaction's publish and its log trim harmless. A torn last line (the process died
mid-append, before the ack) is ignored and cut off when the log is next opened for writing.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from indexer.errors import CorruptIndexError, IndexError_
from indexer.index_dir import fsync_dir

logger = logging.getLogger(__name__)

LIVE_DIR = "live"
LOG_FILE = "wal.jsonl"
LOCK_FILE = "writer.lock"
COMPACTED_FILE = "compacted.json"
UPLOADS_DIR = "uploads"

Op = Literal["upsert", "delete"]


class WriterLockedError(IndexError_):
    """Another process holds the index directory's writer lock."""


@dataclass(frozen=True)
class LogEntry:
    seq: int
    op: Op
    id: str
    product: dict[str, Any] | None = None  # the whole product (upsert)
    photos: tuple[str, ...] = ()  # sha256 of each usable photo, in order: the embedding cache's keys
    at: str = ""
    keep_photos: bool = False  # a PATCH: the photos (vectors, thumbnail) stay those of the product's current row

    def to_json(self) -> str:
        row: dict[str, Any] = {"seq": self.seq, "op": self.op, "id": self.id, "at": self.at}
        if self.op == "upsert":
            row["product"] = self.product
            row["photos"] = list(self.photos)
            if self.keep_photos:
                row["keep_photos"] = True
        return json.dumps(row, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> LogEntry:
        row = json.loads(line)
        if not isinstance(row, dict) or row.get("op") not in ("upsert", "delete") or not isinstance(row.get("seq"), int):
            raise ValueError("not a log entry")
        if row["op"] == "upsert" and not isinstance(row.get("product"), dict):
            raise ValueError("an upsert without a product")
        return cls(seq=row["seq"], op=row["op"], id=str(row["id"]), product=row.get("product"),
                   photos=tuple(row.get("photos") or ()), at=str(row.get("at", "")),
                   keep_photos=bool(row.get("keep_photos", False)))


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class CompactionMark:
    version: str
    seq: int
    at: str = ""
    seconds: float = 0.0
    total_len: int | None = None  # the version's total BM25 document length (spares tokenising it again)


@dataclass
class WriteLog:
    """The log of one index directory. Reading needs nothing; appending needs `acquire` first."""

    root: Path
    _lock_fd: int = -1
    _fh: Any = None
    _last_seq: int = 0
    _entries: int = field(default=0)

    @property
    def directory(self) -> Path:
        return Path(self.root) / LIVE_DIR

    @property
    def path(self) -> Path:
        return self.directory / LOG_FILE

    @property
    def uploads(self) -> Path:
        return self.directory / UPLOADS_DIR

    @property
    def holds_lock(self) -> bool:
        return self._lock_fd >= 0

    def read(self) -> list[LogEntry]:
        """Every complete entry, oldest first; `CorruptIndexError` for a bad line that is not the last."""
        if not self.path.is_file():
            return []
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        entries: list[LogEntry] = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                entries.append(LogEntry.from_json(raw.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as exc:
                if number == len(lines):  # the torn tail of a write that was never acknowledged
                    logger.warning("%s: ignoring an incomplete last line (a write interrupted before its ack)", self.path)
                    continue
                raise CorruptIndexError(f"{self.path}: line {number} is not a log entry ({exc}); "
                                        "fix or remove the line (the writes after it are kept)") from exc
        if not self.holds_lock:
            self._entries = len(entries)
        return entries

    def read_mark(self) -> CompactionMark | None:
        path = self.directory / COMPACTED_FILE
        if not path.is_file():
            return None
        try:
            row = json.loads(path.read_text())
            total_len = row.get("total_len")
            return CompactionMark(version=str(row["version"]), seq=int(row["seq"]), at=str(row.get("at", "")),
                                  seconds=float(row.get("seconds", 0.0)),
                                  total_len=int(total_len) if isinstance(total_len, int) else None)
        except (ValueError, KeyError, TypeError):
            logger.warning("%s is unreadable; every log entry will be replayed", path)
            return None

    def unapplied(self, build_id: str) -> list[LogEntry]:
        """The entries an index version does not hold: those after the compaction that wrote it, else all."""
        entries = self.read()
        mark = self.read_mark()
        held = mark.seq if mark is not None and mark.version == build_id else 0
        return [e for e in entries if e.seq > held]

    def acquire(self) -> None:
        """Become the directory's writer (non-blocking): `WriterLockedError` when another process is."""
        if self.holds_lock:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WriterLockedError(f"another process writes {self.root} (it holds {self.directory / LOCK_FILE}): "
                                    "send writes to the server that serves it, or stop that server") from None
        self._lock_fd = fd
        self._cut_torn_tail()
        entries = self.read()
        mark = self.read_mark()
        self._last_seq = max([e.seq for e in entries] + [mark.seq if mark else 0])
        self._entries = len(entries)
        self._fh = open(self.path, "ab")  # noqa: SIM115 (held for the process: appends)
        fsync_dir(self.directory)

    def _cut_torn_tail(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as fh:
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            logger.warning("%s: cut an incomplete last line (%d bytes)", self.path, len(data) - keep)

    def next_seqs(self, n: int) -> list[int]:
        return list(range(self._last_seq + 1, self._last_seq + 1 + n))

    def append(self, entries: list[LogEntry]) -> None:
        """Write ``entries`` and fsync: once this returns they survive a crash (the ack may follow)."""
        if not self.holds_lock:
            raise IndexError_("the write log is not held by this process; call acquire() first")
        if not entries:
            return
        self._fh.write("".join(e.to_json() + "\n" for e in entries).encode("utf-8"))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._last_seq = max(self._last_seq, entries[-1].seq)
        self._entries += len(entries)

    @property
    def pending(self) -> int:
        """Entries in the log (those a compaction has not yet folded into a version)."""
        return self._entries

    @property
    def size_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def compacted(self, version: str, seq: int, seconds: float, total_len: int | None = None) -> None:
        """Record that ``version`` holds every entry up to ``seq``, then drop those entries from the log."""
        mark = self.directory / COMPACTED_FILE
        tmp = mark.with_suffix(".tmp")
        row: dict[str, Any] = {"version": version, "seq": seq, "at": utc_now(), "seconds": round(seconds, 3)}
        if total_len is not None:
            row["total_len"] = int(total_len)
        tmp.write_text(json.dumps(row))
        _fsync_file(tmp)
        os.replace(tmp, mark)
        fsync_dir(self.directory)
        keep = [e for e in self.read() if e.seq > seq]
        tmp_log = self.path.with_suffix(".tmp")
        tmp_log.write_bytes("".join(e.to_json() + "\n" for e in keep).encode("utf-8"))
        _fsync_file(tmp_log)
        if self._fh is not None:
            self._fh.close()
        os.replace(tmp_log, self.path)
        fsync_dir(self.directory)
        self._fh = open(self.path, "ab")  # noqa: SIM115 (held for the process: appends)
        self._entries = len(keep)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
