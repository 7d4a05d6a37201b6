"""Admin token, /health without operator details, and hot reload under concurrent searches."""

from __future__ import annotations

import gc
import json
import threading
import time
import weakref
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live import serve
from support import FakeClipEncoder, FakeTextEncoder, write_synthetic_catalog

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(index_dir: Path, searcher=None, **settings):
    from api.app import create_app
    from api.settings import Settings

    return create_app(Settings(index_dir=index_dir, **settings), searcher)


def test_admin_routes_need_a_configured_token(synthetic_searcher):
    directory = synthetic_searcher.index.directory
    with TestClient(make_app(directory, synthetic_searcher)) as client:  # no token configured
        for method, path in (("POST", "/admin/reload"), ("GET", "/admin/status"), ("GET", "/metrics")):
            r = client.request(method, path, headers=AUTH)
            assert r.status_code == 403 and "PRODSEARCH_ADMIN_TOKEN" in r.json()["detail"]
    with TestClient(make_app(directory, synthetic_searcher, admin_token=TOKEN)) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": "Bearer"}, {"Authorization": f"Bearer {TOKEN}x"}):
            r = client.get("/admin/status", headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", headers
        r = client.get("/admin/status", headers=AUTH)
        assert r.status_code == 200
        assert r.json()["index_dir"] == str(directory) and r.json()["products"] == 72 and r.json()["reloads"] == 0


def test_health_shows_no_paths_to_anonymous_callers(synthetic_searcher):
    directory = synthetic_searcher.index.directory  # DIR/versions/<id>: the version id may show, DIR may not
    root = directory.parent.parent if directory.parent.name == "versions" else directory
    with TestClient(make_app(directory, synthetic_searcher, admin_token=TOKEN)) as client:
        r = client.get("/health")
        assert r.status_code == 200
        body = r.json()
        assert body["products"] == 72 and body["built_at"] and body["format_version"] >= 1 and body["loaded_at"]
        assert "index_dir" not in body and "search_config" not in body
        text = r.text
        assert str(root) not in text and root.name not in text and "/" not in json.dumps(
            {k: v for k, v in body.items() if k not in ("built_at", "loaded_at")})


@pytest.fixture
def live_app(tmp_path):
    """A uvicorn server (in a thread) over an index built in tmp_path with the fake encoders."""
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import Encoders
    from search.searcher import Searcher

    catalog = write_synthetic_catalog(tmp_path / "catalog")
    index_dir = tmp_path / "idx"
    encoders = Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())
    build_index(load_catalog(catalog), index_dir, encoders, progress=False)
    app = make_app(index_dir, Searcher.open(index_dir, encoders), admin_token=TOKEN)
    with serve(app) as url:
        yield {"url": url, "app": app, "catalog": catalog, "index_dir": index_dir, "encoders": encoders}


def _add_product(catalog: Path) -> None:
    """The same catalog plus one product, so a reloaded index is visibly different."""
    row = {"id": "new-001", "title": "Acme zebra umbrella", "brand": "Acme", "category": ["Apparel", "Bags"],
           "attributes": {"colour": "Red", "gender": "Men"}, "price": 12.0, "images": ["img/s000.png"]}
    with catalog.open("a") as f:
        f.write(json.dumps(row) + "\n")


def test_reload_under_concurrent_searches_drops_nothing(live_app):
    from indexer.build import build_index
    from indexer.catalog import load_catalog

    url, app = live_app["url"], live_app["app"]
    old_searcher = app.state.searcher
    stop = threading.Event()
    statuses: list[int] = []
    failures: list[str] = []

    def reader(n: int) -> None:
        queries = ["red shoes", "zebra umbrella", "blue bag", "acme"]
        with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
            i = 0
            while not stop.is_set():
                try:
                    r = http.get("/search", params={"q": queries[(n + i) % len(queries)], "k": 5})
                    statuses.append(r.status_code)
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                i += 1

    readers = [threading.Thread(target=reader, args=(n,)) for n in range(6)]
    for t in readers:
        t.start()
    try:
        time.sleep(0.3)
        assert httpx.get(f"{url}/products/new-001", trust_env=False).status_code == 404
        _add_product(live_app["catalog"])
        build_index(load_catalog(live_app["catalog"]), live_app["index_dir"], live_app["encoders"], progress=False)
        before = len(statuses)
        r = httpx.post(f"{url}/admin/reload", headers=AUTH, timeout=60, trust_env=False)
        assert r.status_code == 200, r.text
        assert r.json()["products"] == 73 and r.json()["status"] == "reloaded"
        time.sleep(0.3)
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=30)
    assert failures == []
    assert len(statuses) > before > 0  # searches ran before and after the swap
    assert app.state.searcher is not old_searcher
    assert httpx.get(f"{url}/products/new-001", trust_env=False).json()["title"] == "Acme zebra umbrella"
    hits = httpx.get(f"{url}/search", params={"q": "zebra umbrella", "k": 1}, trust_env=False).json()["hits"]
    assert hits[0]["product"]["id"] == "new-001"
    assert httpx.get(f"{url}/health", trust_env=False).json()["products"] == 73
    status = httpx.get(f"{url}/admin/status", headers=AUTH, trust_env=False).json()
    assert status["reloads"] == 1 and status["last_reload_error"] is None
    metrics = httpx.get(f"{url}/metrics", headers=AUTH, trust_env=False).text
    assert 'prodsearch_index_reloads_total{result="ok"} 1.0' in metrics
    assert "prodsearch_index_products 73.0" in metrics
    # nothing keeps the old index alive once its requests are done
    ref = weakref.ref(old_searcher)
    del old_searcher
    gc.collect()
    assert ref() is None


