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
from indexer.index_dir import fsync_dir
from indexer.index_specs import VectorBuild
from indexer.live.log import LIVE_DIR
from indexer.live.segment import Snapshot, main_vectors
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


def snapshot_rows(snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """(live main rows, live delta positions), each ascending: the compacted index's row order."""
    alive = snapshot.alive
    return np.flatnonzero(alive[:snapshot.n_main]), np.flatnonzero(alive[snapshot.n_main:])


def embedded_from_snapshot(snapshot: Snapshot, catalog_path: Path) -> EmbeddedCatalog:
    """The snapshot's live rows as the build's mapper would have produced them (no encoder runs)."""
    main = snapshot.main
    n_main = snapshot.n_main
    main_rows, delta_rows = snapshot_rows(snapshot)
    old_rows = np.concatenate([main_rows, delta_rows + n_main])
    new_row = np.full(snapshot.n_rows, -1, np.int64)
    new_row[old_rows] = np.arange(len(old_rows))
    catalog_dir = Path(main.manifest.catalog_path).parent
    products = [_absolute(main.store.products[r], catalog_dir) for r in main_rows.tolist()] + \
        [snapshot.products[n_main + p] for p in delta_rows.tolist()]
    _write_catalog(catalog_path, products)

    def stacked(field: str) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate([main_vectors(main, field, main_rows),
                                                    snapshot.delta_vectors[field][delta_rows]]), np.float32)

    text = stacked("text")
    clip_text = text if main.manifest.shared_text_vectors else stacked("clip_text")
    image_rows = snapshot.image_rows
    n_main_images = snapshot.n_main_images
    keep = snapshot.alive[image_rows]
    main_images = np.flatnonzero(keep[:n_main_images])
    delta_images = np.flatnonzero(keep[n_main_images:])
    image_vectors = np.ascontiguousarray(np.concatenate([main_vectors(main, "image", main_images),
                                                         snapshot.delta_vectors["image"][delta_images]]), np.float32)
    new_image_rows = new_row[np.concatenate([image_rows[main_images], image_rows[n_main_images + delta_images]])]

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
    """Write ``snapshot``'s live rows as a new version of the index directory ``root`` and make it current."""
    live_dir = Path(root) / LIVE_DIR
    live_dir.mkdir(parents=True, exist_ok=True)
    embedded = embedded_from_snapshot(snapshot, live_dir / COMPACTED_CATALOG)
    return write_index(embedded, Path(root), encoders, vector_build=same_vector_build(snapshot.main.manifest))


def same_vector_build(manifest: Manifest) -> VectorBuild:
    """The served version's backend and field specs. No recall floor: the operator chose these specs, and a
    compaction that failed on them would leave the log growing (the recall is still measured and recorded)."""
    specs = {name: FieldSpec(factory, dict(manifest.search_params.get(name, {})))
             for name, factory in manifest.factories.items()}
    return VectorBuild(backend=manifest.backend, specs=specs, min_recall=0.0)
