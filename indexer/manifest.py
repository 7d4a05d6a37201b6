"""`manifest.json`: what an index directory was built from, checked on load."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from indexer.errors import CorruptIndexError, IndexNotFoundError, ManifestMismatchError
from indexer.index_dir import MANIFEST as MANIFEST_NAME
from indexer.index_dir import interrupted_swap_hint, resolve_current

FORMAT_VERSION = 1
VERSIONED_LIBRARIES = ("faiss-cpu", "faiss-gpu", "bm25s", "sentence-transformers", "open_clip_torch", "torch", "numpy")


class FileRecord(BaseModel):
    """One file of an index version, as written (checked on load)."""

    size: int
    sha256: str


class Manifest(BaseModel):
    format_version: int = FORMAT_VERSION
    text_model: str
    text_dim: int
    clip_model: str
    clip_dim: int
    clip_trained: bool
    model_specs: dict[str, str | None] = Field(default_factory=dict)
    factories: dict[str, str]
    catalog_path: str
    catalog_sha256: str
    counts: dict[str, int]
    library_versions: dict[str, str] = Field(default_factory=dict)
    built_at: str = ""
    build_seconds: dict[str, float] = Field(default_factory=dict)
    build_id: str = ""  # the version's name under versions/ (empty: a flat index from an older version)
    files: dict[str, FileRecord] = Field(default_factory=dict)  # relative path -> size, sha256
    # What the dense text signals embedded (`indexer.text_recipe`); "full" for indexes built before it was recorded.
    text_recipe: str = "full"
    # True: one vector set (text.faiss) serves both `semantic` and `cross_modal`; there is no clip_text.faiss.
    shared_text_vectors: bool = False
    # Distinct texts/photos embedded vs read from the embedding cache by the build.
    embedding_counts: dict[str, int] = Field(default_factory=dict)
    # The embedding cache directory the build used ("" with --no-cache); queries reuse its ONNX export.
    embedding_cache: str = ""
    # The vector store (`indexer.vector_store`): its backend, what its `save()` returned (how to open it
    # again), each field's search parameters and measured recall@10 (approximate fields only).
    # Indexes built before these were recorded are faiss stores of INDEX_FILES with `factories`.
    backend: str = "faiss"
    vector_store: dict[str, Any] = Field(default_factory=dict)
    search_params: dict[str, dict[str, float]] = Field(default_factory=dict)
    recall_at_10: dict[str, float] = Field(default_factory=dict)
    # Per reusable part (lexical, store), a digest of what decides its bytes: a rebuild with the same one copies
    # the part from this version (`indexer.reuse`).
    reuse_digests: dict[str, str] = Field(default_factory=dict)


def library_versions() -> dict[str, str]:
    versions = {}
    for name in VERSIONED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_manifest(directory: Path, manifest: Manifest) -> None:
    (directory / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=2) + "\n")


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the index at ``directory`` (its current version, a version directory or a flat index)."""
    directory = resolve_current(directory)
    path = directory / MANIFEST_NAME
    if not directory.is_dir():
        raise IndexNotFoundError(
            f"no index at {directory}; build one with `prodsearch index build --catalog PATH --out {directory}`"
            + interrupted_swap_hint(directory))
    if not path.is_file():
        raise IndexNotFoundError(f"{directory} has no {MANIFEST_NAME}: not an index directory, or an interrupted build")
    try:
        manifest = Manifest.model_validate(json.loads(path.read_text()))
    except (ValidationError, ValueError, RecursionError) as exc:  # bad JSON, not UTF-8, too deep, wrong fields
        reason = " ".join(str(exc).split())[:300]
        raise CorruptIndexError(f"index {directory}: {MANIFEST_NAME} is unreadable ({reason}); rebuild the index") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise ManifestMismatchError(
            f"{directory} has index format {manifest.format_version}, this version reads {FORMAT_VERSION}; rebuild it")
    return manifest


def check_manifest(manifest: Manifest, *, text_model: str, text_dim: int, clip_model: str, clip_dim: int) -> None:
    """Raise `ManifestMismatchError` when the configured models are not the ones the index was built with."""
    problems = []
    if manifest.text_model != text_model or manifest.text_dim != text_dim:
        problems.append(f"text model: index has {manifest.text_model} ({manifest.text_dim}d), "
                        f"configured {text_model} ({text_dim}d)")
    if manifest.clip_model != clip_model or manifest.clip_dim != clip_dim:
        problems.append(f"CLIP model: index has {manifest.clip_model} ({manifest.clip_dim}d), "
                        f"configured {clip_model} ({clip_dim}d)")
    if problems:
        raise ManifestMismatchError("the index was built with other models: " + "; ".join(problems)
                                    + ". Rebuild the index or configure the models it was built with.")
