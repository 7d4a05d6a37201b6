"""`prodsearch serve` and `prodsearch demo`.

Settings come from the environment (PRODSEARCH_*) with the defaults of `api.settings.Settings`;
an option given on the command line overrides its variable, and only options actually given do.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from api.compaction_options import COMPACTION_OPTION_FIELDS, add_compaction_options
from indexer.onnx_text import DEFAULT_QUERY_PRECISION, QUERY_PRECISION_ENV, QUERY_PRECISIONS

logger = logging.getLogger(__name__)

REPO_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalog.jsonl"
DEMO_INDEX = Path(".prodsearch/fixture-index")
# command-line option (its argparse dest) -> Settings field; every one defaults to None = "not given"
OPTION_FIELDS = {"index": "index_dir", "host": "host", "port": "port", "config": "search_config",
                 "max_upload_mb": "max_upload_mb", "text_model": "text_model", "clip_model": "clip_model",
                 "clip_pretrained": "clip_pretrained", "device": "device", "log_format": "log_format",
                 "synonyms": "synonyms", "facets": "facets", "images_root": "images_root",
                 **COMPACTION_OPTION_FIELDS}


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="bind address (env PRODSEARCH_HOST; default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (env PRODSEARCH_PORT; default 8000)")
    parser.add_argument("--log-format", choices=("text", "json"), default=None,
                        help="log lines, the access log included, as text or one JSON object each "
                             "(env PRODSEARCH_LOG_FORMAT; default text)")
    parser.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=None,
                        help="one log line per request (env PRODSEARCH_ACCESS_LOG; default on)")
    parser.add_argument("--workers", type=int, default=None,
                        help="server processes, each loading its own copy of the index (~1.7 GB RSS each for 44k "
                             "products); more than 1 serves read-only: it refuses PRODSEARCH_ADMIN_TOKEN, since "
                             "live writes must go through one process (env PRODSEARCH_WORKERS; default 1)")
    parser.add_argument("--search-threads", type=int, default=None,
                        help="threads answering text searches per process (env PRODSEARCH_SEARCH_THREADS; default 4)")
    parser.add_argument("--query-batch", type=int, default=None,
                        help="embed up to this many concurrent text queries together: ~3x less CPU per query under "
                             "load, vectors equal to ~3e-8 (env PRODSEARCH_QUERY_BATCH; default 1, off)")
    parser.add_argument("--query-encoder", choices=QUERY_PRECISIONS, default=None,
                        help="how query texts are embedded: int8 (a quantized copy of the text model's ONNX export, "
                             "made once beside it; ~2.5x less CPU per query, query vectors' cosine with fp32 ~0.99) "
                             "or fp32; products are always embedded in fp32 "
                             f"(env {QUERY_PRECISION_ENV}; default {DEFAULT_QUERY_PRECISION})")
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default=None,
                        help="HTTP parser (env PRODSEARCH_HTTP; default auto: httptools when installed)")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default=None,
                        help="event loop (env PRODSEARCH_LOOP; default auto: uvloop when installed)")


# the serving-speed options above (`serve` and `demo`), each its own Settings field
OPTION_FIELDS.update({"access_log": "access_log", "workers": "workers", "http": "http", "loop": "loop",
                     "search_threads": "search_threads", "query_batch": "query_batch",
                     "query_encoder": "query_encoder"})


def register(sub: argparse._SubParsersAction) -> None:
    from indexer.cli import add_model_options

    serve = sub.add_parser("serve", help="serve the search API over HTTP",
                           description="Every option overrides its PRODSEARCH_* variable; options not given "
                                       "keep the environment's value. The admin token is read from "
                                       "PRODSEARCH_ADMIN_TOKEN only (never from the command line).")
    serve.add_argument("--index", type=Path, default=None,
                       help="index directory from `prodsearch index build` (env PRODSEARCH_INDEX_DIR; "
                            "default .prodsearch/fixture-index)")
    _add_server_options(serve)
    serve.add_argument("--config", type=Path, default=None,
                       help="fusion settings file from `prodsearch eval tune` (env PRODSEARCH_SEARCH_CONFIG)")
    serve.add_argument("--synonyms", type=Path, default=None,
                       help="your synonyms file (Solr format: 'a, b => c' and 'a, b, c' lines), added to the "
                            "shipped shop vocabulary (env PRODSEARCH_SYNONYMS)")
    serve.add_argument("--facets", default=None,
                       help="facet order and labels, e.g. 'gender:Audience,colour:Colour,brand,price'; facets not "
                            "named follow in catalog order (env PRODSEARCH_FACETS)")
    serve.add_argument("--max-upload-mb", type=float, default=None,
                       help="largest photo upload (env PRODSEARCH_MAX_UPLOAD_MB; default 10)")
    serve.add_argument("--images-root", type=Path, default=None,
                       help="folder whose photos live writes (PUT /products/{id}) may name by path "
                            "(env PRODSEARCH_IMAGES_ROOT; default: none, URLs and uploads only)")
    add_compaction_options(serve)
    add_model_options(serve, default=None)
    serve.set_defaults(func=run_serve)

    demo = sub.add_parser("demo", help="build the fixture index (if missing) and serve it")
    demo.add_argument("--index", type=Path, default=DEMO_INDEX, help=f"where to build the fixture index ({DEMO_INDEX})")
    demo.add_argument("--rebuild", action="store_true", help="rebuild the index even if it exists")
    _add_server_options(demo)
    demo.set_defaults(func=run_demo)


def settings_from_args(args: argparse.Namespace, **fixed: Any):  # type: ignore[no-untyped-def]
    """Settings from the environment, overridden by the options given in ``args`` and by ``fixed``."""
    from pydantic import ValidationError

    from api.settings import Settings
    from prodsearch.cli import UserError

    given = {field: getattr(args, option) for option, field in OPTION_FIELDS.items()
             if getattr(args, option, None) is not None}
    try:
        return Settings(**{**given, **fixed})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise UserError(f"invalid server settings (options or PRODSEARCH_* variables): {problems}") from None


def _uvicorn_config(app, settings, **extra):  # type: ignore[no-untyped-def]
    import uvicorn

    # uvicorn's own access log stays off: api.observability logs every request (settings.access_log)
    return uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", log_config=None,
                          access_log=False, http=settings.http, loop=settings.loop, **extra)


async def _serve_until_stopped(server, app) -> None:  # type: ignore[no-untyped-def]
    from api.reload import install_sighup_reload

    if install_sighup_reload(app.state.reloader):
        logger.debug("SIGHUP reloads the index")
    await server.serve()


def serve_app(app, settings) -> None:  # type: ignore[no-untyped-def]
    """Serve ``app`` until SIGINT/SIGTERM, logging in ``settings.log_format``; SIGHUP reloads the index."""
    import asyncio
    import sys

    import uvicorn

    from api.observability import configure_logging

    configure_logging(settings.log_format, logging.getLogger().getEffectiveLevel(), access_log=settings.access_log)
    config = _uvicorn_config(app, settings)
    server = uvicorn.Server(config)
    loop_factory = config.get_loop_factory() if hasattr(config, "get_loop_factory") else None
    if loop_factory is not None and sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(_serve_until_stopped(server, app))
    else:
        asyncio.run(_serve_until_stopped(server, app))


def worker_app():  # type: ignore[no-untyped-def]
    """The app of one `--workers` process: settings from the PRODSEARCH_* variables the parent set, the index
    loaded at start-up (uvicorn calls this factory in each worker)."""
    from api.app import create_app
    from api.observability import configure_logging
    from api.settings import Settings

    settings = Settings()
    configure_logging(settings.log_format, logging.INFO, access_log=settings.access_log)
    return create_app(settings)


def serve_workers(settings) -> int:  # type: ignore[no-untyped-def]
    """Serve with ``settings.workers`` processes (uvicorn's supervisor; SIGHUP restarts them, which reloads
    the index). Read-only: live writes would land in one process's log and memory only."""
    import os

    import uvicorn

    from api.observability import configure_logging
    from indexer.index_dir import has_index
    from prodsearch.cli import UserError

    if settings.admin_token is not None:
        raise UserError(f"--workers {settings.workers} serves read-only, but PRODSEARCH_ADMIN_TOKEN is set: live "
                        "writes and /admin need one process (use --workers 1, or unset the token)")
    if not has_index(settings.index_dir):
        raise UserError(f"no index in {settings.index_dir} (build one with `prodsearch index build`)")
    for name, value in settings.model_dump(exclude={"admin_token"}).items():  # what each worker's Settings() reads
        if value is not None:
            os.environ[f"PRODSEARCH_{name.upper()}"] = str(value)
    configure_logging(settings.log_format, logging.getLogger().getEffectiveLevel(), access_log=settings.access_log)
    url = f"http://{settings.host}:{settings.port}"
    print(f"prodsearch: {settings.workers} workers, each loading {settings.index_dir}; read-only (no admin routes)")
    print(f"prodsearch: open {url}/ once they report ready", flush=True)
    uvicorn.run("api.cli:worker_app", factory=True, workers=settings.workers, host=settings.host,
                port=settings.port, log_level="warning", log_config=None, access_log=False, http=settings.http,
                loop=settings.loop)
    return 0


