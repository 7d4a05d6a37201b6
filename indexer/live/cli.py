"""`prodsearch index update` and `prodsearch index compact` (registered by `indexer.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register_live(index_sub: argparse._SubParsersAction) -> None:
    from indexer.cli import add_source_options

    update = index_sub.add_parser(
        "update", help="upsert and delete products of a built index (through its write log)",
        description="Validates the changes like a catalog, embeds them through the embedding cache and appends "
                    "them to DIR/live/wal.jsonl (fsync'd). A running server serves them after a reload "
                    "(POST /admin/reload or SIGHUP); --compact folds them into a new index version at once.")
    update.add_argument("--index", required=True, type=Path, help="index directory (from `prodsearch index build`)")
    update.add_argument("--catalog", type=Path, default=None,
                        help="products to insert or replace, in the catalog format (.jsonl or .csv)")
    update.add_argument("--delete", type=Path, default=None, help="file of product ids to delete, one per line")
    update.add_argument("--compact", action="store_true", help="then write a new index version holding every change")
    update.add_argument("--no-progress", action="store_true", help="no progress bar (a log line per stage instead)")
    add_source_options(update)
    update.set_defaults(func=run_update)

    compact = index_sub.add_parser("compact", help="fold the write log of an index into a new version")
    compact.add_argument("--index", required=True, type=Path, help="index directory")
    compact.set_defaults(func=run_compact)


def _encoders(index: Path):  # type: ignore[no-untyped-def]
    from indexer.encoders import load_encoders_for_index
    from indexer.manifest import read_manifest

    return load_encoders_for_index(read_manifest(index).model_specs)


def run_update(args: argparse.Namespace) -> int:
    from indexer.catalog import load_catalog
    from indexer.cli import image_sources_from_args
    from indexer.errors import ProdsearchError
    from indexer.live.offline import read_ids, update_index

    if args.catalog is None and args.delete is None:
        raise ProdsearchError("give --catalog FILE (upserts) and/or --delete FILE (ids)")
    images_root, policy = image_sources_from_args(args)
    changes = load_catalog(args.catalog) if args.catalog else None  # a bad row stops here: nothing written
    if changes is not None:
        changes.images_root, changes.fetch_policy = images_root, policy
    ids = read_ids(args.delete) if args.delete else []
    summary = update_index(args.index, _encoders(args.index), changes, ids, images_root=images_root, fetch=policy,
                           compact=args.compact, progress="log" if args.no_progress else True)
    print(summary.format())
    return 0


def run_compact(args: argparse.Namespace) -> int:
    from indexer.live.offline import compact_index

    summary = compact_index(args.index, _encoders(args.index))
    if summary.compacted_version is None:
        print(f"index {args.index}: nothing to compact (the write log is empty)", file=sys.stderr)
        return 0
    print(summary.format())
    return 0
