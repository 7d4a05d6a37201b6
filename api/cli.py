"""`prodsearch serve` and `prodsearch demo`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalog.jsonl"
DEMO_INDEX = Path(".prodsearch/fixture-index")


def register(sub: argparse._SubParsersAction) -> None:
    from indexer.cli import add_model_options

    serve = sub.add_parser("serve", help="serve the search API over HTTP")
    serve.add_argument("--index", required=True, type=Path, help="index directory (from `prodsearch index build`)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--config", type=Path, default=None, help="fusion settings file from `prodsearch eval tune`")
    serve.add_argument("--max-upload-mb", type=float, default=10.0)
    add_model_options(serve, default=None)
    serve.set_defaults(func=run_serve)

    demo = sub.add_parser("demo", help="build the fixture index (if missing) and serve it")
    demo.add_argument("--index", type=Path, default=DEMO_INDEX)
    demo.add_argument("--rebuild", action="store_true", help="rebuild the index even if it exists")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=run_demo)


def _serve(settings) -> int:  # type: ignore[no-untyped-def]
    import uvicorn

    from api.app import create_app, load_searcher

    searcher = load_searcher(settings)  # load before binding, so errors show before "running on"
    app = create_app(settings, searcher)
    url = f"http://{settings.host}:{settings.port}"
    print(f"prodsearch: serving {searcher.index.n_products} products from {settings.index_dir}")
    print(f"prodsearch: open {url}/  (API docs: {url}/docs; try {url}/search?q=red+t-shirt)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from api.settings import Settings

    settings = Settings(index_dir=args.index, host=args.host, port=args.port, search_config=args.config,
                        max_upload_mb=args.max_upload_mb, text_model=args.text_model, clip_model=args.clip_model,
                        clip_pretrained=args.clip_pretrained, device=args.device)
    return _serve(settings)


def run_demo(args: argparse.Namespace) -> int:
    from api.settings import Settings
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import load_encoders
    from indexer.index_dir import has_index

    if args.rebuild or not has_index(args.index):
        print(f"prodsearch: building the fixture index from {REPO_FIXTURES} into {args.index}", flush=True)
        summary = build_index(load_catalog(REPO_FIXTURES), args.index, load_encoders())
        print(summary.format(), flush=True)
    return _serve(Settings(index_dir=args.index, host=args.host, port=args.port))
