"""A rebuild of the faiss store starting from the previous version's index of a field (`faiss_store.create`).

When at most `REUSE_MAX_CHANGED` of a field's rows changed (or rows were only added), the previous index is
loaded and the differences upserted (the changed rows go to the exact overlay) instead of building the
field again: an HNSW field of 44k rows costs seconds to tens of seconds to build, an unchanged one a file read.
"""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

from indexer.errors import ProdsearchError
from indexer.vector_index import apply_params, load_vector_index
from indexer.vector_store import FieldSpec

logger = logging.getLogger(__name__)

# More changed rows than this fraction, and the field is built afresh, which also folds earlier overlays back in.
REUSE_MAX_CHANGED = 0.05


def index_file(field_name: str) -> str:
    return f"{field_name}.faiss"


def overlay_file(field_name: str) -> str:
    return f"{field_name}.overlay.npz"


def reuse_previous(path: Path, x: np.ndarray, spec: FieldSpec) -> tuple[faiss.Index, np.ndarray] | None:
    """The previous version's index at ``path`` and the rows of ``x`` it holds other vectors for (to upsert),
    when it was built with ``spec``, holds no more rows than ``x`` and stores its vectors exactly; else None."""
    try:
        index = load_vector_index(path)
        n_old = index.ntotal
        if index.d != x.shape[1] or n_old > len(x) or n_old == 0:
            return None
        old = index.reconstruct_n(0, n_old)
    except (RuntimeError, OSError, ProdsearchError) as exc:  # unreadable, or no exact reconstruction (PQ, SQ)
        logger.info("not reusing %s: %s", path, exc)
        return None
    changed = np.flatnonzero((old != x[:n_old]).any(axis=1))
    if len(changed) > REUSE_MAX_CHANGED * len(x):
        return None
    if spec.params:
        apply_params(index, spec.params, str(path))
    return index, np.concatenate([changed, np.arange(n_old, len(x))])


def read_overlay(path: Path) -> dict[int, np.ndarray]:
    """An exact overlay file the store's `save` wrote: row -> its float32 vector."""
    with np.load(path, allow_pickle=False) as saved:
        return {int(r): v.astype(np.float32) for r, v in zip(saved["rows"], saved["vectors"], strict=True)}


def previous_overlay_matches(path: Path, x: np.ndarray, rows: np.ndarray) -> bool:
    """Whether the previous version (its graph at ``path`` plus the exact overlay beside it) held exactly ``x``:
    ``rows``, where the graph holds other vectors, must all be overlay rows, and every overlay row must equal
    ``x``. Then the field is unchanged and keeps its recorded recall."""
    overlay_path = path.parent / overlay_file(path.name.removesuffix(index_file("")))
    if not overlay_path.exists():
        return not len(rows)
    try:
        held = read_overlay(overlay_path)
    except (OSError, ValueError, KeyError):
        return False
    return (all(int(r) in held for r in rows)
            and all(r < len(x) and np.array_equal(v, x[r]) for r, v in held.items()))
