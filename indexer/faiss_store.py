"""The ``faiss`` vector store (the default backend): one FAISS index per field, held in this process.

Each field has its own factory string and search parameters (`FieldSpec`), applied through
`faiss.ParameterSpace` when built and again when opened. Filtered searches go through
`indexer.vector_index.search_vectors`, which scores a selective filter's few rows exactly. Deleted
rows are a tombstone bitmap per field, combined with the request's mask and saved beside the index
(``FIELD.deleted.npy``); rows keep their numbers, so `add` appends after the last row. `upsert` writes a Flat field's vectors in
place; in any other index a replaced row could be unreachable (an HNSW graph keeps its old neighbours,
an IVF list its old centroid), so the row is masked out of the index and its new vector kept in a small
exact *overlay* searched beside it (``FIELD.overlay.npz``; a rebuild folds it in). With
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

from indexer.errors import IndexError_, InvalidArrayError, ProdsearchError
from indexer.integrity import load_part
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
DEVICES = ("auto", "cpu", "cuda")
_gpu_resources: Any = None


def index_file(field_name: str) -> str:
    return f"{field_name}.faiss"


def deleted_file(field_name: str) -> str:
    return f"{field_name}.deleted.npy"


def overlay_file(field_name: str) -> str:
    return f"{field_name}.overlay.npz"


def _merge(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray],
           k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best k of two (D, I) results per query (misses, I == -1, last)."""
    D = np.concatenate([first[0], second[0]], axis=1)
    I = np.concatenate([first[1], second[1]], axis=1)
    D = np.where(I >= 0, D, -np.inf)
    order = np.argsort(-D, axis=1, kind="stable")[:, :k]
    D, I = np.take_along_axis(D, order, axis=1), np.take_along_axis(I, order, axis=1)
    return D.astype(np.float32), np.where(np.isfinite(D), I, -1).astype(np.int64)


def gpu_available() -> bool:
    """True when this faiss is faiss-gpu and sees at least one CUDA device."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def resolve_device(device: str | None) -> str:
    """``cpu`` or ``cuda`` for the vector indexes; ``cuda`` without a GPU is an error, ``auto`` falls back."""
    device = device or "auto"
    if device.startswith("cuda"):
        if gpu_available():
            return "cuda"
        if not hasattr(faiss, "StandardGpuResources") and _torch_sees_gpu():
            logger.warning("--device %s: this faiss is faiss-cpu, so the vector indexes stay on the CPU "
                           "(install faiss-gpu to search on the GPU)", device)
            return "cpu"
        raise IndexError_(f"--device {device}: no CUDA GPU is visible (faiss {faiss.__version__}"
                          f"{'' if hasattr(faiss, 'StandardGpuResources') else ', CPU-only build'}); "
                          "use --device auto or cpu")
    if device not in DEVICES:
        raise IndexError_(f"--device {device!r}: expected one of {', '.join(DEVICES)}")
    return "cuda" if device == "auto" and gpu_available() else "cpu"


def _torch_sees_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _shared_gpu_resources() -> Any:
    """One `StandardGpuResources` for every GPU copy in the process (each one reserves scratch memory)."""
    global _gpu_resources
    if _gpu_resources is None:
        _gpu_resources = faiss.StandardGpuResources()
    return _gpu_resources


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
        self.device = resolve_device(device)
        self._lock = ReadWriteLock()
        self._gpu: dict[str, faiss.Index] = {}
        self.recall: dict[str, float] = {}
        self.reused: list[str] = []  # fields `create` took from the previous version's index (`reuse`)
        self.unchanged: list[str] = []  # ... of which nothing changed (their measured recall still holds)
        for name in indexes:
            self._to_device(name)

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
            return search_vectors(index, queries, k, mask, self._gpu.get(field_name))
        rows = np.fromiter(overlay, np.int64, len(overlay))
        live = rows[mask[rows]] if mask is not None else rows
        in_index = mask.copy() if mask is not None else np.ones(index.ntotal, bool)
        in_index[rows] = False
        D, I = search_vectors(index, queries, k, in_index, self._gpu.get(field_name))
        if not len(live):
            return D, I
        scores = check_vectors(queries, index.d, "queries") @ np.stack([overlay[int(r)] for r in live]).T
        ids = np.broadcast_to(live, scores.shape)
        return _merge((D, I), (scores, ids), min(k, index.ntotal))

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
            out = np.asarray(index.reconstruct_batch(rows), np.float32)
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
        self._to_device(field_name)
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
        self._to_device(field_name)

    def _replace(self, field_name: str, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Overwrite a Flat field's vectors in place; in any other index, move the rows to the exact overlay."""
        index = faiss.downcast_index(self._index(field_name))
        if isinstance(index, faiss.IndexFlat):
            codes = faiss.rev_swig_ptr(index.codes.data(), index.ntotal * index.code_size).view(np.float32)
            codes.reshape(index.ntotal, index.d)[rows] = vectors
            return
        overlay = self._overlay[field_name]
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
                       "bytes": _estimated_bytes(index), "factory": self._specs[name].factory,
                       "params": dict(self._specs[name].params), "device": "cuda" if name in self._gpu else "cpu",
                       **({"recall_at_10": self.recall[name]} if name in self.recall else {})}
                for name, index in self._indexes.items()}

    def close(self) -> None:
        self._gpu.clear()

    def _to_device(self, field_name: str) -> None:
        """(Re)make the GPU copy of a field after a change; an index type without a GPU version stays on the CPU."""
        self._gpu.pop(field_name, None)
        if self.device != "cuda":
            return
        try:
            gpu = faiss.index_cpu_to_gpu(_shared_gpu_resources(), 0, self._indexes[field_name])
        except RuntimeError as exc:  # e.g. HNSW has no GPU version
            logger.info("field %s stays on the CPU: %s", field_name, str(exc).strip().splitlines()[-1])
            return
        params = {k: v for k, v in self._specs[field_name].params.items() if k in ("nprobe", "max_codes")}
        if params:
            space = faiss.GpuParameterSpace()
            for key, value in params.items():
                space.set_index_parameter(gpu, key, float(value))
        self._gpu[field_name] = gpu


