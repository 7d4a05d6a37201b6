"""The live service: acknowledged writes to the served index (log, then apply, then swap), and compaction.

One `LiveService` per app. A write is embedded first (outside any lock: encoders are the slow
part), then, under the write lock: appended to the write-ahead log and fsync'd, applied to the
live state, and published by one assignment of ``app.state.searcher`` (a request keeps the
Searcher it took, so it sees one snapshot). Only then is it acknowledged. The reloader publishes
through `publish`, so a reloaded or compacted version gets the log's later entries replayed on top.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from api.settings import Settings
from indexer.catalog import Product
from indexer.fetch import FetchPolicy
from indexer.live.compact import write_snapshot
from indexer.live.embed import EmbeddedProduct, ProductEmbedder, embed_entries, embedder_for_index
from indexer.live.log import CompactionMark, LogEntry, WriteLog, utc_now
from indexer.live.segment import LiveState, Snapshot
from indexer.loaded import load_index
from search.live import LiveSearcher, live_searcher
from search.searcher import Searcher

logger = logging.getLogger(__name__)

MAX_BATCH_LINES = 2000  # lines of one POST /products/batch (the body limit applies too)


class CompactionBusyError(RuntimeError):
    """A compaction is already running."""


@dataclass
class WriteResult:
    id: str
    seq: int
    op: str


def version_of(searcher: Searcher) -> str:
    return searcher.index.manifest.build_id


class LiveService:
    """Owns the write log and the live state of the served index directory."""

    def __init__(self, state: Any, settings: Settings):
        self._state = state  # the app's State: `searcher` is what requests read
        self.settings = settings
        self.log = WriteLog(Path(settings.index_dir))
        self.lock = threading.RLock()
        self.live: LiveState | None = None
        self.base: Searcher | None = None
        self._embedder: ProductEmbedder | None = None
        self._compacting = threading.Lock()
        self.last_compaction: CompactionMark | None = self.log.read_mark()
        self.last_compaction_error: str | None = None

    # -- publishing --------------------------------------------------------------------------
    def publish(self, searcher: Searcher) -> None:
        """Serve ``searcher`` (a freshly loaded index, or a live snapshot of ours) with the log replayed on top."""
        with self.lock:
            if isinstance(searcher, LiveSearcher):
                self._state.searcher = searcher
                return
            self.base, self.live = searcher, None
            entries = self.log.unapplied(version_of(searcher))
            if entries:
                start = time.perf_counter()
                self._apply(embed_entries(self.embedder, entries))
                logger.info("replayed %d write(s) from %s in %.2f s", len(entries), self.log.path,
                            time.perf_counter() - start)
            else:
                self._state.searcher = searcher

    def _apply(self, batch: Sequence[tuple[LogEntry, EmbeddedProduct | None]]) -> Snapshot:
        assert self.base is not None
        snapshot = self._ensure_live().apply(batch)
        self._state.searcher = live_searcher(self.base, snapshot)
        return snapshot

    # -- embedding ---------------------------------------------------------------------------
    @property
    def embedder(self) -> ProductEmbedder:
        if self._embedder is None:
            with self.lock:
                if self._embedder is None:
                    self._embedder = self._make_embedder()
        return self._embedder

    def _make_embedder(self) -> ProductEmbedder:
        searcher = self.base or self._state.searcher
        s = self.settings
        policy = FetchPolicy(allow_private_hosts=s.allow_private_hosts,
                             allowed_hosts=tuple(h.strip() for h in s.allowed_hosts.split(",") if h.strip()))
        return embedder_for_index(searcher.index.manifest, searcher.encoders, self.log.root,
                                  images_root=s.images_root, fetch=policy)

    # -- writes ------------------------------------------------------------------------------
    def write(self, items: Sequence[tuple[str, EmbeddedProduct | None]]) -> list[WriteResult]:
        """Log (fsync'd) and apply upserts (id, embedded product) and deletes (id, None); returns their seqs."""
        with self.lock:
            self.log.acquire()  # WriterLockedError when another process writes this directory
            seqs = self.log.next_seqs(len(items))
            now = utc_now()
            entries = [LogEntry(seq=seq, op="delete" if emb is None else "upsert", id=pid,
                                product=None if emb is None else emb.product.model_dump(),
                                photos=() if emb is None else emb.photos, at=now,
                                keep_photos=bool(emb is not None and emb.keep_photos))
                       for seq, (pid, emb) in zip(seqs, items, strict=True)]
            self.log.append(entries)
            self._apply([(e, emb) for e, (_, emb) in zip(entries, items, strict=True)])
            return [WriteResult(e.id, e.seq, e.op) for e in entries]

    def write_lines(self, items: Sequence[tuple[int, str, EmbeddedProduct | None]]) -> dict[int, WriteResult | str]:
        """A batch's good lines, in order, logged and applied together; a delete of an id that does not
        exist (at that point of the batch) is that line's error."""
        with self.lock:
            present: dict[str, bool] = {}
            ok: list[tuple[int, str, EmbeddedProduct | None]] = []
            out: dict[int, WriteResult | str] = {}
            for n, pid, emb in items:
                exists = present[pid] if pid in present else self.snapshot_product(pid) is not None
                if emb is None and not exists:
                    out[n] = f"no product with id {pid[:200]!r}"
                    continue
                present[pid] = emb is not None
                ok.append((n, pid, emb))
            if ok:
                for (n, _, _), result in zip(ok, self.write([(pid, emb) for _, pid, emb in ok]), strict=True):
                    out[n] = result
            return out

    def patch(self, product_id: str, changes: dict[str, Any], validate: Any) -> WriteResult:
        """PATCH: the product with ``changes`` (price, currency, attributes merged; null removes), its vectors
        kept when its embedded texts are unchanged (no encoder runs), its photos kept always."""
        from search.searcher import ProductNotFoundError

        with self.lock:
            current = self.snapshot_product(product_id)
            if current is None:
                raise ProductNotFoundError(product_id)
            fields = current.model_dump()
            fields.update({k: v for k, v in changes.items() if k != "attributes"})
            if "attributes" in changes:
                attrs = changes["attributes"]
                if isinstance(attrs, dict):
                    merged = dict(fields["attributes"])
                    for key, value in attrs.items():
                        if value is None:
                            merged.pop(str(key), None)
                        else:
                            merged[str(key)] = value
                    attrs = merged
                fields["attributes"] = attrs
            product = validate(fields, product_id)
            embedder = self.embedder
            if embedder.texts(product) == embedder.texts(current):
                snapshot = self._ensure_live().snapshot
                row = snapshot.row_of[product_id]
                dense, caption = embedder.texts(product)
                embedded: EmbeddedProduct | Any = EmbeddedProduct(
                    product, dense, caption, snapshot.row_vectors("text", row)[0],
                    snapshot.row_vectors("clip_text", row)[0], np.zeros((0, 1), np.float32), (), None, keep_photos=True)
            else:
                embedded = embedder.embed([product], keep_photos=[True])[0]
            return self.write([(product_id, embedded)])[0]

    def _ensure_live(self) -> LiveState:
        if self.live is None:
            assert self.base is not None
            self.live = LiveState(self.base.index)
        return self.live

    def snapshot_count(self) -> int:
        """Live products of the served snapshot."""
        return len(self._state.searcher.index.store.row_of)

    def snapshot_product(self, product_id: str) -> Product | None:
        searcher: Searcher = self._state.searcher
        row = searcher.index.store.row_of.get(product_id)
        return None if row is None else searcher.index.store.products[row]

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return {"pending_log_entries": self.log.pending,
                "last_compaction": self.last_compaction.at if self.last_compaction else None,
                "compacting": self._compacting.locked()}

    # -- compaction --------------------------------------------------------------------------
    def compact(self, reloader: Any) -> dict[str, Any]:
        """Write the live state as a new index version, switch to it, keep the writes that came meanwhile."""
        if not self._compacting.acquire(blocking=False):
            raise CompactionBusyError("a compaction is already running")
        try:
            start = time.perf_counter()
            with self.lock:
                self.log.acquire()
                snapshot = None if self.live is None or self.base is None else self.live.snapshot
                base = self.base or self._state.searcher
            if snapshot is None:
                return {"status": "nothing to compact", "version": version_of(base), "seconds": 0.0}
            summary = write_snapshot(snapshot, self.log.root, base.encoders)
            index = load_index(self.log.root)
            fresh = Searcher(index, base.encoders, base.config)
            with self.lock:
                seconds = time.perf_counter() - start
                self.log.compacted(index.manifest.build_id, snapshot.seq, seconds)
                self.last_compaction = self.log.read_mark()
                assert self.live is not None
                later = [(e, m) for e, m in self.live.entries if e.seq > snapshot.seq]
                self.base, self.live = fresh, None
                if later:
                    self._apply(later)
                    reloader.install(self._state.searcher)
                else:
                    reloader.install(fresh)
            logger.info("compacted %s into version %s (%d products, %d later writes kept) in %.1f s",
                        self.log.root, index.manifest.build_id, summary.products, len(later), seconds)
            return {"status": "compacted", "version": index.manifest.build_id, "products": summary.products,
                    "kept_writes": len(later), "seconds": round(seconds, 3)}
        except Exception as exc:
            self.last_compaction_error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._compacting.release()

    def close(self) -> None:
        self.log.close()
