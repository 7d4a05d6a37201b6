"""A replaced index version is closed once no search uses it: after a reload or a compaction the old Searcher's
signal threads stop (`PRODSEARCH_SIGNAL_THREADS` > 1), but not while a request still runs on it."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from live import serve
from live_writes_support import AUTH, build_template, copy_index, make_app


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("replaced-versions-template"))


@pytest.fixture
def threaded(monkeypatch):
    from search.signal_threads import SIGNAL_THREADS_ENV

    monkeypatch.setenv(SIGNAL_THREADS_ENV, "3")


def _pool_of(app):  # type: ignore[no-untyped-def]
    """The served version's signal pool, its threads started by a search."""
    pool = app.state.live.base._pool
    assert pool is not None
    return pool


def _eventually(check, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    """``check()`` within ``seconds`` (a replaced version is closed in a thread of its own)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        gc.collect()
        time.sleep(0.05)
    return True


def _stopped(pool) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``pool`` was shut down and its threads ended (a pool nobody shuts down keeps them while it is held)."""
    if not _eventually(lambda: pool._shutdown):
        return False
    for thread in list(pool._threads):
        thread.join(timeout=10)
    return pool._shutdown and not any(t.is_alive() for t in pool._threads)


def test_a_reload_stops_the_replaced_searchers_signal_threads(template, tmp_path, threaded):
    images_root, index = template
    app = make_app(copy_index(index, tmp_path / "index"), images_root)
    with TestClient(app) as client:
        assert client.get("/search", params={"q": "red shoes"}).status_code == 200
        pool = _pool_of(app)
        assert pool._threads and not pool._shutdown
        assert client.post("/admin/reload", headers=AUTH).status_code == 200
        assert _stopped(pool)
        new = _pool_of(app)
        assert client.get("/search", params={"q": "red shoes"}).status_code == 200
        assert new is not pool and not new._shutdown  # the served one keeps its threads


def test_a_compaction_stops_the_replaced_searchers_signal_threads(template, tmp_path, threaded):
    images_root, index = template
    app = make_app(copy_index(index, tmp_path / "index"), images_root)
    first = json.loads((images_root / "catalog.jsonl").read_text().splitlines()[0])
    with TestClient(app) as client:
        assert client.put("/products/new-1", json={**first, "id": "new-1", "title": "zebra velvet hat"},
                          headers=AUTH).status_code == 200
        hits = client.get("/search", params={"q": "zebra velvet hat"}).json()["hits"]
        assert hits[0]["product"]["id"] == "new-1"
        pool = _pool_of(app)
        assert pool._threads
        compacted = client.post("/admin/compact", headers=AUTH)
        assert compacted.status_code == 200 and compacted.json()["status"] == "compacted", compacted.text
        assert _stopped(pool)
        assert app.state.live.base.signal_threads == 3  # the compacted version keeps the served setting
        assert client.get("/search", params={"q": "zebra velvet hat"}).json()["hits"][0]["product"]["id"] == "new-1"


def test_a_request_still_running_on_the_replaced_searcher_keeps_it_open(template, tmp_path, threaded):
    images_root, index = template
    app = make_app(copy_index(index, tmp_path / "index"), images_root)
    with serve(app) as url:
        old = app.state.live.base
        pool = _pool_of(app)
        entered, release = threading.Event(), threading.Event()
        original = old.search

        def slow_search(request, image=None):  # type: ignore[no-untyped-def]
            if request.text == "slowpoke":
                entered.set()
                release.wait(30)
            return original(request, image)

        old.search = slow_search  # this Searcher only (an instance attribute)
        del old
        result = {}

        def slow_client() -> None:
            result["r"] = httpx.get(f"{url}/search", params={"q": "slowpoke", "k": 3}, timeout=60, trust_env=False)

        t = threading.Thread(target=slow_client)
        t.start()
        try:
            assert entered.wait(30)
            r = httpx.post(f"{url}/admin/reload", headers=AUTH, timeout=60, trust_env=False)
            assert r.status_code == 200 and app.state.live.base._pool is not pool
            gc.collect()
            assert not pool._shutdown  # the slow request still holds the old Searcher: its signals may still run
        finally:
            release.set()
            t.join(timeout=30)
        assert result["r"].status_code == 200 and len(result["r"].json()["hits"]) == 3
        original = slow_search = None  # the test's own last hold on the old Searcher
        assert _stopped(pool)


@pytest.fixture(scope="module")
def milvus_template(tmp_path_factory):
    pytest.importorskip("milvus_lite")
    from live_writes_support import encoders
    from support import write_synthetic_catalog

    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.index_specs import VectorBuild

    root = tmp_path_factory.mktemp("replaced-milvus-template")
    catalog = write_synthetic_catalog(root / "catalog")
    build_index(load_catalog(catalog), root / "index", encoders(), progress=False,
                vector_build=VectorBuild(backend="milvus"))
    return catalog.parent, root / "index"


def test_milvus_lite_versions_replaced_by_a_compaction_or_a_reload_are_closed(milvus_template, tmp_path, caplog):
    from indexer import milvus_setup

    images_root, index = milvus_template
    app = make_app(copy_index(index, tmp_path / "index"), images_root)
    first = json.loads((images_root / "catalog.jsonl").read_text().splitlines()[0])
    with TestClient(app) as client:
        built = app.state.live.base.index.vector_store
        assert built.backend == "milvus" and built._client is not None
        assert client.put("/products/new-1", json={**first, "id": "new-1", "title": "zebra velvet hat"},
                          headers=AUTH).status_code == 200
        compacted = client.post("/admin/compact", headers=AUTH)
        assert compacted.status_code == 200 and compacted.json()["status"] == "compacted", compacted.text
        # the built version's store is closed and its embedded Milvus Lite server stopped (no user left)
        assert _eventually(lambda: built._client is None and built.location not in milvus_setup._lite_users)
        served = app.state.live.base.index.vector_store
        assert served.location != built.location and served._client is not None

        # a reload opens the same version again: the replaced copy is closed, the server stays for the new one
        assert client.post("/admin/reload", headers=AUTH).status_code == 200
        assert _eventually(lambda: served._client is None)
        assert milvus_setup._lite_users[served.location] == 1
        assert client.get("/search", params={"q": "zebra velvet hat"}).json()["hits"][0]["product"]["id"] == "new-1"
    # no close failed (its record is an error; the reload's own "reloaded index" line is info, captured whenever
    # an earlier test in the process left the log level at INFO)
    assert not [r for r in caplog.records if r.name == "api.reload" and r.levelno >= logging.WARNING]