# A rebuild reuses the previous version's approximate index of a field when at most this fraction of
# its rows changed (the changed rows go to the exact overlay); more, and the field is built afresh,
# which also folds earlier overlays back in.
REUSE_MAX_CHANGED = 0.05


def _reuse_previous(path: Path, x: np.ndarray, spec: FieldSpec) -> tuple[faiss.Index, np.ndarray] | None:
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
    """An exact overlay file `save` wrote: row -> its float32 vector."""
    with np.load(path, allow_pickle=False) as saved:
        return {int(r): v.astype(np.float32) for r, v in zip(saved["rows"], saved["vectors"], strict=True)}


def _previous_overlay_matches(path: Path, x: np.ndarray, rows: np.ndarray) -> bool:
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
        reused = _reuse_previous(Path(reuse[name]), x, spec) if reuse and name in reuse else None
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
                             if _previous_overlay_matches(Path(reuse[name]), vectors[name], rows))  # type: ignore[index]
    return store


def open_(directory: Path, record: Mapping[str, Any], *, device: str = "auto", **_options: Any) -> FaissVectorStore:
    """The store `save` wrote under ``directory`` (a damaged file raises `CorruptIndexError` naming it)."""
    directory = Path(directory)
    indexes, specs, deleted = {}, {}, {}
    saved_specs = record.get("specs", {})
    for name, filename in record.get("files", {}).items():
        indexes[name] = load_part(directory, filename, load_vector_index)
        spec = saved_specs.get(name, {})
        specs[name] = FieldSpec(spec.get("factory", "Flat"), dict(spec.get("params", {})))
        if specs[name].params:
            apply_params(indexes[name], specs[name].params, f"field {name!r}")
    for name, filename in record.get("deleted", {}).items():
        deleted[name] = load_part(directory, filename, lambda p: np.load(p, allow_pickle=False).astype(bool))
    overlays = {name: load_part(directory, filename, read_overlay)
                for name, filename in record.get("overlay", {}).items()}
    store = FaissVectorStore(indexes, specs, deleted, device=device, overlays=overlays)
    store.recall = dict(record.get("recall_at_10", {}))
    return store


register_backend(BACKEND, create, open_, check_specs)
