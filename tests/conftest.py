"""Shared pytest fixtures: fake encoders, the synthetic catalog and index, the real fixture index."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import REPO, FakeClipEncoder, FakeTextEncoder, run_cli, write_synthetic_catalog


@pytest.fixture
def fake_encoders():
    from indexer.encoders import Encoders

    return Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())

@pytest.fixture(scope="session")
def synthetic_catalog(tmp_path_factory) -> Path:
    return write_synthetic_catalog(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="session")
def synthetic_index(tmp_path_factory, synthetic_catalog) -> Path:
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import Encoders

    out = tmp_path_factory.mktemp("index") / "idx"
    encoders = Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())
    build_index(load_catalog(synthetic_catalog), out, encoders, progress=False)
    return out


@pytest.fixture(scope="session")
def fake_fixture_index(tmp_path_factory) -> Path:
    """The fixture catalog (fixtures/catalog.jsonl, which fixtures/relevance judges) indexed with the fake encoders."""
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import Encoders

    out = tmp_path_factory.mktemp("fake-fixture") / "idx"
    build_index(load_catalog(REPO / "fixtures" / "catalog.jsonl"), out,
                Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder()), progress=False)
    return out


@pytest.fixture
def fake_fixture_cli(monkeypatch, fake_fixture_index):
    """`prodsearch eval ...` in-process over `fake_fixture_index`, the fake encoders standing in for the models."""
    import eval.runner
    from indexer.encoder_cache import cached_encoders
    from indexer.encoders import Encoders
    from search.searcher import Searcher

    def open_fake(index, encoders=None, config=None, **models):
        return Searcher(index, cached_encoders(Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())), config)

    monkeypatch.setattr(eval.runner, "open_searcher", open_fake)
    return fake_fixture_index


@pytest.fixture
def synthetic_searcher(synthetic_index, fake_encoders):
    from search.searcher import Searcher

    searcher = Searcher.open(synthetic_index, fake_encoders)
    yield searcher
    searcher.index.close()


@pytest.fixture(scope="session")
def real_fixture_index(tmp_path_factory) -> Path:
    """The fixture catalog indexed through the CLI with the real default models (built once per run)."""
    out = tmp_path_factory.mktemp("real") / "fixture-index"
    result = run_cli("index", "build", "--catalog", str(REPO / "fixtures" / "catalog.jsonl"), "--out", str(out),
                     "--no-progress")
    assert result.returncode == 0, result.stderr
    (out / "build-output.txt").write_text(result.stdout)
    return out


@pytest.fixture
def client(synthetic_searcher):
    """A TestClient over the synthetic index, with a 0.05 MB upload limit."""
    from api.app import create_app
    from api.settings import Settings

    settings = Settings(index_dir=synthetic_searcher.index.directory, max_upload_mb=0.05)
    with TestClient(create_app(settings, synthetic_searcher)) as c:
        yield c
