"""The ``faiss`` vector store (the default backend): one FAISS index per field, held in this process.

Each field has its own factory string and search parameters (`FieldSpec`), applied through
`faiss.ParameterSpace` when built and again when opened. Filtered searches go through
`indexer.vector_index.search_vectors`, which scores a selective filter's few rows exactly. Deleted
rows are a tombstone bitmap per field, combined with the request's mask and saved beside the index
(``FIELD.deleted.npy``); rows keep their numbers, so `add` appends after the last row. `upsert` writes a Flat field's vectors in
place; in any other index a replaced row could be unreachable (an HNSW graph keeps its old neighbours,
an IVF list its old centroid), so the row is masked out of the index and its new vector kept in a small
exact *overlay* searched beside it (``FIELD.overlay.npz``; a rebuild folds it in). An IVF field also
keeps its codes in row order in memory (`indexer.ivf_codes`), so a selective filter's rows are decoded in
one call (an IVF,SQ8 field's are scored on their codes, without decoding: `indexer.sq8_scoring`). With
``device="cuda"`` (or ``"auto"`` where faiss-gpu sees a GPU) each field also gets a GPU copy, all on
one shared `StandardGpuResources`, used for unfiltered searches.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.errors import CorruptIndexError, IndexError_, InvalidArrayError
from indexer.faiss_gpu import DEVICES, gpu_available, gpu_copy, resolve_device
from indexer.faiss_record import SpecRecord, parse_record
from indexer.faiss_reuse import index_file, overlay_file, previous_overlay_matches, read_overlay, reuse_previous
from indexer.integrity import load_part
from indexer.ivf_codes import RowCodes, decode_rows, row_codes
from indexer.manifest import MANIFEST_NAME
from indexer.rwlock import ReadWriteLock
from indexer.vector_index import (
    apply_params,
    build_vector_index,
    check_vectors,
    load_vector_index,
    save_vector_index,
    search_vectors,
)
from indexer.vector_store import FieldSpec, RowFilter, register_backend

logger = logging.getLogger(__name__)

BACKEND = "faiss"
__all__ = ["DEVICES", "FaissVectorStore", "check_spec", "check_specs", "create", "gpu_available", "open_",
           "resolve_device"]


def deleted_file(field_name: str) -> str:
    return f"{field_name}.deleted.npy"


def _merge(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray],
           k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best k of two (D, I) results per query (misses, I == -1, last)."""
    D = np.concatenate([first[0], second[0]], axis=1)
    I = np.concatenate([first[1], second[1]], axis=1)
    D = np.where(I >= 0, D, -np.inf)
    order = np.argsort(-D, axis=1, kind="stable")[:, :k]
    D, I = np.take_along_axis(D, order, axis=1), np.take_along_axis(I, order, axis=1)
    return D.astype(np.float32), np.where(np.isfinite(D), I, -1).astype(np.int64)


