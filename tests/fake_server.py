"""`prodsearch serve` for tests, with the fake encoders: ``python tests/fake_server.py INDEX_DIR``.

Builds INDEX_DIR from the synthetic catalog first when it has no index. Settings come from the
PRODSEARCH_* environment as for `prodsearch serve`; logging, SIGHUP reload and shutdown are the real
ones (`api.cli.serve_app`). Only the encoders are fakes, so no model weights are needed.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import FakeClipEncoder, FakeTextEncoder, write_synthetic_catalog


def main(index_dir: Path) -> None:
    from api.app import create_app
    from api.cli import serve_app
    from api.settings import Settings
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import Encoders
    from indexer.manifest import MANIFEST_NAME
    from search.searcher import Searcher

    logging.basicConfig(level=logging.INFO)
    encoders = Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())
    if not (index_dir / MANIFEST_NAME).exists() and not (index_dir / "current").exists():
        catalog = write_synthetic_catalog(index_dir.parent / f"{index_dir.name}-catalog")
        build_index(load_catalog(catalog), index_dir, encoders, progress=False)
    settings = Settings(index_dir=index_dir)
    app = create_app(settings, Searcher.open(index_dir, encoders))
    print(f"fake server on http://{settings.host}:{settings.port}", flush=True)
    serve_app(app, settings)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
