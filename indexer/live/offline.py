"""`prodsearch index update` and `prodsearch index compact`: live writes without a server.

Both take the index directory's writer lock (a server that has written to the directory holds it:
send writes to that server instead), load the current version, replay the write log on top, then:
`update` validates the changes file as a catalog (a bad row stops it before anything is written),
embeds the products through the embedding cache and appends upserts and deletes to the log (fsync'd;
a server picks them up at its next reload or start); `compact` (or `update --compact`) folds the
result into a new version of the directory and trims the log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.catalog import Catalog, CatalogError
from indexer.live.compact import compacted_total_len, write_snapshot
from indexer.live.embed import EmbeddedProduct, PhotoError, embed_entries, embedder_for_index
from indexer.live.log import LogEntry, WriteLog, utc_now
from indexer.live.segment import LiveState
from indexer.loaded import load_index
from indexer.progress import StageProgress, progress_mode

logger = logging.getLogger(__name__)

CHUNK = 256  # products embedded, logged and applied at a time


class UpdateError(CatalogError):
    """The changes cannot be applied (unknown ids to delete, unusable photos); nothing was written."""


@dataclass
class UpdateSummary:
    index: Path
    upserted: int = 0
    new: int = 0
    deleted: int = 0
    replayed: int = 0
    pending: int = 0
    products: int = 0
    compacted_version: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def format(self) -> str:
        lines = [f"index {self.index}: {self.products} products",
                 f"  upserted: {self.upserted} ({self.new} new, {self.upserted - self.new} replaced)   "
                 f"deleted: {self.deleted}   replayed from the log first: {self.replayed}"]
        if self.compacted_version:
            lines.append(f"  compacted into version {self.compacted_version}; the log is empty")
        else:
            lines.append(f"  pending in the write log: {self.pending} (served after a reload; "
                         "`prodsearch index compact` folds them into a new version)")
        lines.append("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items()))
        return "\n".join(lines)


class OfflineLive:
    """The live state of an index directory, opened by this process as its writer."""

    def __init__(self, root: Path, encoders: Any, *, images_root: Path | None = None, extra_root: Path | None = None,
                 fetch: Any = None, progress: str = "off"):
        self.root = Path(root)
        self.log = WriteLog(self.root)
        self.log.acquire()  # WriterLockedError when a server (or another update) writes this directory
        try:
            self.main = load_index(self.root)
            self.encoders = encoders
            mark = self.log.read_mark()
            known = mark.total_len if mark is not None and mark.version == self.main.manifest.build_id else None
            self.state = LiveState(self.main, total_len=known)
            self.embedder = embedder_for_index(self.main.manifest, encoders, self.root, images_root=images_root,
                                               extra_root=extra_root, fetch=fetch)
            entries = self.log.unapplied(self.main.manifest.build_id)
            self.replayed = len(entries)
            if entries:
                bar = StageProgress("replay log", sum(e.op == "upsert" for e in entries), "product", progress)
                self.state.apply(embed_entries(self.embedder, entries, bar))
                bar.close()
        except BaseException:
            self.close()
            raise

    def write(self, items: list[tuple[str, EmbeddedProduct | None]]) -> None:
        seqs = self.log.next_seqs(len(items))
        now = utc_now()
        entries = [LogEntry(seq=seq, op="delete" if emb is None else "upsert", id=pid,
                            product=None if emb is None else emb.product.model_dump(),
                            photos=() if emb is None else emb.photos, at=now)
                   for seq, (pid, emb) in zip(seqs, items, strict=True)]
        self.log.append(entries)
        self.state.apply([(e, emb) for e, (_, emb) in zip(entries, items, strict=True)])

    def compact(self) -> str | None:
        """Fold the live state into a new version; its build id (None when the log held nothing)."""
        snapshot = self.state.snapshot
        if snapshot.seq == 0 and snapshot.n_delta == 0 and snapshot.n_alive == snapshot.n_main:
            return None
        start = time.perf_counter()
        summary = write_snapshot(snapshot, self.root, self.encoders)
        version = summary.build_id
        self.log.compacted(version, snapshot.seq, time.perf_counter() - start, compacted_total_len(snapshot))
        logger.info("compacted %s: %d products in version %s", self.root, summary.products, version)
        return version

    def close(self) -> None:
        self.log.close()
        if hasattr(self, "main"):
            self.main.close()


def read_ids(path: Path) -> list[str]:
    """Ids to delete, one per line (blank lines and lines starting with # skipped)."""
    if not path.is_file():
        raise CatalogError(f"ids file not found: {path}")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def update_index(root: Path, encoders: Any, changes: Catalog | None, delete_ids: list[str], *,
                 images_root: Path | None = None, fetch: Any = None, compact: bool = False,
                 progress: bool | str = True) -> UpdateSummary:
    """Apply ``changes`` (upserts, validated as a catalog) and ``delete_ids`` to the index directory ``root``."""
    mode = progress_mode(progress)
    summary = UpdateSummary(index=Path(root))
    t0 = time.perf_counter()
    base_dir = changes.base_dir if changes is not None else None
    live = OfflineLive(root, encoders, images_root=base_dir or images_root, extra_root=images_root, fetch=fetch,
                       progress=mode)
    try:
        summary.replayed = live.replayed
        summary.seconds["load"] = time.perf_counter() - t0
        row_of = live.state.snapshot.row_of
        missing = [i for i in delete_ids if i not in row_of and not (changes and any(p.id == i for p in changes.products))]
        if missing:
            raise UpdateError(f"--delete names {len(missing)} id(s) not in the index, e.g. {missing[:5]}; nothing was written")
        products = changes.products if changes is not None else []
        t1 = time.perf_counter()
        bar = StageProgress("embed", len(products), "product", mode)
        embedded: list[EmbeddedProduct] = []
        failures: list[PhotoError] = []
        for start in range(0, len(products), CHUNK):
            for product, result in zip(products[start:start + CHUNK], live.embedder.embed(
                    [p.model_copy(update={"images": [changes.resolve_image(r) for r in p.images]})  # type: ignore[union-attr]
                     for p in products[start:start + CHUNK]], progress=bar, photo_errors="return"), strict=True):
                if isinstance(result, PhotoError):
                    failures.append(PhotoError(f"product {product.id!r}: {result.field}", result.reason))
                else:
                    embedded.append(result)
        bar.close()
        if failures:
            shown = "\n".join(f"  {f}" for f in failures[:20])
            raise UpdateError(f"{len(failures)} product(s) have unusable photos; nothing was written:\n{shown}")
        summary.seconds["embed"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        summary.new = sum(1 for e in embedded if e.product.id not in row_of)
        for start in range(0, len(embedded), CHUNK):
            live.write([(e.product.id, e) for e in embedded[start:start + CHUNK]])
        if delete_ids:
            live.write([(i, None) for i in dict.fromkeys(delete_ids)])
        summary.upserted, summary.deleted = len(embedded), len(dict.fromkeys(delete_ids))
        summary.seconds["log"] = time.perf_counter() - t2
        if compact:
            t3 = time.perf_counter()
            summary.compacted_version = live.compact()
            summary.seconds["compact"] = time.perf_counter() - t3
        summary.pending = live.log.pending
        summary.products = live.state.snapshot.n_alive
    finally:
        live.close()
    return summary


def compact_index(root: Path, encoders: Any, progress: bool | str = True) -> UpdateSummary:
    """Fold the write log of ``root`` into a new version (`prodsearch index compact`)."""
    summary = UpdateSummary(index=Path(root))
    t0 = time.perf_counter()
    live = OfflineLive(root, encoders, progress=progress_mode(progress))
    try:
        summary.replayed = live.replayed
        summary.compacted_version = live.compact()
        summary.products = live.state.snapshot.n_alive
        summary.pending = live.log.pending
    finally:
        live.close()
    summary.seconds["compact"] = time.perf_counter() - t0
    return summary
