"""Folding the live state into a new index version (compaction), and the offline `index update`.

Compaction writes the live rows of a snapshot (main rows still current, then the delta's) as a new
version through the build's writer (`indexer.build.write_index`: the same files, manifest, fsync and
atomic switch of ``current``). Vectors are taken as stored (Flat: exact, so the compacted index
answers exactly as the live one did) and nothing is embedded again; the upserts' embeddings are
already in the embedding cache for any later full build. The catalog it describes is written to
``DIR/live/catalog.jsonl`` (photo references made absolute), the manifest's catalog.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build import BuildSummary, EmbeddedCatalog, write_index
from indexer.catalog import Catalog, Product, file_sha256
from indexer.embedding import EmbedCounts
from indexer.index_dir import StaleVersionError, current_name, fsync_dir, stale_message
from indexer.index_specs import VectorBuild
from indexer.live.log import LIVE_DIR
from indexer.live.segment import Snapshot, field_dim, main_vectors
from indexer.manifest import Manifest
from indexer.sources import is_url
from indexer.vector_store import FieldSpec

logger = logging.getLogger(__name__)

COMPACTED_CATALOG = "catalog.jsonl"


def _absolute(product: Product, base: Path) -> Product:
    refs = [ref if is_url(ref) or os.path.isabs(ref) else str(base / ref) for ref in product.images]
    return product if refs == product.images else product.model_copy(update={"images": refs})


def _write_catalog(path: Path, products: list[Product]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for p in products:
            fh.write(json.dumps(p.model_dump(), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fill_holes(slots: list[int], holes: list[int], extra: list[int]) -> np.ndarray:
    """``slots`` (old ids, -1 = a hole at that position) with ``extra`` filling the holes in ascending order,
    the rest appended; holes still left are filled from the tail. Positions that keep their occupant keep
    their place, so a rebuild can reuse the previous version's approximate index (`indexer.faiss_store`)."""
    out = np.asarray(slots, np.int64)
    holes_left = np.asarray(holes, np.int64)
    n_fill = min(len(holes_left), len(extra))
    out[holes_left[:n_fill]] = extra[:n_fill]
    out = np.concatenate([out, np.asarray(extra[n_fill:], np.int64)])
    holes_left = holes_left[n_fill:]
    for hole in holes_left.tolist():  # the catalog shrank: move the last occupant into each hole, lowest first
        while len(out) and out[-1] < 0:
            out = out[:-1]
        if hole >= len(out):
            break
        out[hole] = out[-1]
        out = out[:-1]
    return out[out >= 0]


def snapshot_order(snapshot: Snapshot) -> np.ndarray:
    """The snapshot's live rows in the compacted index's order: a main product (or its replacement) keeps its
    row, new products fill the rows of deleted ones and then follow (see `fill_holes`)."""
    main_ids = [p.id for p in snapshot.main.store.products]
    slots = [snapshot.row_of.get(pid, -1) for pid in main_ids]
    holes = [r for r, row in enumerate(slots) if row < 0]
    placed = np.zeros(snapshot.n_rows, bool)
    placed[[row for row in slots if row >= 0]] = True
    extra = [row for row in np.flatnonzero(snapshot.alive[snapshot.n_main:]).tolist()
             if not placed[snapshot.n_main + row]]
    return fill_holes(slots, holes, [snapshot.n_main + row for row in extra])


def image_order(snapshot: Snapshot) -> np.ndarray:
    """The live photo vectors (positions in the snapshot's ``image_rows``) in the compacted order: a main
    photo of a live row keeps its place, the delta's photos fill the places of dead ones and then follow."""
    image_rows = snapshot.image_rows
    n_main_images = snapshot.n_main_images
    keep = snapshot.alive[image_rows]
    slots = np.where(keep[:n_main_images], np.arange(n_main_images), -1)
    holes = np.flatnonzero(~keep[:n_main_images]).tolist()
    extra = (n_main_images + np.flatnonzero(keep[n_main_images:])).tolist()
    return fill_holes(slots.tolist(), holes, extra)


