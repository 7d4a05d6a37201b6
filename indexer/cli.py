"""`prodsearch index build|info`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.fetch import FetchPolicy

logger = logging.getLogger(__name__)
MAX_IMAGE_WORKERS = 64  # threads decoding photos (one per photo at most; more only contend for the cores)


def add_model_options(parser: argparse.ArgumentParser, default: str | None = "default") -> None:
    """--text-model / --clip-model / --clip-pretrained / --device, shared by every command that embeds."""
    hint = "" if default else " (default: the one the index was built with)"
    parser.add_argument("--text-model", default=default,
                        help="sentence-transformers model name or directory; 'default' = packaged all-MiniLM-L6-v2" + hint)
    parser.add_argument("--clip-model", default=default,
                        help="open_clip model: 'default' (shipped), NAME, hf-hub:ORG/REPO or local-dir:PATH" + hint)
    parser.add_argument("--clip-pretrained", default=None, help="open_clip pretrained tag or checkpoint file")
    parser.add_argument("--device", default=None,
                        help="auto (default: cuda when available), cpu or cuda: the encoders, and the vector indexes "
                             "when faiss-gpu sees a GPU (cuda without one is an error)")


def register(sub: argparse._SubParsersAction) -> None:
    index = sub.add_parser("index", help="build and inspect search indexes")
    index_sub = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")

    build = index_sub.add_parser("build", help="catalog -> embeddings -> FAISS index directory")
    build.add_argument("--catalog", required=True, type=Path, help="catalog file (.jsonl or .csv)")
    build.add_argument("--out", required=True, type=Path, help="index directory (replaced atomically)")
    build.add_argument("--skip-invalid", action="store_true",
                       help="index the valid rows and write the bad ones to rejects.jsonl in the index's version")
    build.add_argument("--factory", default="auto",
                       help="index spec of every vector field: FAISS factory[,param=value...] (Flat, HNSW32,efSearch=96, "
                            "IVF1024,SQ8,nprobe=24, ...) or auto (default: Flat below 10k rows, else HNSW32,efSearch=128)")
    build.add_argument("--index-spec", action="append", default=[], metavar="FIELD=FACTORY[,param=value...]",
                       help="index spec of one vector field (text, image, clip_text), e.g. text=HNSW32,efSearch=96 or "
                            "image=IVF1024,SQ8,nprobe=24; repeatable; overrides --factory for that field")
    build.add_argument("--backend", default="faiss",
                       help="vector store backend: faiss (default, embedded) or milvus (when pymilvus is installed)")
    build.add_argument("--min-recall", type=float, default=0.95,
                       help="fail the build (publishing nothing) when an approximate field's recall@10 against exact "
                            "search is below this (default %(default)g)")
    build.add_argument("--milvus-uri", default=None,
                       help="milvus backend only: a Milvus Lite file (default: inside the index directory) or "
                            "http://host:19530 for a Milvus server")
    build.add_argument("--image-workers", type=int, default=4, help=f"threads decoding images (1 to {MAX_IMAGE_WORKERS})")
    build.add_argument("--no-progress", action="store_true", help="no progress bar (a log line per stage instead)")
    build.add_argument("--quiet", action="store_true", help="no progress output at all; only the summary")
    build.add_argument("--text-recipe", default=None,
                       help="what the dense text signals embed: caption (default), caption+description:N, full")
    build.add_argument("--cache", type=Path, default=None,
                       help="embedding cache directory (default: OUT/cache); unchanged texts and photos are not re-embedded")
    build.add_argument("--no-cache", action="store_true", help="embed everything; keep no cache")
    build.add_argument("--text-backend", choices=["onnx", "torch"], default="onnx",
                       help="bulk text embedding on CPU: ONNX Runtime fp32 (default, exported once into the cache) or torch")
    add_source_options(build)
    add_model_options(build)
    build.set_defaults(func=run_build)

    info = index_sub.add_parser("info", help="print an index's manifest")
    info.add_argument("index_dir", type=Path)
    info.set_defaults(func=run_info)

    verify = index_sub.add_parser("verify", help="check an index's files (sizes, sha256) and counts")
    verify.add_argument("index_dir", type=Path)
    verify.set_defaults(func=run_verify)

    from indexer.live.cli import register_live

    register_live(index_sub)  # update, compact


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Where catalog photos may be read from (see indexer/sources.py and indexer/fetch.py)."""
    from indexer.fetch import DEFAULT_MAX_BYTES

    parser.add_argument("--images-root", type=Path, default=None,
                        help="also read local photos from this folder (default: only inside the catalog's folder)")
    parser.add_argument("--allow-private-hosts", action="store_true",
                        help="fetch photo URLs from private, loopback and link-local addresses (your own network)")
    parser.add_argument("--allowed-hosts", default="",
                        help="comma-separated host names, IPs or CIDR networks whose photo URLs may be private")
    parser.add_argument("--images-ca-file", default=None,
                        help="CA bundle to verify https photo hosts with (e.g. your own CA), instead of the default")
    parser.add_argument("--max-image-mb", type=float, default=DEFAULT_MAX_BYTES / 2**20,
                        help="largest photo read or downloaded, in MB (default %(default)g)")


