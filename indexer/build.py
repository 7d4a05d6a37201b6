"""Index building as a pipeline: catalog (reader) -> embeddings (mapper) -> index directory (writer).

Each stage is a function with its collaborators passed in, so tests use fake
encoders. The writer builds a new version inside the index directory and switches
`current` to it atomically (indexer/index_dir.py): an interrupted build leaves the
previous index intact and loadable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from indexer.catalog import Catalog, product_caption, product_text, write_rejects
from indexer.encoders import Encoders
from indexer.images import ImageFailure, read_images
from indexer.index_dir import begin_build, checkpoint
from indexer.integrity import record_files
from indexer.lexical import LexicalIndex
from indexer.manifest import Manifest, library_versions, utc_now, write_manifest
from indexer.store import encode_thumbnail, write_store
from indexer.vector_index import DEFAULT_FACTORY, build_vector_index, save_vector_index

logger = logging.getLogger(__name__)

CHUNK = 128
INDEX_FILES = {"text": "text.faiss", "image": "image.faiss", "clip_text": "clip_text.faiss"}
IMAGE_ROWS_FILE = "image_rows.npy"
LEXICAL_DIR = "lexical"
STORE_FILE = "products.sqlite"
REJECTS_FILE = "rejects.jsonl"
IMAGE_FAILURES_FILE = "image_failures.jsonl"


@dataclass
class EmbeddedCatalog:
    """What the mapper produces: one row per product, one image row per decoded photo."""

    catalog: Catalog
    text_vectors: np.ndarray
    clip_text_vectors: np.ndarray
    image_vectors: np.ndarray
    image_rows: np.ndarray  # product row of each image vector
    thumbnails: dict[int, bytes]
    image_failures: list[tuple[str, ImageFailure]]
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class BuildSummary:
    out_dir: Path
    products: int
    images_indexed: int
    image_failures: list[tuple[str, ImageFailure]]
    rejects: int
    seconds: dict[str, float]

    def format(self) -> str:
        total = sum(self.seconds.values())
        lines = [
            f"index written to {self.out_dir}",
            f"  products: {self.products}   images indexed: {self.images_indexed}   "
            f"rejected rows: {self.rejects}   products with unusable images: {len({p for p, _ in self.image_failures})}",
            "  seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items()) + f" (total {total:.1f})",
            f"  rate: {self.products / max(total, 1e-9):.1f} products/s",
        ]
        for product_id, failure in self.image_failures[:20]:
            lines.append(f"  image problem: product {product_id}: {failure.ref}: {failure.reason}")
        if len(self.image_failures) > 20:
            lines.append(f"  ... {len(self.image_failures) - 20} more image problems in {IMAGE_FAILURES_FILE}")
        return "\n".join(lines)


def embed_catalog(catalog: Catalog, encoders: Encoders, *, image_workers: int = 4,
                  progress: bool = True) -> EmbeddedCatalog:
    """Embed every product's text and photos; unusable photos are recorded, not fatal."""
    products = catalog.products
    seconds = {"read_images": 0.0, "embed_images": 0.0, "embed_text": 0.0}
    text_chunks, clip_text_chunks, image_chunks, image_rows = [], [], [], []
    thumbnails: dict[int, bytes] = {}
    failures: list[tuple[str, ImageFailure]] = []
    bar = tqdm(total=len(products), unit="item", desc="indexing", disable=not progress, dynamic_ncols=True)
    try:
        for start in range(0, len(products), CHUNK):
            chunk = products[start:start + CHUNK]
            t0 = time.perf_counter()
            refs = [(start + i, p.id, catalog.resolve_image(ref)) for i, p in enumerate(chunk) for ref in p.images]
            images, rows = [], []
            read = read_images([r for _, _, r in refs], image_workers, catalog.image_sources)
            for (row, product_id, _ref), image in zip(refs, read, strict=True):
                if isinstance(image, ImageFailure):
                    failures.append((product_id, image))
                    continue
                if row not in thumbnails:
                    thumbnails[row] = encode_thumbnail(image)
                images.append(image)
                rows.append(row)
            t1 = time.perf_counter()
            if images:
                image_chunks.append(encoders.clip.encode_images(images))
                image_rows.extend(rows)
            t2 = time.perf_counter()
            text_chunks.append(encoders.text.encode_texts([product_text(p) for p in chunk]))
            clip_text_chunks.append(encoders.clip.encode_texts([product_caption(p) for p in chunk]))
            t3 = time.perf_counter()
            seconds["read_images"] += t1 - t0
            seconds["embed_images"] += t2 - t1
            seconds["embed_text"] += t3 - t2
            bar.update(len(chunk))
    finally:
        bar.close()
    empty_clip = np.zeros((0, encoders.clip.dim), np.float32)
    return EmbeddedCatalog(
        catalog=catalog,
        text_vectors=np.concatenate(text_chunks),
        clip_text_vectors=np.concatenate(clip_text_chunks),
        image_vectors=np.concatenate(image_chunks) if image_chunks else empty_clip,
        image_rows=np.asarray(image_rows, dtype=np.int64),
        thumbnails=thumbnails,
        image_failures=failures,
        seconds=seconds,
    )


