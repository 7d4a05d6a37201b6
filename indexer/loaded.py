"""Reading an index directory back: FAISS files (moved to the GPU when there is one), BM25, store, manifest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from indexer.build import IMAGE_ROWS_FILE, INDEX_FILES, LEXICAL_DIR, STORE_FILE
from indexer.errors import IndexError_
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


def load_index(directory: str | Path) -> LoadedIndex:
    """Load every part of an index directory; raise `IndexError_` subclasses when something is missing."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    vectors = {name: load_vector_index(directory / filename) for name, filename in INDEX_FILES.items()
               if not (name == "clip_text" and manifest.shared_text_vectors)}
    if manifest.shared_text_vectors:
        vectors["clip_text"] = vectors["text"]  # one vector set serves semantic and cross_modal
    store_path = directory / STORE_FILE
    if not store_path.is_file():
        raise IndexError_(f"missing product store {store_path}; rebuild the index")
    store = ProductStore(store_path)
    image_rows = np.load(directory / IMAGE_ROWS_FILE)
    n = len(store)
    if vectors["text"].ntotal != n or vectors["clip_text"].ntotal != n or len(image_rows) != vectors["image"].ntotal:
        store.close()
        raise IndexError_(f"{directory}: index files disagree on the number of products; rebuild the index")
    gpu_vectors = {name: maybe_to_gpu(index) for name, index in vectors.items() if name != "clip_text"}
    gpu_vectors["clip_text"] = gpu_vectors["text"] if manifest.shared_text_vectors else maybe_to_gpu(vectors["clip_text"])
    logger.info("loaded index %s: %d products, %d images", directory, n, len(image_rows))
    return LoadedIndex(directory=directory, manifest=manifest, vectors=vectors, gpu_vectors=gpu_vectors,
                       image_rows=image_rows, lexical=LexicalIndex.load(directory / LEXICAL_DIR), store=store)