def _serve(settings) -> int:  # type: ignore[no-untyped-def]
    from api.app import create_app, load_searcher
    from api.observability import configure_logging

    if settings.workers > 1:
        return serve_workers(settings)
    configure_logging(settings.log_format, logging.getLogger().getEffectiveLevel())
    searcher = load_searcher(settings)  # load before binding, so errors show before "running on"
    app = create_app(settings, searcher)  # serves it with the live-write log replayed on top (`api.live`)
    served = app.state.live.snapshot_count()  # after the replay: what /health counts, not the index version's rows
    url = f"http://{settings.host}:{settings.port}"
    admin = "enabled (PRODSEARCH_ADMIN_TOKEN)" if settings.admin_token else "disabled (no PRODSEARCH_ADMIN_TOKEN)"
    print(f"prodsearch: serving {served} products from {settings.index_dir}; admin routes {admin}")
    print(f"prodsearch: open {url}/  (API docs: {url}/docs; try {url}/search?q=red+t-shirt)", flush=True)
    serve_app(app, settings)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    return _serve(settings_from_args(args))


def run_demo(args: argparse.Namespace) -> int:
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import load_encoders
    from indexer.index_dir import has_index

    settings = settings_from_args(args)  # the demo serves its own index, whatever PRODSEARCH_INDEX_DIR says
    if args.rebuild or not has_index(args.index):
        print(f"prodsearch: building the fixture index from {REPO_FIXTURES} into {args.index}", flush=True)
        summary = build_index(load_catalog(REPO_FIXTURES), args.index, load_encoders())
        print(summary.format(), flush=True)
    return _serve(settings)