def _write_failures(path: Path, failures: list[tuple[str, ImageFailure]]) -> None:
    import json

    with open(path, "w", encoding="utf-8") as fh:
        for product_id, failure in failures:
            fh.write(json.dumps({"product_id": product_id, "image": failure.ref, "reason": failure.reason}) + "\n")


def write_index(embedded: EmbeddedCatalog, out_dir: Path, encoders: Encoders,
                factory: str = DEFAULT_FACTORY) -> BuildSummary:
    """Write a new version of the index directory and make it current atomically (see indexer/index_dir.py)."""
    out_dir = Path(out_dir)
    catalog = embedded.catalog
    seconds = dict(embedded.seconds)
    t0 = time.perf_counter()
    with begin_build(out_dir) as pending:
        tmp = pending.path
        vectors = {"text": embedded.text_vectors, "image": embedded.image_vectors,
                   "clip_text": embedded.clip_text_vectors}
        for signal, filename in INDEX_FILES.items():
            save_vector_index(build_vector_index(vectors[signal], factory), tmp / filename)
        np.save(tmp / IMAGE_ROWS_FILE, embedded.image_rows)
        checkpoint("vectors_written")
        lexical_dir = tmp / LEXICAL_DIR
        lexical_dir.mkdir()
        LexicalIndex.build([product_text(p) for p in catalog.products]).save(lexical_dir)
        checkpoint("lexical_written")
        write_store(tmp / STORE_FILE, catalog.products, embedded.thumbnails)
        checkpoint("store_written")
        if catalog.rejects:
            write_rejects(catalog.rejects, tmp / REJECTS_FILE)
        _write_failures(tmp / IMAGE_FAILURES_FILE, embedded.image_failures)
        seconds["write_index"] = time.perf_counter() - t0
        manifest = Manifest(
            text_model=encoders.text.name, text_dim=encoders.text.dim,
            clip_model=encoders.clip.name, clip_dim=encoders.clip.dim,
            clip_trained=bool(getattr(encoders.clip, "trained", True)),
            model_specs={**getattr(encoders.text, "spec", {}), **getattr(encoders.clip, "spec", {})},
            factories={signal: factory for signal in INDEX_FILES},
            catalog_path=str(catalog.path.resolve()), catalog_sha256=catalog.sha256,
            counts={"products": len(catalog.products), "images": int(len(embedded.image_rows)),
                    "image_failures": len(embedded.image_failures), "rejects": len(catalog.rejects)},
            library_versions=library_versions(), built_at=utc_now(),
            build_seconds={k: round(v, 3) for k, v in seconds.items()},
            build_id=pending.build_id, files=record_files(tmp),
        )
        write_manifest(tmp, manifest)
        checkpoint("manifest_written")
        pending.publish()
    return BuildSummary(out_dir=out_dir, products=len(catalog.products), images_indexed=int(len(embedded.image_rows)),
                        image_failures=embedded.image_failures, rejects=len(catalog.rejects), seconds=seconds)


def build_index(catalog: Catalog, out_dir: Path, encoders: Encoders, *, factory: str = DEFAULT_FACTORY,
                image_workers: int = 4, progress: bool = True) -> BuildSummary:
    """Embed the catalog and write the index directory."""
    embedded = embed_catalog(catalog, encoders, image_workers=image_workers, progress=progress)
    checkpoint("embedded")
    return write_index(embedded, Path(out_dir), encoders, factory=factory)
