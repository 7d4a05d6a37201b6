"""Shared by the live-write tests: a small index of one's own (writes change it), an app over it, a server process."""

from __future__ import annotations

import shutil
from pathlib import Path

from support import FakeClipEncoder, FakeTextEncoder, write_synthetic_catalog

TOKEN = "live-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class CountingEncoder:
    """Wraps an encoder and counts the texts and images it embeds (to show a PATCH runs none)."""

    def __init__(self, inner):  # type: ignore[no-untyped-def]
        self.inner, self.calls = inner, 0
        self.name, self.dim = inner.name, inner.dim
        self.trained = getattr(inner, "trained", True)

    def encode_texts(self, texts):  # type: ignore[no-untyped-def]
        self.calls += len(texts)
        return self.inner.encode_texts(texts)

    def encode_images(self, images):  # type: ignore[no-untyped-def]
        self.calls += len(images)
        return self.inner.encode_images(images)


def encoders(counting: bool = False):  # type: ignore[no-untyped-def]
    from indexer.encoders import Encoders

    if counting:
        return Encoders(text=CountingEncoder(FakeTextEncoder()), clip=CountingEncoder(FakeClipEncoder()))
    return Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())


def build_template(root: Path) -> tuple[Path, Path]:
    """(catalog folder, index directory) of the synthetic catalog (72 products, a photo each)."""
    from indexer.build import build_index
    from indexer.catalog import load_catalog

    catalog = write_synthetic_catalog(root / "catalog")
    build_index(load_catalog(catalog), root / "index", encoders(), progress=False)
    return catalog.parent, root / "index"


def copy_index(template: Path, to: Path) -> Path:
    shutil.copytree(template, to, symlinks=True)
    return to


def make_app(index_dir: Path, images_root: Path, enc=None, token: str | None = TOKEN,  # type: ignore[no-untyped-def]
             **settings: object):
    """An app over ``index_dir`` (``settings``: more `api.settings.Settings` fields, e.g. compaction thresholds).

    Writes embed in process unless ``live_embed_worker=True`` is given: a worker process per test app would
    cost each test a spawn, and `CountingEncoder` counts only in-process calls (tests/api/test_live_embed_worker.py
    and the kill -9 test's server run the worker)."""
    from api.app import create_app
    from api.settings import Settings
    from search.searcher import Searcher

    settings.setdefault("live_embed_worker", False)
    config = Settings(index_dir=index_dir, admin_token=token, images_root=images_root, **settings)
    return create_app(config, Searcher.open(index_dir, enc or encoders()))
