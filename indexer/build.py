"""Index building as a pipeline: catalog (reader) -> embeddings (mapper) -> index directory (writer).

Each stage is a function with its collaborators passed in, so tests use fake
encoders. The writer builds a new version inside the index directory and switches
`current` to it atomically (indexer/index_dir.py): an interrupted build leaves the
previous index intact and loadable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from indexer.build_target import check_build_target
from indexer.catalog import Catalog, product_caption, product_text, write_rejects
from indexer.embedding import EmbedCounts, PhotoPipeline, bulk_threads, embed_texts_cached
from indexer.embedding_cache import CACHE_DIR_NAME, EmbeddingCache
from indexer.encoder_profiles import is_loaded
from indexer.encoders import Encoders, shared_text_tower
from indexer.errors import CorruptIndexError, ProdsearchError
from indexer.faiss_record import parse_record
from indexer.images import ImageFailure
from indexer.index_dir import begin_build, check_not_building, checkpoint, resolve_current, scratch_folder
from indexer.index_specs import AUTO, VectorBuild, format_spec, is_exact, parse_factory
from indexer.integrity import record_files
from indexer.lexical import LexicalIndex
from indexer.manifest import Manifest, library_versions, read_manifest, utc_now, write_manifest
from indexer.progress import StageProgress, progress_mode
from indexer.recall import RECALL_K, check_recall
from indexer.reuse import lexical_digest, reuse_part, store_digest
from indexer.store import THUMBNAIL_SETTINGS, write_store
from indexer.text_recipe import DEFAULT_TEXT_RECIPE, is_caption_recipe
from indexer.text_recipe import text_recipe as text_recipe_fn
from indexer.vector_store import FieldSpec, check_specs, create_store

logger = logging.getLogger(__name__)

# The vector fields' files in indexes built before the vector-store seam (read as backend faiss).
INDEX_FILES = {"text": "text.faiss", "image": "image.faiss", "clip_text": "clip_text.faiss"}
IMAGE_ROWS_FILE = "image_rows.npy"
LEXICAL_DIR = "lexical"
STORE_FILE = "products.sqlite"
REJECTS_FILE = "rejects.jsonl"
IMAGE_FAILURES_FILE = "image_failures.jsonl"


class NonFiniteVectorsError(ProdsearchError):
    """A vector about to be indexed is NaN or inf: it would poison every search of its field."""


@dataclass
class EmbeddedCatalog:
    """What the mapper produces: one row per product, one image row per decoded photo."""

    catalog: Catalog
    text_vectors: np.ndarray
    clip_text_vectors: np.ndarray  # the same array as text_vectors when shared_text_vectors
    image_vectors: np.ndarray
    image_rows: np.ndarray  # product row of each image vector
    thumbnails: Iterable[tuple[int, bytes]]  # (row, JPEG), in row order; streamed from the cache once
    image_failures: list[tuple[str, ImageFailure]]
    seconds: dict[str, float] = field(default_factory=dict)
    text_recipe: str = DEFAULT_TEXT_RECIPE
    shared_text_vectors: bool = False
    counts: EmbedCounts = field(default_factory=EmbedCounts)
    cache_dir: str = ""  # the embedding cache kept for later builds and queries ("" when temporary)
    # (row, photo hash) of the thumbnails, when known: the store may then be reused (`indexer.reuse.store_digest`)
    thumbnail_photos: list[tuple[int, str]] | None = None


@dataclass
class BuildSummary:
    out_dir: Path
    products: int
    images_indexed: int
    image_failures: list[tuple[str, ImageFailure]]
    rejects: int
    seconds: dict[str, float]
    counts: EmbedCounts = field(default_factory=EmbedCounts)
    backend: str = "faiss"
    specs: dict[str, FieldSpec] = field(default_factory=dict)
    recall: dict[str, float] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)  # fields started from the previous version's index
    models_loaded: list[str] = field(default_factory=list)  # encoders whose weights were loaded (none: all cached)
    writing: dict[str, float] = field(default_factory=dict)  # seconds of write_index's parts
    parts_reused: list[str] = field(default_factory=list)  # parts copied from the previous version (`indexer.reuse`)
    build_id: str = ""  # the version written (DIR/versions/<build_id>)

    def format_vectors(self) -> str:
        fields = ", ".join(f"{name}={format_spec(spec)} "
                           + (f"(recall@{RECALL_K} {self.recall[name]:.3f})" if name in self.recall else "(exact)")
                           + (" (previous index reused)" if name in self.reused else "")
                           for name, spec in self.specs.items())
        return f"  vector fields ({self.backend}): {fields}"

    def format(self) -> str:
        total = sum(self.seconds.values())
        lines = [
            f"index written to {self.out_dir}",
            f"  products: {self.products}   images indexed: {self.images_indexed}   "
            f"rejected rows: {self.rejects}   products with unusable images: {len({p for p, _ in self.image_failures})}",
            f"  {self.counts.format()}",
            f"  models loaded: {', '.join(self.models_loaded) or 'none (everything came from the cache)'}",
            self.format_vectors(),
            "  writing: " + ", ".join(f"{k} {v:.1f}" + (" (reused)" if k in self.parts_reused else "")
                                      for k, v in self.writing.items()),
            "  seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items()) + f" (total {total:.1f})",
            f"  rate: {self.products / max(total, 1e-9):.1f} products/s",
        ]
        for product_id, failure in self.image_failures[:20]:
            lines.append(f"  image problem: product {product_id}: {failure.ref}: {failure.reason}")
        if len(self.image_failures) > 20:
            lines.append(f"  ... {len(self.image_failures) - 20} more image problems in {IMAGE_FAILURES_FILE}")
        return "\n".join(lines)


def _first_photo_per_row(records: list[tuple[int, str]]) -> list[tuple[int, str]]:
    seen: dict[int, str] = {}
    for row, digest in records:
        seen.setdefault(row, digest)
    return sorted(seen.items())


def embed_catalog(catalog: Catalog, encoders: Encoders, cache: EmbeddingCache, *, image_workers: int = 4,
                  progress: bool | str = True, text_recipe: str = DEFAULT_TEXT_RECIPE) -> EmbeddedCatalog:
    """Embed every product's dense texts and photos through ``cache``; unusable photos are recorded, not fatal.

    See `indexer.embedding` for how the work is shared out; the result does not depend on what the
    cache held (vectors are stored bit for bit).
    """
    products = catalog.products
    dense_text = text_recipe_fn(text_recipe)
    texts = [dense_text(p) for p in products]
    shared = shared_text_tower(encoders) and is_caption_recipe(text_recipe)
    captions = texts if shared else [product_caption(p) for p in products]
    mode = progress_mode(progress)
    counts = EmbedCounts()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    photo_bar = StageProgress("photos", sum(len(p.images) for p in products), "photo", mode)
    photos = PhotoPipeline(catalog, encoders.clip, cache, image_workers, photo_bar, counts).start()
    try:
        with bulk_threads() as before_encode:
            photos.before_encode = before_encode
            stages = [("texts", encoders.text, texts)] + ([] if shared else [("captions", encoders.clip, captions)])
            vectors: dict[str, dict[str, np.ndarray]] = {}
            for stage, encoder, stage_texts in stages:
                bar = StageProgress(f"embed {stage}", len(set(stage_texts)), "text", mode)
                vectors[stage], embedded, cached = embed_texts_cached(
                    encoder, cache.vectors(encoder), stage_texts, bar, between_batches=photos.embed_ready,
                    before_encode=before_encode)
                bar.close()
                counts.texts_embedded += embedded
                counts.texts_cached += cached
            seconds["embed_text"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            photos.embed_ready(block=True)
            seconds["photos_after_text"] = time.perf_counter() - t1
    finally:
        photo_bar.close()
        photos.cancel()  # a no-op once every photo is in; else (an error, Ctrl-C) stops the reader
    result = photos.results
    text_vectors = _stack([vectors["texts"][t] for t in texts], encoders.text.dim)
    clip_text_vectors = text_vectors if shared else _stack([vectors["captions"][c] for c in captions], encoders.clip.dim)
    image_vectors = _stack([result.vectors[d] for _, d in result.records], encoders.clip.dim)
    thumbnail_photos = _first_photo_per_row(result.records)
    thumbnails = cache.thumbnails.iter_thumbnails(thumbnail_photos, recompute=photos.thumbnail)
    logger.info("embedded %s", counts.format())
    return EmbeddedCatalog(
        catalog=catalog, text_vectors=text_vectors, clip_text_vectors=clip_text_vectors,
        image_vectors=image_vectors, image_rows=np.asarray([r for r, _ in result.records], dtype=np.int64),
        thumbnails=thumbnails, thumbnail_photos=thumbnail_photos, image_failures=result.failures, seconds=seconds,
        text_recipe=text_recipe, shared_text_vectors=shared, counts=counts,
    )


def _stack(rows: list[np.ndarray], dim: int) -> np.ndarray:
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32) if rows else np.zeros((0, dim), np.float32)


def _write_failures(path: Path, failures: list[tuple[str, ImageFailure]]) -> None:
    import json

    with open(path, "w", encoding="utf-8") as fh:
        for product_id, failure in failures:
            fh.write(json.dumps({"product_id": product_id, "image": failure.ref, "reason": failure.reason}) + "\n")


def vector_fields(embedded: EmbeddedCatalog) -> dict[str, np.ndarray]:
    """The vector fields of an index, by name (no ``clip_text`` when the text vectors serve both signals)."""
    vectors = {"text": embedded.text_vectors, "image": embedded.image_vectors,
               "clip_text": embedded.clip_text_vectors}
    if embedded.shared_text_vectors:
        del vectors["clip_text"]  # one vector set serves both (manifest: shared_text_vectors)
    return vectors


def check_finite(embedded: EmbeddedCatalog) -> None:
    """`NonFiniteVectorsError` naming the products whose vectors are not finite: the last line of defence
    (the embedding cache drops such vectors, `indexer.embedding_cache.usable_rows`), before anything is written."""
    for name, x in vector_fields(embedded).items():
        bad = np.flatnonzero(~np.isfinite(x).all(axis=1)) if len(x) else np.zeros(0, np.int64)
        if len(bad):
            rows = embedded.image_rows[bad] if name == "image" else bad
            ids = ", ".join(embedded.catalog.products[int(r)].id for r in rows[:5])
            raise NonFiniteVectorsError(
                f"vector field {name}: {len(bad)} vector(s) are NaN or inf (products {ids}{', ...' if len(bad) > 5 else ''}); "
                "nothing was written. The model produced them (cached vectors are checked): check the model")


def write_index(embedded: EmbeddedCatalog, out_dir: Path, encoders: Encoders,
                factory: str = AUTO, vector_build: VectorBuild | None = None,
                expect_current: str | None = None) -> BuildSummary:
    """Write a new version of the index directory and make it current atomically (see indexer/index_dir.py);
    with ``expect_current``, only if `current` still names that version (else `StaleVersionError`).

    The vector fields go to ``vector_build``'s backend (default: faiss, ``factory`` for every field);
    an approximate field whose recall@10 is under its ``min_recall`` fails the build before anything
    is published (`indexer.recall.RecallTooLowError`)."""
    vb = vector_build or VectorBuild(default=parse_factory(factory))
    out_dir = Path(out_dir)
    catalog = embedded.catalog
    seconds = dict(embedded.seconds)
    writing: dict[str, float] = {}  # parts of write_index
    written: list[str] = []  # reusable parts written from scratch (the others were copied: `indexer.reuse`)
    t0 = time.perf_counter()
    check_finite(embedded)
    with begin_build(out_dir) as pending:
        tmp = pending.path
        vectors = vector_fields(embedded)
        specs = {name: vb.spec_for(name, len(x)) for name, x in vectors.items()}
        t_vectors = time.perf_counter()
        previous = current_version(out_dir)
        # products / image_rows / build_id: what a backend filtering natively needs (milvus); faiss ignores them
        store = create_store(vb.backend, vectors, specs, tmp, device=vb.device, products=catalog.products,
                             image_rows=embedded.image_rows, build_id=pending.build_id,
                             reuse=reusable_fields(previous, vb.backend, specs), **vb.options)
        try:
            # A field reused unchanged keeps the recall measured when its index was built.
            recorded = previous[1].recall_at_10 if previous else {}
            kept = {name: recorded[name] for name in getattr(store, "unchanged", []) if name in recorded}
            recall = kept | check_recall(store, vectors, specs, {n: not is_exact(s) and n not in kept
                                                                 for n, s in specs.items()}, vb.min_recall)
            if hasattr(store, "recall"):
                store.recall = dict(recall)
            reused = list(getattr(store, "reused", []))
            store_record = store.save(tmp)
        finally:
            store.close()
        del store, vectors  # the indexes' own copies of the vectors are not needed while the rest is written
        seconds["vector_index"] = time.perf_counter() - t_vectors
        np.save(tmp / IMAGE_ROWS_FILE, embedded.image_rows)
        checkpoint("vectors_written")
        t_write = time.perf_counter()
        texts = [product_text(p) for p in catalog.products]
        digests = {"lexical": lexical_digest(texts)}
        if not reuse_part(previous, "lexical", digests["lexical"], LEXICAL_DIR, tmp):
            (tmp / LEXICAL_DIR).mkdir()
            LexicalIndex.build(texts).save(tmp / LEXICAL_DIR)
            written.append("lexical")
        del texts
        checkpoint("lexical_written")
        writing["lexical"] = time.perf_counter() - t_write
        t_write = time.perf_counter()
        if embedded.thumbnail_photos is not None:  # the products' JSON streamed through the digest, not held
            digests["store"] = store_digest((p.model_dump_json() for p in catalog.products), embedded.thumbnail_photos,
                                            THUMBNAIL_SETTINGS)
        if "store" not in digests or not reuse_part(previous, "store", digests["store"], STORE_FILE, tmp):
            write_store(tmp / STORE_FILE, catalog.products, embedded.thumbnails)
            written.append("store")
        checkpoint("store_written")
        writing["store"] = time.perf_counter() - t_write
        t_write = time.perf_counter()
        if catalog.rejects:
            write_rejects(catalog.rejects, tmp / REJECTS_FILE)
        _write_failures(tmp / IMAGE_FAILURES_FILE, embedded.image_failures)
        files = record_files(tmp)
        writing["checksums"] = time.perf_counter() - t_write
        seconds["write_index"] = time.perf_counter() - t0 - seconds["vector_index"]  # the rest of the writer
        manifest = Manifest(
            text_model=encoders.text.name, text_dim=encoders.text.dim,
            clip_model=encoders.clip.name, clip_dim=encoders.clip.dim,
            clip_trained=bool(getattr(encoders.clip, "trained", True)),
            model_specs={**getattr(encoders.text, "spec", {}), **getattr(encoders.clip, "spec", {})},
            factories={name: spec.factory for name, spec in specs.items()},
            search_params={name: dict(spec.params) for name, spec in specs.items()},
            backend=vb.backend, vector_store=store_record, recall_at_10=recall,
            catalog_path=str(catalog.path.resolve()), catalog_sha256=catalog.sha256,
            counts={"products": len(catalog.products), "images": int(len(embedded.image_rows)),
                    "image_failures": len(embedded.image_failures), "rejects": len(catalog.rejects)},
            library_versions=library_versions(), built_at=utc_now(),
            build_seconds={k: round(v, 3) for k, v in seconds.items()},
            build_id=pending.build_id, files=files, reuse_digests=digests,
            text_recipe=embedded.text_recipe, shared_text_vectors=embedded.shared_text_vectors,
            embedding_counts=asdict(embedded.counts), embedding_cache=embedded.cache_dir,
        )
        write_manifest(tmp, manifest)
        checkpoint("manifest_written")
        pending.publish(expect_current)
    return BuildSummary(out_dir=out_dir, products=len(catalog.products), images_indexed=int(len(embedded.image_rows)),
                        image_failures=embedded.image_failures, rejects=len(catalog.rejects), seconds=seconds,
                        counts=embedded.counts, backend=vb.backend, specs=specs, recall=recall, reused=reused,
                        models_loaded=[e.name for e in (encoders.text, encoders.clip) if is_loaded(e)],
                        writing=writing, parts_reused=[p for p in ("lexical", "store") if p not in written],
                        build_id=pending.build_id)


def current_version(out_dir: Path) -> tuple[Path, Manifest] | None:
    """The directory and manifest of the version now current at ``out_dir`` (None: no readable one)."""
    try:
        directory = resolve_current(out_dir)
        return directory, read_manifest(directory)
    except ProdsearchError:
        return None


def reusable_fields(previous: tuple[Path, Manifest] | None, backend: str,
                    specs: dict[str, FieldSpec]) -> dict[str, Path]:
    """Per approximate field, the previous version's index file when it was built by the same backend with the
    same spec: the backend may start from it instead of building the field again (faiss: `faiss_store.create`)."""
    if previous is None or backend != "faiss" or previous[1].backend != backend:
        return {}
    directory, manifest = previous
    try:
        files = parse_record(directory, manifest.vector_store).files
    except CorruptIndexError as exc:
        logger.warning("not reusing the previous version's vector fields: %s", exc)
        return {}
    return {name: directory / files[name] for name, spec in specs.items()
            if name in files and not is_exact(spec)
            and manifest.factories.get(name) == spec.factory and manifest.search_params.get(name, {}) == spec.params}


def check_vector_build(vb: VectorBuild, encoders: Encoders) -> None:
    """Fail now, before any embedding, on a spec the backend cannot build at the models' dimensions."""
    dims = {"text": encoders.text.dim, "image": encoders.clip.dim, "clip_text": encoders.clip.dim}
    check_specs(vb.backend, {name: vb.spec_for(name, 0) for name in dims}, dims)  # `auto` is checked as Flat