def check_spec(spec: FieldSpec, dim: int, what: str = "index spec") -> None:
    """Raise `IndexError_` now, before any embedding, when FAISS cannot build ``spec`` for ``dim``-d vectors."""
    try:
        index = faiss.index_factory(dim, spec.factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        last = (str(exc).strip().splitlines() or [""])[-1]
        raise IndexError_(f"{what}: invalid FAISS factory string {spec.factory!r} for {dim}-d vectors: {last}") from None
    apply_params(index, spec.params, what)


def check_specs(specs: Mapping[str, FieldSpec], dims: Mapping[str, int]) -> None:
    """The backend's check of every field's spec against its dimension (see `vector_store.check_specs`)."""
    for name, spec in specs.items():
        check_spec(spec, dims[name], f"index spec for field {name!r}")


def _estimated_bytes(index: faiss.Index) -> int:
    """Memory of the codes (plus HNSW links), without serialising the index."""
    try:
        size = int(index.sa_code_size()) * int(index.ntotal)
    except RuntimeError:
        size = 4 * index.d * int(index.ntotal)
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        size += 4 * int(hnsw.neighbors.size())
    return size


class FaissVectorStore:
    """`VectorStore` over FAISS indexes, one per field (see the module docstring)."""

    backend = BACKEND

    def __init__(self, indexes: dict[str, faiss.Index], specs: dict[str, FieldSpec],
                 deleted: dict[str, np.ndarray] | None = None, device: str = "auto",
                 overlays: dict[str, dict[int, np.ndarray]] | None = None) -> None:
        self._indexes = indexes
        self._specs = specs
        self._deleted = {name: np.zeros(index.ntotal, bool) for name, index in indexes.items()}
        for name, mask in (deleted or {}).items():
            self._deleted[name][: len(mask)] = mask[: indexes[name].ntotal]
        # Rows replaced in an index that cannot take them in place: row -> its current vector.
        self._overlay: dict[str, dict[int, np.ndarray]] = {name: {} for name in indexes}
        for name, rows in (overlays or {}).items():
            self._overlay[name].update(rows)
        self._overlay_views: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # `_overlay_view`, until a write
        self.device = resolve_device(device)
        self._lock = ReadWriteLock()
        self._gpu: dict[str, faiss.Index] = {}
        # An IVF field's codes in row order: a selective filter's rows decoded in one call (`indexer.ivf_codes`).
        self._codes: dict[str, RowCodes | None] = {}
        self.recall: dict[str, float] = {}
        self.reused: list[str] = []  # fields `create` took from the previous version's index (`reuse`)
        self.unchanged: list[str] = []  # ... of which nothing changed (their measured recall still holds)
        for name in indexes:
            self._refresh_field(name)

    # -- reading ---------------------------------------------------------------------------------
    def fields(self) -> tuple[str, ...]:
        return tuple(self._indexes)

    def _index(self, field_name: str) -> faiss.Index:
        try:
            return self._indexes[field_name]
        except KeyError:
            raise IndexError_(f"no vector field {field_name!r}; fields: {', '.join(self._indexes)}") from None

    def faiss_index(self, field_name: str) -> faiss.Index:
        """The field's CPU FAISS index (benchmarks and tests; searching code uses `search`)."""
        return self._index(field_name)

    def dim(self, field_name: str) -> int:
        return int(self._index(field_name).d)

    def count(self, field_name: str) -> int:
        return int(self._index(field_name).ntotal)

    def spec(self, field_name: str) -> FieldSpec:
        self._index(field_name)
        return self._specs[field_name]

    def search(self, field_name: str, queries: np.ndarray, k: int,
               allowed: RowFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        with self._lock.reading():
            return self._search(field_name, queries, k, allowed)

    def _search(self, field_name: str, queries: np.ndarray, k: int,
                allowed: RowFilter | None) -> tuple[np.ndarray, np.ndarray]:
        index = self._index(field_name)
        mask = None if allowed is None else allowed.mask
        if allowed is not None and allowed.exclude_rows:
            mask = np.ones(index.ntotal, bool) if mask is None else mask.copy()
            mask[np.asarray(allowed.exclude_rows, np.int64)] = False
        deleted, overlay = self._deleted[field_name], self._overlay[field_name]
        if (deleted.any() or overlay) and (mask is None or mask.shape == deleted.shape):
            mask = ~deleted if mask is None else mask & ~deleted
        if not overlay:
            return search_vectors(index, queries, k, mask, self._gpu.get(field_name), self._codes.get(field_name))
        rows, stacked = self._overlay_view(field_name)
        held = mask[rows] if mask is not None else None
        # every overlay row allowed (the common case: a mask is ~deleted here): the stacked rows as they are, no copy
        live, vectors = (rows, stacked) if held is None or held.all() else (rows[held], stacked[held])
        in_index = mask.copy() if mask is not None else np.ones(index.ntotal, bool)
        in_index[rows] = False
        D, I = search_vectors(index, queries, k, in_index, self._gpu.get(field_name), self._codes.get(field_name))
        if not len(live):
            return D, I
        scores = check_vectors(queries, index.d, "queries") @ vectors.T
        ids = np.broadcast_to(live, scores.shape)
        return _merge((D, I), (scores, ids), min(k, index.ntotal))

    def _overlay_view(self, field_name: str) -> tuple[np.ndarray, np.ndarray]:
        """The overlay's rows and their vectors stacked in that order: stacking ~450 rows per query took ~1/3 of
        a 44k text search (~0.4 ms quiet, 1.5 ms under load); made again after a write (`_replace`)."""
        view = self._overlay_views.get(field_name)
        if view is None:
            overlay = self._overlay[field_name]
            rows = np.fromiter(overlay, np.int64, len(overlay))
            view = self._overlay_views[field_name] = (rows, np.stack([overlay[int(r)] for r in rows]))
        return view

    def vectors(self, field_name: str, rows: np.ndarray) -> np.ndarray:
        with self._lock.reading():
            return self._vectors(field_name, rows)

    def _vectors(self, field_name: str, rows: np.ndarray) -> np.ndarray:
        index = self._index(field_name)
        rows = np.asarray(rows, np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= index.ntotal):
            raise InvalidArrayError(f"{field_name}: rows outside [0, {index.ntotal})")
        if not len(rows):
            return np.zeros((0, index.d), np.float32)
        try:
            out = decode_rows(index, rows, self._codes.get(field_name))
        except RuntimeError as exc:
            raise IndexError_(f"{field_name}: this index ({self._specs[field_name].factory}) cannot return its "
                              f"vectors: {str(exc).strip().splitlines()[-1]}") from None
        overlay = self._overlay[field_name]
        for i, row in enumerate(rows.tolist()):
            if row in overlay:
                out[i] = overlay[row]
        return out

    # -- writing ---------------------------------------------------------------------------------
    def add(self, field_name: str, vectors: np.ndarray) -> np.ndarray:
        with self._lock.writing():
            return self._add(field_name, vectors)

    def _add(self, field_name: str, vectors: np.ndarray) -> np.ndarray:
        index = self._index(field_name)
        vectors = check_vectors(vectors, index.d, f"{field_name} vectors")
        start = int(index.ntotal)
        if len(vectors):
            index.add(vectors)
        self._deleted[field_name] = np.concatenate([self._deleted[field_name], np.zeros(len(vectors), bool)])
        self._refresh_field(field_name)
        return np.arange(start, start + len(vectors), dtype=np.int64)

    def upsert(self, field_name: str, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the vectors of existing ``rows`` (a deleted row comes back); rows past the end are appended
        (they must follow on from the last row)."""
        with self._lock.writing():
            self._upsert(field_name, rows, vectors)

    def _upsert(self, field_name: str, rows: np.ndarray, vectors: np.ndarray) -> None:
        index = self._index(field_name)
        rows = np.asarray(rows, np.int64).reshape(-1)
        vectors = check_vectors(vectors, index.d, f"{field_name} vectors")
        if len(rows) != len(vectors):
            raise InvalidArrayError(f"upsert {field_name}: {len(rows)} rows for {len(vectors)} vectors")
        if len(rows) and rows.min() < 0:
            raise InvalidArrayError(f"upsert {field_name}: negative row {rows.min()}")
        old = rows < index.ntotal
        new_rows = rows[~old]
        if len(new_rows) and not np.array_equal(np.sort(new_rows), np.arange(index.ntotal, index.ntotal + len(new_rows))):
            raise InvalidArrayError(f"upsert {field_name}: new rows must follow on from row {index.ntotal - 1}")
        if old.any():
            self._replace(field_name, rows[old], vectors[old])
            self._deleted[field_name][rows[old]] = False
        if len(new_rows):
            order = np.argsort(rows[~old], kind="stable")
            self._add(field_name, vectors[~old][order])
        self._refresh_field(field_name)

    def _replace(self, field_name: str, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Overwrite a Flat field's vectors in place; in any other index, move the rows to the exact overlay."""
        index = faiss.downcast_index(self._index(field_name))
        if isinstance(index, faiss.IndexFlat):
            codes = faiss.rev_swig_ptr(index.codes.data(), index.ntotal * index.code_size).view(np.float32)
            codes.reshape(index.ntotal, index.d)[rows] = vectors
            return
        overlay = self._overlay[field_name]
        self._overlay_views.pop(field_name, None)
        for row, vector in zip(rows.tolist(), vectors, strict=True):
            overlay[row] = vector.copy()

    def delete(self, field_name: str, rows: np.ndarray) -> None:
        index = self._index(field_name)
        rows = np.asarray(rows, np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= index.ntotal):
            raise InvalidArrayError(f"delete {field_name}: rows outside [0, {index.ntotal})")
        with self._lock.writing():
            self._deleted[field_name][rows] = True

    def deleted(self, field_name: str) -> np.ndarray:
        """The tombstone bitmap of ``field_name`` (a copy)."""
        self._index(field_name)
        return self._deleted[field_name].copy()

    # -- persistence -----------------------------------------------------------------------------
    def save(self, directory: Path) -> dict[str, Any]:
        with self._lock.reading():
            return self._save(Path(directory))

    def _save(self, directory: Path) -> dict[str, Any]:
        record: dict[str, Any] = {"files": {}, "deleted": {}, "specs": {}}
        for name, index in self._indexes.items():
            save_vector_index(index, directory / index_file(name))
            record["files"][name] = index_file(name)
            record["specs"][name] = {"factory": self._specs[name].factory, "params": dict(self._specs[name].params)}
            if self._deleted[name].any():
                np.save(directory / deleted_file(name), self._deleted[name])
                record["deleted"][name] = deleted_file(name)
            elif (directory / deleted_file(name)).exists():
                (directory / deleted_file(name)).unlink()
            if self._overlay[name]:
                rows = np.array(sorted(self._overlay[name]), np.int64)
                np.savez(directory / overlay_file(name), rows=rows,
                         vectors=np.stack([self._overlay[name][int(r)] for r in rows]))
                record.setdefault("overlay", {})[name] = overlay_file(name)
            elif (directory / overlay_file(name)).exists():
                (directory / overlay_file(name)).unlink()
        if self.recall:
            record["recall_at_10"] = dict(self.recall)
        return record

    def stats(self) -> dict[str, Any]:
        return {name: {"rows": int(index.ntotal), "deleted": int(self._deleted[name].sum()),
                       "overlay": len(self._overlay[name]),
                       "bytes": _estimated_bytes(index), "row_codes_bytes": self._row_codes_bytes(name),
                       "factory": self._specs[name].factory,
                       "params": dict(self._specs[name].params), "device": "cuda" if name in self._gpu else "cpu",
                       **({"recall_at_10": self.recall[name]} if name in self.recall else {})}
                for name, index in self._indexes.items()}

    def _row_codes_bytes(self, field_name: str) -> int:
        codes = self._codes.get(field_name)
        return 0 if codes is None else codes.nbytes

    def close(self) -> None:
        self._gpu.clear()
        self._codes.clear()

    def _refresh_field(self, field_name: str) -> None:
        """(Re)make the GPU copy of a field after a change, and bring its row-ordered IVF codes up to date."""
        index = self._indexes[field_name]
        codes = self._codes.get(field_name)
        if codes is not None:
            codes.extend()
        else:
            self._codes[field_name] = row_codes(index)
        self._gpu.pop(field_name, None)
        if self.device == "cuda":
            gpu = gpu_copy(index, self._specs[field_name].params, field_name)
            if gpu is not None:
                self._gpu[field_name] = gpu


def create(vectors: Mapping[str, np.ndarray], specs: Mapping[str, FieldSpec], directory: Path | None = None,
           *, device: str = "auto", reuse: Mapping[str, Path] | None = None, **_options: Any) -> FaissVectorStore:
    """Build one index per field (spec default: exact Flat); ``directory`` is where `save` will write.

    ``reuse`` names, per field, the previous version's index file built with the same spec: when the new
    vectors differ from it in at most `REUSE_MAX_CHANGED` of the rows (or only add rows), that index is
    loaded and the differences upserted instead of building the field again (an HNSW field of 44k rows
    costs seconds to tens of seconds to build; an unchanged one then costs a file read)."""
    indexes, used, pending = {}, {}, {}
    for name, x in vectors.items():
        spec = specs.get(name) or FieldSpec()
        x = np.ascontiguousarray(x, np.float32)
        reused = reuse_previous(Path(reuse[name]), x, spec) if reuse and name in reuse else None
        if reused is not None:
            indexes[name], rows = reused
            pending[name] = (rows, x[rows])
            logger.info("field %s: reusing %s (%d rows changed or added)", name, reuse[name], len(rows))  # type: ignore[index]
        else:
            indexes[name] = build_vector_index(x, spec.factory, spec.params)
        used[name] = FieldSpec(spec.factory, dict(spec.params))
    store = FaissVectorStore(indexes, used, device=device)
    for name, (rows, x) in pending.items():
        if len(rows):
            store.upsert(name, rows, x)
    store.reused = sorted(pending)
    store.unchanged = sorted(name for name, (rows, x) in pending.items()
                             if previous_overlay_matches(Path(reuse[name]), vectors[name], rows))  # type: ignore[index]
    return store


def open_(directory: Path, record: Mapping[str, Any], *, device: str = "auto", **_options: Any) -> FaissVectorStore:
    """The store `save` wrote under ``directory`` (a damaged file raises `CorruptIndexError` naming it)."""
    directory = Path(directory)
    checked = parse_record(directory, record)  # an edited or damaged record: `CorruptIndexError` naming it
    indexes, specs, deleted = {}, {}, {}
    for name, filename in checked.files.items():
        indexes[name] = load_part(directory, filename, load_vector_index)
        spec = checked.specs.get(name) or SpecRecord()
        specs[name] = FieldSpec(spec.factory, dict(spec.params))
        if specs[name].params:
            try:
                apply_params(indexes[name], specs[name].params, f"field {name!r}")
            except IndexError_ as exc:
                raise CorruptIndexError(f"index {directory}: {MANIFEST_NAME} vector_store.specs: {exc}; "
                                        "rebuild the index") from exc
    for name, filename in checked.deleted.items():
        deleted[name] = load_part(directory, filename, lambda p: np.load(p, allow_pickle=False).astype(bool))
    overlays = {name: load_part(directory, filename, read_overlay) for name, filename in checked.overlay.items()}
    store = FaissVectorStore(indexes, specs, deleted, device=device, overlays=overlays)
    store.recall = dict(checked.recall_at_10)
    return store


register_backend(BACKEND, create, open_, check_specs)
