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

from api.reload import close_replaced, close_when_unused
from api.settings import Settings
from indexer.catalog import Product
from indexer.fetch import FetchPolicy
from indexer.index_dir import VERSIONS, StaleVersionError, current_name
from indexer.live.compact import compacted_total_len, write_snapshot
from indexer.live.embed import EmbeddedProduct, ProductEmbedder, embed_entries, embedder_for_index
from indexer.live.embed_worker import EmbeddingWorker, worker_encoders, worker_factory
from indexer.live.log import CompactionMark, LogEntry, WriteLog, utc_now
from indexer.live.policy import RETRY_AFTER_FAILURE_S, CompactionPolicy
from indexer.live.segment import LiveState, Snapshot
from indexer.loaded import load_index
from search.live import LiveSearcher, live_searcher
from search.searcher import Searcher

logger = logging.getLogger(__name__)

MAX_BATCH_LINES = 2000  # lines of one POST /products/batch (the body limit applies too)


def policy_from_settings(settings: Settings) -> CompactionPolicy:
    """The background compaction's thresholds from the settings (PRODSEARCH_COMPACT_*, `serve --compact-*`)."""
    return CompactionPolicy(max_entries=settings.compact_max_entries, max_log_mb=settings.compact_max_log_mb,
                            max_age_s=settings.compact_max_age_s, check_s=settings.compact_check_s,
                            enabled=settings.compact_auto)


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
        self.worker: EmbeddingWorker | None = None  # the low-priority embedding process (`live_embed_worker`)
        self._compacting = threading.Lock()
        self.last_compaction: CompactionMark | None = self.log.read_mark()
        self.last_compaction_error: str | None = None
        self.last_compaction_error_at: str | None = None
        self.policy = policy_from_settings(settings)
        self._pending_since: float | None = None  # monotonic time of the oldest write not yet compacted
        self._failed_at: float | None = None
        self._stop = threading.Event()
        self._compactor: threading.Thread | None = None

    # -- publishing --------------------------------------------------------------------------
    def publish(self, searcher: Searcher) -> None:
        """Serve ``searcher`` (a freshly loaded index, or a live snapshot of ours) with the log replayed on top."""
        with self.lock:
            if isinstance(searcher, LiveSearcher):
                self._state.searcher = searcher
                return
            self._replace_base(searcher)
            self.live = None
            entries = self.log.unapplied(version_of(searcher))
            self._pending_since = time.monotonic() if entries else None
            self._start_compactor()
            self._start_worker()
            if entries:
                start = time.perf_counter()
                self._apply(embed_entries(self.embedder, entries))
                logger.info("replayed %d write(s) from %s in %.2f s", len(entries), self.log.path,
                            time.perf_counter() - start)
            else:
                self._state.searcher = searcher

    def _replace_base(self, searcher: Searcher) -> None:
        """Serve from ``searcher``'s index version from now on; the one it replaces is closed once unused."""
        previous, self.base = self.base, searcher
        close_replaced(previous, searcher)

    def _apply(self, batch: Sequence[tuple[LogEntry, EmbeddedProduct | None]]) -> Snapshot:
        assert self.base is not None
        live = self._ensure_live()
        snapshot = live.apply(batch) if batch else live.snapshot
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
        encoders = searcher.encoders
        factory = worker_factory(encoders) if s.live_embed_worker else None
        if factory is not None:
            cache = searcher.index.manifest.embedding_cache
            uses_onnx = getattr(encoders.text, "_query_onnx", None) is not None
            self.worker = EmbeddingWorker(encoders, factory, nice=s.live_embed_nice,
                                          onnx_cache=str(cache) if uses_onnx and cache else None)
            encoders = worker_encoders(encoders, self.worker)
        elif s.live_embed_worker:
            logger.info("live writes are embedded in the server process (the encoders cannot run in a worker)")
        return embedder_for_index(searcher.index.manifest, encoders, self.log.root,
                                  images_root=s.images_root, fetch=policy)

    def _start_worker(self) -> None:
        """Start the embedding worker now (its models load in the background) when writes are possible."""
        if self.settings.live_embed_worker and self.settings.admin_token is not None and self._embedder is None:
            threading.Thread(target=self._warm_embedder, name="prodsearch-embed-warm", daemon=True).start()

    def _warm_embedder(self) -> None:
        try:
            if self.embedder is not None and self.worker is not None:
                self.worker.start()
        except Exception:  # the first write will try again, and say why
            logger.exception("starting the embedding worker failed")

    # -- writes ------------------------------------------------------------------------------
    def write(self, items: Sequence[tuple[str, EmbeddedProduct | None]]) -> list[WriteResult]:
        """Log (fsync'd) and apply upserts (id, embedded product) and deletes (id, None); returns their seqs."""
        with self.lock:
            self._take_log()
            seqs = self.log.next_seqs(len(items))
            now = utc_now()
            entries = [LogEntry(seq=seq, op="delete" if emb is None else "upsert", id=pid,
                                product=None if emb is None else emb.product.model_dump(),
                                photos=() if emb is None else emb.photos, at=now,
                                keep_photos=bool(emb is not None and emb.keep_photos))
                       for seq, (pid, emb) in zip(seqs, items, strict=True)]
            self.log.append(entries)
            if self._pending_since is None:
                self._pending_since = time.monotonic()
            self._apply([(e, emb) for e, (_, emb) in zip(entries, items, strict=True)])
            return [WriteResult(e.id, e.seq, e.op) for e in entries]

    def _take_log(self) -> None:
        """Become the directory's writer (`WriterLockedError` when another process is). Entries that
        `prodsearch index update` logged since this server replayed the log are applied first: the next
        write's seq follows theirs, so a compaction up to it must hold them too."""
        if self.log.holds_lock:
            return
        self.log.acquire()
        base = self.base or self._state.searcher
        now = current_name(self.log.root)
        if now is not None and now != version_of(base):
            logger.warning("%s: this server serves version %s but the directory's current version is %s; reload "
                           "(POST /admin/reload or SIGHUP) to serve it with the write log replayed",
                           self.log.root, version_of(base), now)
        if self.base is None:
            return
        applied = self.live.snapshot.seq if self.live is not None else 0
        missed = [e for e in self.log.unapplied(version_of(self.base)) if e.seq > applied]
        if missed:
            self._apply(embed_entries(self.embedder, missed))
            if self._pending_since is None:
                self._pending_since = time.monotonic()
            logger.info("applied %d write(s) another process logged to %s before this server took the writer lock",
                        len(missed), self.log.path)

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
            mark = self.last_compaction
            known = mark.total_len if mark is not None and mark.version == version_of(self.base) else None
            self.live = LiveState(self.base.index, total_len=known)
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
                "compacting": self._compacting.locked(),
                "last_compaction_error": self.last_compaction_error,
                "last_compaction_error_at": self.last_compaction_error_at,
                "embedding_worker": self.worker.state if self.worker is not None else
                ("starting" if self.settings.live_embed_worker and self._embedder is None
                 and self.settings.admin_token is not None else "off")}

    # -- compaction --------------------------------------------------------------------------
    def compact(self, reloader: Any = None, reason: str = "requested") -> dict[str, Any]:
        """Write the live state as a new index version, switch to it, keep the writes that came meanwhile.

        Reads and writes go on throughout: the write lock is held only to take the snapshot and, at the
        end, to replay the writes that came meanwhile onto the new version (already loaded, its
        statistics computed) and publish it. On failure the served index is untouched and the error is
        kept for /health. `CompactionBusyError` while another compaction runs."""
        if not self._compacting.acquire(blocking=False):
            raise CompactionBusyError("a compaction is already running")
        reloader = reloader if reloader is not None else getattr(self._state, "reloader", None)
        try:
            start = time.perf_counter()
            with self.lock:
                self._take_log()
                snapshot = None if self.live is None or self.base is None else self.live.snapshot
                base = self.base or self._state.searcher
            if snapshot is None or (snapshot.n_delta == 0 and snapshot.n_alive == snapshot.n_main):
                return {"status": "nothing to compact", "version": version_of(base), "seconds": 0.0}
            logger.info("compacting %s (%s): %d pending writes", self.log.root, reason, self.log.pending)
            summary = write_snapshot(snapshot, self.log.root, base.encoders)
            index = load_index(Path(self.log.root) / VERSIONS / summary.build_id)  # that one, whatever is current now
            total_len = compacted_total_len(snapshot)
            fresh_live = LiveState(index, total_len=total_len)
            fresh_live.warm()  # the new version's BM25 statistics, before taking the write lock
            fresh = Searcher(index, base.encoders, base.config, signal_threads=base.signal_threads)
            fresh.synonyms = base.synonyms
            _ = fresh.understanding  # built now, not by the first query after the switch
            with self.lock:
                seconds = time.perf_counter() - start
                self.log.compacted(index.manifest.build_id, snapshot.seq, seconds, total_len)
                self.last_compaction = self.log.read_mark()
                # (a reload meanwhile replayed the log onto its own live state: its entries are as good)
                applied = self.live.entries if self.live is not None else []
                later = [(e, m) for e, m in applied if e.seq > snapshot.seq]
                self._replace_base(fresh)
                self.live = fresh_live
                self._pending_since = time.monotonic() if later else None
                if later:
                    self._apply(later)
                else:
                    self._state.searcher = fresh
                if reloader is not None:
                    reloader.install(self._state.searcher)
            self.last_compaction_error = self.last_compaction_error_at = None
            logger.info("compacted %s into version %s (%d products, %d later writes kept) in %.1f s",
                        self.log.root, index.manifest.build_id, summary.products, len(later), seconds)
            return {"status": "compacted", "version": index.manifest.build_id, "products": summary.products,
                    "kept_writes": len(later), "seconds": round(seconds, 3),
                    "reused_vector_indexes": list(summary.reused)}
        except Exception as exc:
            self.last_compaction_error = f"{type(exc).__name__}: {exc}"[:500]
            self.last_compaction_error_at = utc_now()
            self._failed_at = time.monotonic()
            if isinstance(exc, StaleVersionError):  # expected until an operator reloads: no traceback
                logger.warning("compaction refused: %s", exc)
                raise
            logger.exception("compaction of %s failed; still serving version %s with every write in the log",
                             self.log.root, version_of(self.base or self._state.searcher))
            raise
        finally:
            self._compacting.release()

    # -- background compaction ---------------------------------------------------------------
    def compaction_due(self) -> str | None:
        """Why the policy wants a compaction now (None: not due, already running, or backing off after a failure)."""
        if self._compacting.locked() or self.live is None:
            return None
        if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER_FAILURE_S:
            return None
        age = None if self._pending_since is None else time.monotonic() - self._pending_since
        return self.policy.due(self.log.pending, self.log.size_bytes, age)

    def _start_compactor(self) -> None:
        if not self.policy.enabled or self._compactor is not None:
            return
        self._compactor = threading.Thread(target=self._compactor_loop, name="prodsearch-compactor", daemon=True)
        self._compactor.start()

    def _compactor_loop(self) -> None:
        try:  # the main segment's BM25 statistics now, rather than in the first write's ack (seconds at 44k)
            with self.lock:
                live = self._ensure_live() if self.base is not None else None
            if live is not None:
                live.warm()
        except Exception:
            logger.exception("preparing the live statistics failed (the first write will try again)")
        while not self._stop.wait(self.policy.check_s):
            reason = self.compaction_due()
            if reason is None:
                continue
            try:
                self.compact(reason=reason)
            except CompactionBusyError:
                pass  # an operator's POST /admin/compact got there first
            except Exception:  # logged and kept for /health by `compact`; the thread goes on
                pass

    def close(self) -> None:
        self._stop.set()
        if self._compactor is not None:
            self._compactor.join(timeout=60)  # a compaction in progress finishes (or fails) first
        if self.worker is not None:
            self.worker.close()
        self.log.close()
        if self.base is not None:  # the served version: once its last request ends (at exit at the latest)
            close_when_unused(self.base)
