"""The vector-store seam: where a field's vectors live and how they are searched, chosen by name.

An index directory keeps one vector *field* per dense signal target (``text``, ``image``,
``clip_text`` when not shared). A `VectorStore` holds every field of one index version; its
backend (``faiss``, embedded, the default; ``milvus``, embedded Milvus Lite or a cluster) is
recorded in the manifest and picked again on load, so searching code never sees FAISS or
pymilvus types. Rows are numbered per field ``0..n-1`` as the build wrote them (product rows for
``text``/``clip_text``, image rows for ``image``; `LoadedIndex.image_rows` maps the latter to
products).

Backends register with `register_backend` and are created with `create_store` /
`open_store`; an unknown name raises `VectorStoreBackendError` (a `ValueError`) listing the valid ones. The contract every
backend meets is one test module (tests/indexer/test_vector_store_contract.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from indexer.errors import ProdsearchError


class VectorStoreBackendError(ProdsearchError, ValueError):
    """A backend name that is not registered, or whose module cannot be imported."""


@dataclass(frozen=True)
class RowFilter:
    """Which rows of a field a search may return.

    ``mask`` (bool, one per row of the field) is authoritative: a backend returns only rows where
    it is True. ``filters`` (the request's `search.filters.Filters` as a plain dict) and
    ``exclude_rows`` say the same thing in a form a backend that evaluates filters natively
    (Milvus boolean expressions over scalar fields) can use instead of the mask.
    """

    mask: np.ndarray | None = None
    filters: Mapping[str, Any] | None = None
    exclude_rows: tuple[int, ...] = ()


@dataclass
class FieldSpec:
    """How one field is indexed: a FAISS factory string and search parameters, or a backend's equivalent."""

    factory: str = "Flat"
    params: dict[str, float] = field(default_factory=dict)  # e.g. {"efSearch": 96} or {"nprobe": 24}


@runtime_checkable
class VectorStore(Protocol):
    """Every vector field of one index version, behind one small interface."""

    backend: str

    def fields(self) -> tuple[str, ...]: ...

    def dim(self, field_name: str) -> int: ...

    def count(self, field_name: str) -> int: ...

    def search(self, field_name: str, queries: np.ndarray, k: int,
               allowed: RowFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows by inner product: ``(D, I)`` of shape ``(nq, k')``, ``I == -1`` where there is no hit."""
        ...

    def vectors(self, field_name: str, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows`` (float32 ``(len(rows), d)``; approximate for compressed indexes)."""
        ...

    def add(self, field_name: str, vectors: np.ndarray) -> np.ndarray:
        """Append vectors; returns their new rows."""
        ...

    def upsert(self, field_name: str, rows: np.ndarray, vectors: np.ndarray) -> None: ...

    def delete(self, field_name: str, rows: np.ndarray) -> None: ...

    def save(self, directory: Path) -> dict[str, Any]:
        """Write the store under ``directory``; returns what the manifest records to open it again."""
        ...

    def stats(self) -> dict[str, Any]:
        """Per field: rows, bytes, factory and search parameters, recall when measured."""
        ...

    def close(self) -> None: ...


# name -> (create(vectors per field, specs per field, directory, **options), open(directory, manifest record, **options))
Create = Callable[..., VectorStore]
Open = Callable[..., VectorStore]
# check(specs per field, dimension per field): raises a `ProdsearchError` for a spec the backend cannot build
CheckSpecs = Callable[[Mapping[str, FieldSpec], Mapping[str, int]], None]
_backends: dict[str, tuple[Create, Open]] = {}
_spec_checks: dict[str, CheckSpecs] = {}


def register_backend(name: str, create: Create, open_: Open, check_specs: CheckSpecs | None = None) -> None:
    """Make a backend available by ``name``; ``check_specs`` (optional) lets a build reject bad specs before embedding."""
    _backends[name] = (create, open_)
    if check_specs is not None:
        _spec_checks[name] = check_specs


# The built-in backends, imported (and so registered) only when first used: pymilvus alone costs ~1 s
# of start-up that a faiss build or server need not pay.
BUILTIN_BACKENDS = {"faiss": "indexer.faiss_store", "milvus": "indexer.milvus_store"}


def backend_names() -> tuple[str, ...]:
    """Backend names, sorted (so messages and test ids do not depend on import order)."""
    return tuple(sorted(set(_backends) | set(BUILTIN_BACKENDS)))


def _backend(name: str) -> tuple[Create, Open]:
    if name not in _backends and name in BUILTIN_BACKENDS:
        try:
            importlib.import_module(BUILTIN_BACKENDS[name])
        except ImportError as exc:
            raise VectorStoreBackendError(f"vector store backend {name!r} cannot be loaded ({exc}); "
                             "install the project's dependencies (pymilvus, milvus-lite)") from exc
    if name not in _backends:
        raise VectorStoreBackendError(f"unknown vector store backend {name!r}; valid: {', '.join(backend_names())}")
    return _backends[name]


def create_store(name: str, vectors: Mapping[str, np.ndarray], specs: Mapping[str, FieldSpec],
                 directory: Path, **options: Any) -> VectorStore:
    """A new store of backend ``name`` holding ``vectors`` (one ``(n, d)`` float32 array per field)."""
    return _backend(name)[0](vectors, specs, directory, **options)


def check_specs(name: str, specs: Mapping[str, FieldSpec], dims: Mapping[str, int]) -> None:
    """Validate ``specs`` (one per field) for backend ``name`` before any embedding work (no-op if it has no check)."""
    _backend(name)
    if name in _spec_checks:
        _spec_checks[name](specs, dims)


def open_store(name: str, directory: Path, record: Mapping[str, Any], **options: Any) -> VectorStore:
    """The store an index version saved (``record`` is what `VectorStore.save` returned, from the manifest)."""
    return _backend(name)[1](directory, record, **options)
