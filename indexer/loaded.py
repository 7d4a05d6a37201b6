"""Reading an index directory back: the vector store (its backend named by the manifest), BM25, store, manifest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build import IMAGE_ROWS_FILE, INDEX_FILES, LEXICAL_DIR, STORE_FILE
from indexer.errors import CorruptIndexError, ProdsearchError
from indexer.faiss_record import parse_record
from indexer.index_dir import resolve_current
from indexer.integrity import check_counts, corrupt, load_part, verify_files
from indexer.lexical import LexicalIndex
from indexer.manifest import MANIFEST_NAME, Manifest, read_manifest
from indexer.store import ProductStore
from indexer.vector_store import RowFilter, VectorStore, backend_names, open_store

logger = logging.getLogger(__name__)


@dataclass
class LoadedIndex:
    directory: Path
    manifest: Manifest
    vector_store: VectorStore               # every vector field, behind `indexer.vector_store.VectorStore`
    vector_fields: dict[str, str]           # field a signal searches -> the store's field ("clip_text" -> "text" when shared)
    image_rows: np.ndarray                  # product row of each image vector
    lexical: LexicalIndex
    store: ProductStore

    @property
    def n_products(self) -> int:
        return len(self.store)

    def vector_count(self, field_name: str) -> int:
        return self.vector_store.count(self.vector_fields[field_name])

    def search_vectors(self, field_name: str, queries: np.ndarray, k: int, mask: np.ndarray | None = None, *,
                       filters: dict | None = None, exclude_rows: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows of a vector field for ``queries``, only rows where ``mask`` is True (see `VectorStore.search`);
        ``filters`` / ``exclude_rows`` say what the mask was made of, for a backend filtering natively (milvus)."""
        allowed = None if mask is None else RowFilter(mask=mask, filters=filters, exclude_rows=exclude_rows)
        return self.vector_store.search(self.vector_fields[field_name], queries, k, allowed)

    def stored_vectors(self, field_name: str, rows: np.ndarray) -> np.ndarray:
        return self.vector_store.vectors(self.vector_fields[field_name], np.asarray(rows, np.int64))

    def close(self) -> None:
        self.store.close()
        self.vector_store.close()


def store_record(manifest: Manifest) -> dict[str, Any]:
    """How to open the manifest's vector store; an index from before the seam is a faiss store of INDEX_FILES."""
    if manifest.vector_store:
        return dict(manifest.vector_store)
    fields = [name for name in INDEX_FILES if name in manifest.factories] or \
        [name for name in INDEX_FILES if not (manifest.shared_text_vectors and name == "clip_text")]
    return {"files": {name: INDEX_FILES[name] for name in fields},
            "specs": {name: {"factory": manifest.factories.get(name, "Flat"),
                             "params": manifest.search_params.get(name, {})} for name in fields}}


def vector_device(device: str | None) -> str:
    """The vector store's device for an encoder device option: cpu, cuda (cuda:N) or auto."""
    if device == "cpu":
        return "cpu"
    return "cuda" if device and device.startswith("cuda") else "auto"


def required_files(directory: Path, manifest: Manifest, record: dict[str, Any]) -> list[str]:
    """What every index version's file list names: the store, photo rows, BM25 folder and (faiss) the vector files."""
    names = [STORE_FILE, IMAGE_ROWS_FILE, f"{LEXICAL_DIR}/"]
    if manifest.backend == "faiss":
        checked = parse_record(directory, record)
        names += sorted({*checked.files.values(), *checked.deleted.values(), *checked.overlay.values()})
    return names


def _open_vectors(directory: Path, manifest: Manifest, record: dict[str, Any], **options: Any) -> VectorStore:
    """The manifest's vector store; a backend name or record an edit or damage made unusable is a
    `CorruptIndexError` naming manifest.json (the faiss record is checked field by field: `indexer.faiss_record`)."""
    if manifest.backend not in backend_names():
        raise corrupt(directory, MANIFEST_NAME, f"names vector store backend {manifest.backend!r}, not one of "
                                                f"{', '.join(backend_names())}")
    try:
        return open_store(manifest.backend, directory, record, **options)
    except ProdsearchError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError) as exc:  # another backend's record, damaged
        raise corrupt(directory, MANIFEST_NAME, f"has a vector_store record the {manifest.backend} backend cannot "
                                                f"open ({type(exc).__name__}: {exc})") from exc


def check_dims(directory: Path, manifest: Manifest, vectors: VectorStore, label: Any) -> None:
    """Each field's width is its model's (a field pointed at another field's file would fail only at query time)."""
    expected = {"text": manifest.text_dim, "image": manifest.clip_dim, "clip_text": manifest.clip_dim}
    for name in vectors.fields():
        if name in expected and vectors.dim(name) != expected[name]:
            raise corrupt(directory, label(name), f"holds {vectors.dim(name)}-d vectors, the manifest says "
                                                  f"{expected[name]}-d for field {name}")


def load_index(directory: str | Path, *, verify_checksums: bool = True, device: str | None = None,
               **store_options: Any) -> LoadedIndex:
    """Load the index at ``directory`` (its `current` version, a version directory or an old flat index).

    Every file is checked against the manifest (presence, size, sha256 unless ``verify_checksums`` is
    False) and the counts against each other; a problem raises `CorruptIndexError` naming the file.
    The vector store opens with its manifest's backend on ``device`` (auto: a GPU when faiss-gpu sees
    one); ``store_options`` go to the backend (e.g. milvus ``uri``).
    """
    directory = resolve_current(directory)
    manifest = read_manifest(directory)
    record = store_record(manifest)
    verify_files(directory, manifest, checksums=verify_checksums, required=required_files(directory, manifest, record))
    vectors = _open_vectors(directory, manifest, record, device=vector_device(device), **store_options)
    fields = {name: name for name in vectors.fields()}
    if manifest.shared_text_vectors:  # one vector set (text) serves semantic and cross_modal
        fields["clip_text"] = "text"
    try:
        image_rows = load_part(directory, IMAGE_ROWS_FILE, lambda path: np.load(path, allow_pickle=False))
        lexical = load_part(directory, f"{LEXICAL_DIR}/", LexicalIndex.load)
        store = load_part(directory, STORE_FILE, ProductStore)
    except BaseException:
        vectors.close()
        raise
    label = lambda name: record.get("files", {}).get(fields[name], fields[name])  # noqa: E731
    try:
        missing = [name for name in ("text", "image", "clip_text") if name not in fields]
        if missing:
            raise CorruptIndexError(f"index {directory}: the {manifest.backend} vector store has no field "
                                    f"{', '.join(missing)}; rebuild the index")
        check_dims(directory, manifest, vectors, label)
        check_counts(directory, manifest, store=(STORE_FILE, len(store)),
                     per_product={label(n): vectors.count(fields[n]) for n in ("text", "clip_text")}
                     | {f"{LEXICAL_DIR}/": lexical.n_docs},
                     per_image={label("image"): vectors.count("image")}, image_rows=(IMAGE_ROWS_FILE, image_rows))
    except CorruptIndexError:
        store.close()
        vectors.close()
        raise
    logger.info("loaded index %s (%s vector store): %d products, %d images", directory, manifest.backend,
                len(store), len(image_rows))
    return LoadedIndex(directory=directory, manifest=manifest, vector_store=vectors, vector_fields=fields,
                       image_rows=image_rows, lexical=lexical, store=store)
