"""The ``faiss`` vector store (the default backend): one FAISS index per field, held in this process.

Each field has its own factory string and search parameters (`FieldSpec`), applied through
`faiss.ParameterSpace` when built and again when opened. Filtered searches go through
`indexer.vector_index.search_vectors`, which scores a selective filter's few rows exactly. Deleted
rows are a tombstone bitmap per field, combined with the request's mask and saved beside the index
(``FIELD.deleted.npy``); rows keep their numbers, so `add` appends after the last row. With
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

from indexer.errors import IndexError_, InvalidArrayError
from indexer.integrity import load_part
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
                 deleted: dict[str, np.ndarray] | None = None, device: str = "auto") -> None:
        self._indexes = indexes
        self._specs = specs
        self._deleted = {name: np.zeros(index.ntotal, bool) for name, index in indexes.items()}
        for name, mask in (deleted or {}).items():
            self._deleted[name][: len(mask)] = mask[: indexes[name].ntotal]
        self.device = resolve_device(device)
        self._gpu: dict[str, faiss.Index] = {}
        self.recall: dict[str, float] = {}
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

    def dim(self, field_name: str) -> int:
        return int(self._index(field_name).d)

    def count(self, field_name: str) -> int:
        return int(self._index(field_name).ntotal)

    def spec(self, field_name: str) -> FieldSpec:
        self._index(field_name)
        return self._specs[field_name]

    def search(self, field_name: str, queries: np.ndarray, k: int,
               allowed: RowFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        index = self._index(field_name)
        mask = None if allowed is None else allowed.mask
        if allowed is not None and allowed.exclude_rows:
            mask = np.ones(index.ntotal, bool) if mask is None else mask.copy()
            mask[np.asarray(allowed.exclude_rows, np.int64)] = False
        deleted = self._deleted[field_name]
        if deleted.any():
            mask = ~deleted if mask is None else (mask & ~deleted if mask.shape == deleted.shape else mask)
        return search_vectors(index, queries, k, mask, self._gpu.get(field_name))

    def vectors(self, field_name: str, rows: np.ndarray) -> np.ndarray:
        index = self._index(field_name)
        rows = np.asarray(rows, np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= index.ntotal):
            raise InvalidArrayError(f"{field_name}: rows outside [0, {index.ntotal})")
        if not len(rows):
            return np.zeros((0, index.d), np.float32)
        try:
            return np.asarray(index.reconstruct_batch(rows), np.float32)
        except RuntimeError as exc:
            raise IndexError_(f"{field_name}: this index ({self._specs[field_name].factory}) cannot return its "
                              f"vectors: {str(exc).strip().splitlines()[-1]}") from None

    # -- writing ---------------------------------------------------------------------------------
    def add(self, field_name: str, vectors: np.ndarray) -> np.ndarray:
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
        index = self._index(field_name)
        rows = np.asarray(rows, np.int64).reshape(-1)
        vectors = check_vectors(vectors, index.d, f"{field_name} vectors")
        if len(rows) != len(vectors):
            raise InvalidArrayError(f"upsert {field_name}: {len(rows)} rows for {len(vectors)} vectors")
        old = rows < index.ntotal
        new_rows = rows[~old]
        if len(new_rows) and not np.array_equal(np.sort(new_rows), np.arange(index.ntotal, index.ntotal + len(new_rows))):
            raise InvalidArrayError(f"upsert {field_name}: new rows must follow on from row {index.ntotal - 1}")
        if old.any():
            self._replace(field_name, rows[old], vectors[old])
            self._deleted[field_name][rows[old]] = False
        if len(new_rows):
            order = np.argsort(rows[~old], kind="stable")
            self.add(field_name, vectors[~old][order])
        self._to_device(field_name)

    def _replace(self, field_name: str, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Overwrite stored vectors in place: flat codes (Flat, HNSW's storage) or IVF lists with a direct map.

        An HNSW graph keeps the row's old neighbours (searches score the new vector; recall for a
        moved row can dip until the next build)."""
        index = faiss.downcast_index(self._index(field_name))
        ivf = faiss.try_extract_index_ivf(index) if hasattr(faiss, "try_extract_index_ivf") else None
        if ivf is not None and ivf is index:
            index.update_vectors(len(rows), faiss.swig_ptr(rows), faiss.swig_ptr(vectors))
            return
        flat = faiss.downcast_index(index.storage) if hasattr(index, "storage") else index
        if not isinstance(flat, faiss.IndexFlatCodes) or flat.code_size != 4 * flat.d:
            raise IndexError_(f"upsert {field_name}: {self._specs[field_name].factory} cannot replace vectors in place; "
                              "delete the rows and add them again, or rebuild")
        codes = faiss.rev_swig_ptr(flat.codes.data(), flat.ntotal * flat.code_size).view(np.float32)
        codes.reshape(flat.ntotal, flat.d)[rows] = vectors

    def delete(self, field_name: str, rows: np.ndarray) -> None:
        index = self._index(field_name)
        rows = np.asarray(rows, np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= index.ntotal):
            raise InvalidArrayError(f"delete {field_name}: rows outside [0, {index.ntotal})")
        self._deleted[field_name][rows] = True

    def deleted(self, field_name: str) -> np.ndarray:
        """The tombstone bitmap of ``field_name`` (a copy)."""
        self._index(field_name)
        return self._deleted[field_name].copy()

    # -- persistence -----------------------------------------------------------------------------
    def save(self, directory: Path) -> dict[str, Any]:
        directory = Path(directory)
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
        if self.recall:
            record["recall_at_10"] = dict(self.recall)
        return record

    def stats(self) -> dict[str, Any]:
        return {name: {"rows": int(index.ntotal), "deleted": int(self._deleted[name].sum()),
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


def create(vectors: Mapping[str, np.ndarray], specs: Mapping[str, FieldSpec], directory: Path | None = None,
           *, device: str = "auto", **_options: Any) -> FaissVectorStore:
    """Build one index per field (spec default: exact Flat); ``directory`` is where `save` will write."""
    indexes, used = {}, {}
    for name, x in vectors.items():
        spec = specs.get(name) or FieldSpec()
        index = build_vector_index(np.ascontiguousarray(x, np.float32), spec.factory, spec.params)
        indexes[name], used[name] = index, FieldSpec(spec.factory, dict(spec.params))
    return FaissVectorStore(indexes, used, device=device)


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
    store = FaissVectorStore(indexes, specs, deleted, device=device)
    store.recall = dict(record.get("recall_at_10", {}))
    return store


register_backend(BACKEND, create, open_, check_specs)
