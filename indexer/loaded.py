"""Reading an index directory back: FAISS files (moved to the GPU when there is one), BM25, store, manifest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from indexer.build import IMAGE_ROWS_FILE, INDEX_FILES, LEXICAL_DIR, STORE_FILE
from indexer.errors import CorruptIndexError
from indexer.index_dir import resolve_current
from indexer.integrity import check_counts, load_part, verify_files
from indexer.lexical import LexicalIndex
from indexer.manifest import Manifest, read_manifest
from indexer.store import ProductStore
from indexer.vector_index import load_vector_index, maybe_to_gpu

logger = logging.getLogger(__name__)


@dataclass
class LoadedIndex:
    directory: Path
    manifest: Manifest
    vectors: dict[str, faiss.Index]         # "text", "image", "clip_text" (CPU copies)
    gpu_vectors: dict[str, faiss.Index]     # GPU copies where faiss sees a GPU, else the same objects
    image_rows: np.ndarray                  # product row of each image vector
    lexical: LexicalIndex
    store: ProductStore

    @property
    def n_products(self) -> int:
        return len(self.store)

    def close(self) -> None:
        self.store.close()


def load_index(directory: str | Path, *, verify_checksums: bool = True) -> LoadedIndex:
    """Load the index at ``directory`` (its `current` version, a version directory or an old flat index).

    Every file is checked against the manifest (presence, size, sha256 unless ``verify_checksums`` is
    False) and the counts against each other; a problem raises `CorruptIndexError` naming the file.
    """
    directory = resolve_current(directory)
    manifest = read_manifest(directory)
    verify_files(directory, manifest, checksums=verify_checksums)
    shared = manifest.shared_text_vectors  # one vector set (text.faiss) serves semantic and cross_modal
    vectors = {name: load_part(directory, filename, load_vector_index) for name, filename in INDEX_FILES.items()
               if not (shared and name == "clip_text")}
    if shared:
        vectors["clip_text"] = vectors["text"]
    image_rows = load_part(directory, IMAGE_ROWS_FILE, lambda path: np.load(path, allow_pickle=False))
    lexical = load_part(directory, f"{LEXICAL_DIR}/", LexicalIndex.load)
    store = load_part(directory, STORE_FILE, ProductStore)
    try:
        check_counts(directory, manifest, store=(STORE_FILE, len(store)),
                     per_product={INDEX_FILES[n]: vectors[n].ntotal for n in ("text", "clip_text")}
                     | {f"{LEXICAL_DIR}/": lexical.n_docs},
                     per_image={INDEX_FILES["image"]: vectors["image"].ntotal}, image_rows=(IMAGE_ROWS_FILE, image_rows))
    except CorruptIndexError:
        store.close()
        raise
    gpu_vectors = {name: maybe_to_gpu(index) for name, index in vectors.items() if name != "clip_text"}
    gpu_vectors["clip_text"] = gpu_vectors["text"] if shared else maybe_to_gpu(vectors["clip_text"])
    logger.info("loaded index %s: %d products, %d images", directory, len(store), len(image_rows))
    return LoadedIndex(directory=directory, manifest=manifest, vectors=vectors, gpu_vectors=gpu_vectors,
                       image_rows=image_rows, lexical=lexical, store=store)