def image_sources_from_args(args: argparse.Namespace) -> tuple[Path | None, FetchPolicy]:
    """(--images-root, fetch policy) from the options of `add_source_options`; checks the folder exists."""
    from indexer.errors import ProdsearchError
    from indexer.fetch import FetchPolicy
    from indexer.images import MAX_IMAGE_MB

    root = args.images_root
    if root is not None and not root.is_dir():
        raise ProdsearchError(f"--images-root {root}: not a folder")
    if not 0 < args.max_image_mb <= MAX_IMAGE_MB:  # nan and inf fail too
        raise ProdsearchError(f"--max-image-mb {args.max_image_mb:g}: expected more than 0 and at most "
                              f"{MAX_IMAGE_MB:g} (a larger photo is never decoded)")
    if args.images_ca_file is not None and not Path(args.images_ca_file).is_file():
        raise ProdsearchError(f"--images-ca-file {args.images_ca_file}: no such file")
    hosts = tuple(h.strip() for h in args.allowed_hosts.split(",") if h.strip())
    return root, FetchPolicy(allow_private_hosts=args.allow_private_hosts, allowed_hosts=hosts,
                             max_bytes=int(args.max_image_mb * 2**20), ca_file=args.images_ca_file)


def run_build(args: argparse.Namespace) -> int:
    from indexer.build import build_index, default_cache_dir
    from indexer.catalog import load_catalog
    from indexer.encoders import load_encoders_for_build
    from indexer.errors import ProdsearchError
    from indexer.text_recipe import DEFAULT_TEXT_RECIPE, text_recipe

    vector_build = vector_build_from_args(args)  # bad specs, backend or device fail before the models load
    if not 1 <= args.image_workers <= MAX_IMAGE_WORKERS:
        raise ProdsearchError(f"--image-workers {args.image_workers}: expected 1 to {MAX_IMAGE_WORKERS}")
    if args.text_recipe:
        text_recipe(args.text_recipe)  # an unknown recipe fails before the models load
    images_root, fetch_policy = image_sources_from_args(args)
    check_out_dir(args)  # a file, or a folder holding someone else's files, is refused before any model loads
    catalog = load_catalog(args.catalog, skip_invalid=args.skip_invalid)  # fails before anything is written
    catalog.images_root, catalog.fetch_policy = images_root, fetch_policy
    if catalog.rejects:
        logger.warning("%d invalid row(s) skipped; they will be listed in %s/current/rejects.jsonl",
                       len(catalog.rejects), args.out)
    # With a cache, a model whose profile is recorded there loads only if something must be embedded.
    profiles_dir = None if args.no_cache else (args.cache or default_cache_dir(args.out))
    encoders = load_encoders_for_build(args.text_model, args.clip_model, args.clip_pretrained, args.device,
                                       profiles_dir=profiles_dir)
    summary = build_index(catalog, args.out, encoders, vector_build=vector_build, image_workers=args.image_workers,
                          progress="off" if args.quiet else "log" if args.no_progress else True,
                          text_recipe=args.text_recipe or DEFAULT_TEXT_RECIPE,
                          cache_dir=args.cache, use_cache=not args.no_cache, text_backend=args.text_backend)
    print(summary.format())
    for reject in catalog.rejects[:20]:
        print(f"  rejected: {reject}", file=sys.stderr)
    return 0