def embedded_from_snapshot(snapshot: Snapshot, catalog_path: Path) -> EmbeddedCatalog:
    """The snapshot's live rows as the build's mapper would have produced them (no encoder runs)."""
    main = snapshot.main
    n_main = snapshot.n_main
    old_rows = snapshot_order(snapshot)
    new_row = np.full(snapshot.n_rows, -1, np.int64)
    new_row[old_rows] = np.arange(len(old_rows))
    catalog_dir = Path(main.manifest.catalog_path).parent
    products = [_absolute(main.store.products[r], catalog_dir) if r < n_main else snapshot.products[r]
                for r in old_rows.tolist()]
    _write_catalog(catalog_path, products)

    def stacked(field: str, rows: np.ndarray, n: int) -> np.ndarray:
        out = np.zeros((len(rows), field_dim(main, field)), np.float32)
        in_main = rows < n
        out[in_main] = main_vectors(main, field, rows[in_main])
        out[~in_main] = snapshot.delta_vectors[field][rows[~in_main] - n]
        return out

    text = stacked("text", old_rows, n_main)
    clip_text = text if main.manifest.shared_text_vectors else stacked("clip_text", old_rows, n_main)
    photos = image_order(snapshot)
    image_vectors = stacked("image", photos, snapshot.n_main_images)
    new_image_rows = new_row[snapshot.image_rows[photos]]

    def thumbnails() -> Iterator[tuple[int, bytes]]:
        for new, old in enumerate(old_rows.tolist()):
            found = snapshot.thumbnail(old)
            if found is not None:
                yield new, found[1]

    catalog = Catalog(path=catalog_path, products=products, sha256=file_sha256(catalog_path))
    return EmbeddedCatalog(catalog=catalog, text_vectors=text, clip_text_vectors=clip_text, image_vectors=image_vectors,
                           image_rows=new_image_rows, thumbnails=thumbnails(), image_failures=[],
                           text_recipe=main.manifest.text_recipe,
                           shared_text_vectors=main.manifest.shared_text_vectors, counts=EmbedCounts(),
                           cache_dir=main.manifest.embedding_cache)


def write_snapshot(snapshot: Snapshot, root: Path, encoders: Any) -> BuildSummary:
    """Write ``snapshot``'s live rows as a new version of the index directory ``root`` and make it current,
    unless a build made another version current since the snapshot's was loaded: that version would be
    lost (`StaleVersionError`; the writes stay in the log, and a reload replays them onto it)."""
    based_on = snapshot.main.manifest.build_id
    now = current_name(root)
    if now is not None and now != based_on:  # early, before any work (publish checks again, under the lock)
        raise StaleVersionError(stale_message(Path(root), now, based_on))
    live_dir = Path(root) / LIVE_DIR
    live_dir.mkdir(parents=True, exist_ok=True)
    embedded = embedded_from_snapshot(snapshot, live_dir / COMPACTED_CATALOG)
    return write_index(embedded, Path(root), encoders, vector_build=same_vector_build(snapshot.main.manifest),
                       expect_current=based_on)


def compacted_total_len(snapshot: Snapshot) -> int | None:
    """The compacted version's total BM25 document length, as the snapshot's live statistics hold it."""
    return None if snapshot.lexical_stats is None else int(snapshot.lexical_stats.total_len)


def same_vector_build(manifest: Manifest) -> VectorBuild:
    """The served version's backend and field specs. No recall floor: the operator chose these specs, and a
    compaction that failed on them would leave the log growing (the recall is still measured and recorded)."""
    specs = {name: FieldSpec(factory, dict(manifest.search_params.get(name, {})))
             for name, factory in manifest.factories.items()}
    return VectorBuild(backend=manifest.backend, specs=specs, min_recall=0.0)