def test_request_in_flight_finishes_on_the_old_searcher(live_app):
    url, app = live_app["url"], live_app["app"]
    old = app.state.searcher
    entered, release = threading.Event(), threading.Event()
    original = old.search

    def slow_search(request, image=None):
        if request.text == "slowpoke":
            entered.set()
            release.wait(30)
        return original(request, image)

    old.search = slow_search  # instance attribute: only this Searcher is slow
    result = {}

    def slow_client() -> None:
        result["r"] = httpx.get(f"{url}/search", params={"q": "slowpoke", "k": 3}, timeout=60, trust_env=False)

    t = threading.Thread(target=slow_client)
    t.start()
    assert entered.wait(30)
    r = httpx.post(f"{url}/admin/reload", headers=AUTH, timeout=60, trust_env=False)
    assert r.status_code == 200 and app.state.searcher is not old
    quick = httpx.get(f"{url}/search", params={"q": "slowpoke", "k": 3}, timeout=10, trust_env=False)
    assert quick.status_code == 200  # served by the new Searcher while the old one is still busy
    assert t.is_alive()
    release.set()
    t.join(timeout=30)
    assert result["r"].status_code == 200 and len(result["r"].json()["hits"]) == 3


def test_failed_or_concurrent_reload_keeps_serving(live_app, caplog):
    url, app = live_app["url"], live_app["app"]
    served = app.state.searcher
    (live_app["index_dir"] / "current" / "manifest.json").write_text("{ not json")
    with caplog.at_level("ERROR", logger="api.reload"):
        r = httpx.post(f"{url}/admin/reload", headers=AUTH, timeout=60, trust_env=False)
    assert r.status_code == 503
    detail = r.json()["detail"]
    assert "still serving the previous index" in detail and "\n" not in detail
    assert any("reload" in rec.getMessage() for rec in caplog.records)
    assert app.state.searcher is served
    assert httpx.get(f"{url}/search", params={"q": "red shoes"}, trust_env=False).status_code == 200
    status = httpx.get(f"{url}/admin/status", headers=AUTH, trust_env=False).json()
    assert status["reloads"] == 0 and status["last_reload_error"] and status["last_reload_error_at"]

    app.state.reloader._lock.acquire()  # as if another reload were running
    try:
        r = httpx.post(f"{url}/admin/reload", headers=AUTH, timeout=60, trust_env=False)
        assert r.status_code == 409 and "already running" in r.json()["detail"]
    finally:
        app.state.reloader._lock.release()
    metrics = httpx.get(f"{url}/metrics", headers=AUTH, trust_env=False).text
    assert 'prodsearch_index_reloads_total{result="failed"} 1.0' in metrics
    assert 'prodsearch_index_reloads_total{result="busy"} 1.0' in metrics
    assert httpx.post(f"{url}/admin/reload", trust_env=False).status_code == 401


def test_index_version_of_a_versioned_directory(tmp_path):
    from api.reload import index_version

    (tmp_path / "versions" / "20261130-0001").mkdir(parents=True)
    assert index_version(tmp_path) is None  # not versioned (yet)
    (tmp_path / "current").symlink_to(Path("versions") / "20261130-0001")
    assert index_version(tmp_path) == "20261130-0001"
    assert index_version(tmp_path / "versions" / "20261130-0001") == "20261130-0001"