def check_folder_path(option: str, path: Path) -> None:
    """Refuse a folder path that is a file, or lies under one: the build would fail on it after the models load."""
    from indexer.errors import ProdsearchError

    for existing in (path, *path.absolute().parents):  # the path, else its nearest existing parent
        if existing.exists():
            if not existing.is_dir():
                what = "exists and is not a folder" if existing == path else f"{existing} is a file, not a folder"
                raise ProdsearchError(f"{option} {path}: {what}")
            return


def check_out_dir(args: argparse.Namespace) -> None:
    """Refuse an --out (or --cache) that is a file, or an --out that is not empty, new or a prodsearch index."""
    from indexer.build import default_cache_dir
    from indexer.build_target import check_build_target

    check_folder_path("--out", Path(args.out))
    if not args.no_cache:
        check_folder_path("--cache" if args.cache is not None else "--cache (default)",
                          Path(args.cache) if args.cache is not None else default_cache_dir(args.out))
    out, cache = Path(args.out).absolute(), None if args.no_cache or args.cache is None else Path(args.cache).absolute()
    # --cache inside --out: that folder is expected there (it holds only the cache once a build made it)
    allow = [cache.relative_to(out).parts[0]] if cache is not None and cache != out and cache.is_relative_to(out) else []
    check_build_target(args.out, allow_foreign=False, allow=allow)


def vector_build_from_args(args: argparse.Namespace):  # -> indexer.index_specs.VectorBuild
    """--factory, --index-spec, --backend, --min-recall, --device, --milvus-uri -> a checked `VectorBuild`."""
    from indexer.errors import ProdsearchError
    from indexer.index_specs import vector_build_from
    from indexer.vector_store import backend_names, check_specs

    names = backend_names()
    if args.backend not in names:
        raise ProdsearchError(f"--backend {args.backend!r}: unknown vector store backend; valid: {', '.join(names)}")
    options = {"uri": args.milvus_uri} if args.milvus_uri else {}
    vb = vector_build_from(args.factory, args.index_spec, backend=args.backend, min_recall=args.min_recall,
                           device=args.device or "auto", options=options)
    if vb.backend == "faiss":
        from indexer.faiss_store import resolve_device

        resolve_device(vb.device)
    # The models' dimensions are not known yet: a spec must build at one of the usual ones (checked again,
    # at the real ones, before embedding).
    specs = {name: vb.spec_for(name, 0) for name in ("text", "image", "clip_text")}
    for name, spec in specs.items():
        errors = []
        for dim in (384, 512, 768, 1024, 1536):
            try:
                check_specs(vb.backend, {name: spec}, {name: dim})
                break
            except ProdsearchError as exc:
                errors.append(exc)
        else:
            raise errors[-1]
    return vb


def run_info(args: argparse.Namespace) -> int:
    from indexer.manifest import read_manifest

    print(json.dumps(read_manifest(args.index_dir).model_dump(), indent=2))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    import time

    from indexer.loaded import load_index

    t0 = time.perf_counter()
    index = load_index(args.index_dir)  # raises CorruptIndexError (one line) on any problem
    index.close()
    manifest = index.manifest
    print(f"ok: {index.directory} (version {manifest.build_id or 'flat'}): {index.n_products} products, "
          f"{len(manifest.files)} files checked in {time.perf_counter() - t0:.2f} s")
    return 0
