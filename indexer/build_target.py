"""Whether a folder may be built into, checked before a build writes or removes anything there.

A build removes stale versions under ``versions/`` and, once a flat index is migrated, that index's
files (`indexer.index_dir.clean_stale`). Both are safe only where prodsearch wrote them: this module
refuses a folder where those names hold something else, so a build never deletes a user's files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from indexer.errors import IndexError_
from indexer.index_dir import (
    BUILDING_PREFIX,
    CURRENT,
    LINK_TMP_SUFFIX,
    LOCK_FILE,
    MANIFEST,
    PREVIOUS,
    SCRATCH_PREFIX,
    VERSIONS,
)
from indexer.json_input import parse_json

# A version's name as `indexer.index_dir.new_build_id` makes it: 20261130T151719123456-3fa2c1.
BUILD_ID_RE = re.compile(r"\d{8}T\d{12}-[0-9a-f]{6}")
# Keys every prodsearch manifest has had since format 1 (`indexer.manifest.Manifest`).
MANIFEST_KEYS = frozenset({"text_model", "text_dim", "clip_model", "clip_dim", "factories", "catalog_sha256", "counts"})
MAX_MANIFEST_BYTES = 64 << 20
# Top-level entries a build may find in an index folder that holds no version yet (the embedding cache).
FIRST_BUILD_ENTRIES = frozenset({"cache"})


def is_build_id(name: str) -> bool:
    return BUILD_ID_RE.fullmatch(name) is not None


def is_prodsearch_manifest(path: Path) -> bool:
    """Whether ``path`` is a manifest.json that prodsearch wrote (not another tool's file of that name)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
            return False
        data = parse_json(path.read_bytes())  # ValueError for any bad JSON, deep nesting included
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.keys() >= MANIFEST_KEYS


def _versions_problem(versions: Path) -> str | None:
    """What in ``versions/`` a build did not create, or None."""
    if versions.is_symlink() or not versions.is_dir():
        return f"{versions} is not a folder"
    foreign = []
    for entry in sorted(versions.iterdir(), key=lambda p: p.name):
        name = entry.name
        prefix = next((p for p in (BUILDING_PREFIX, SCRATCH_PREFIX) if name.startswith(p)), "")
        ours = (name == LOCK_FILE and entry.is_file() and not entry.is_symlink()) or (
            entry.is_dir() and not entry.is_symlink() and is_build_id(name.removeprefix(prefix)))
        if not ours:
            foreign.append(name)
    if foreign:
        return f"{versions} holds {_names(foreign)}, which no prodsearch build created"
    return None


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def check_build_target(root: str | Path, *, allow_foreign: bool = True, allow: Iterable[str] = ()) -> None:
    """Raise `IndexError_` (touching nothing) unless every name a build may remove in ``root`` is prodsearch's.

    With ``allow_foreign=False`` also refuse a non-empty folder that is neither an index directory nor a
    flat index (entries in ``allow``, and the embedding cache, are accepted there): the CLI's check, made
    before anything is written.
    """
    root = Path(root)
    if not root.exists():
        return
    if not root.is_dir():
        raise IndexError_(f"{root} exists and is not a folder; choose another --out")
    fix = "choose another --out (an empty or new folder, or an existing prodsearch index)"
    problems = []
    flat = is_prodsearch_manifest(root / MANIFEST)
    if (root / MANIFEST).exists() and not flat:
        problems.append(f"{root / MANIFEST} is not a prodsearch index manifest")
    if (root / VERSIONS).exists() or (root / VERSIONS).is_symlink():
        problem = _versions_problem(root / VERSIONS)
        if problem:
            problems.append(problem)
    for name in (CURRENT, PREVIOUS):
        if (root / name).exists() and not (root / name).is_symlink():
            problems.append(f"{root / name} is not a symlink (a copied index?)")
    for entry in root.glob(f".*{LINK_TMP_SUFFIX}"):
        if not entry.is_symlink():
            problems.append(f"{entry} is not a symlink")
    if problems:
        raise IndexError_(f"refusing to build into {root}: " + "; ".join(problems) + f"; {fix}")
    is_index = flat or (root / CURRENT).is_symlink() or (root / VERSIONS).is_dir()
    if not allow_foreign and not is_index:
        foreign = sorted(set(p.name for p in root.iterdir()) - FIRST_BUILD_ENTRIES - set(allow))
        if foreign:
            raise IndexError_(f"refusing to build into {root}: it is a non-empty folder that is not a prodsearch "
                              f"index (it holds {_names(foreign)}); {fix}")