def default_cache_dir(out_dir: Path) -> Path:
    """The embedding cache's default home: ``<index dir>/cache/`` (beside versions/, kept across rebuilds)."""
    return Path(out_dir) / CACHE_DIR_NAME


def build_index(catalog: Catalog, out_dir: Path, encoders: Encoders, *, factory: str = AUTO,
                image_workers: int = 4, progress: bool | str = True, text_recipe: str = DEFAULT_TEXT_RECIPE,
                cache_dir: Path | None = None, use_cache: bool = True, text_backend: str = "onnx",
                vector_build: VectorBuild | None = None) -> BuildSummary:
    """Embed the catalog (through the embedding cache) and write the index directory.

    ``cache_dir`` defaults to `default_cache_dir`; with ``use_cache=False`` a scratch cache serves this build
    only (thumbnails still stream through it rather than sitting in memory), in ``out_dir``'s versions/ folder
    (`indexer.index_dir.scratch_folder`): a killed build's is removed by the next build, not left in /tmp.
    ``text_backend="onnx"`` embeds the text encoder's batches with ONNX Runtime where the model allows
    (`indexer.onnx_text`), else torch.
    """
    text_recipe_fn(text_recipe)  # an unknown recipe fails before any work
    check_build_target(out_dir)  # a folder holding someone else's files, before the cache is made in it
    check_not_building(out_dir)  # so does a build already writing out_dir (the lock is taken at the write)
    vb = vector_build or VectorBuild(default=parse_factory(factory))
    check_vector_build(vb, encoders)
    with (contextlib.nullcontext() if use_cache else scratch_folder(out_dir)) as scratch:
        directory = Path(cache_dir or default_cache_dir(out_dir)) if scratch is None else scratch
        cache = EmbeddingCache(directory, THUMBNAIL_SETTINGS)
        if text_backend == "onnx" and hasattr(encoders.text, "enable_onnx"):
            encoders.text.enable_onnx(directory, threads=os.cpu_count() or 1)
        try:
            embedded = embed_catalog(catalog, encoders, cache, image_workers=image_workers, progress=progress,
                                     text_recipe=text_recipe)
            cache.close_vectors()  # every vector is in memory now; thumbnails close once streamed
            if hasattr(encoders.text, "release_bulk"):
                encoders.text.release_bulk()
            embedded.cache_dir = str(directory.resolve()) if use_cache else ""
            checkpoint("embedded")
            return write_index(embedded, Path(out_dir), encoders, vector_build=vb)
        finally:
            cache.close()
