"""Compaction while serving: on its own past a threshold, with writes and reads going on, failing safely,
and a crash in the middle of it (the write log has everything)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live import free_port, serve
from live_writes_support import AUTH, build_template, copy_index, encoders, make_app

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.index_dir import FAULT_ENV, resolve_current
from indexer.live.log import WriteLog

SERVER = Path(__file__).with_name("live_server_main.py")
NEW = {"title": "Quoxel lamp", "brand": "Acme", "price": 12.5, "category": ["Home"]}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("live-compaction-template"))


def _wait(condition, timeout: float = 60.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _live_ids(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Every live product id of the served snapshot, once per live row."""
    store = app.state.searcher.index.store
    alive = getattr(app.state.searcher.index, "live", None)
    rows = range(len(store.products)) if alive is None else [int(r) for r in alive.alive.nonzero()[0]]
    return [store.products[r].id for r in rows]


def test_the_server_compacts_on_its_own_past_the_threshold(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    app = make_app(index_dir, images_root, compact_max_entries=3, compact_check_s=0.05)
    with TestClient(app) as client:
        version = client.get("/health").json()["version"]
        for i in range(2):
            assert client.put(f"/products/auto-{i}", json={**NEW, "title": f"Quoxel lamp {i}"},
                              headers=AUTH).status_code == 200
        time.sleep(0.3)
        assert client.get("/health").json()["version"] == version  # under the threshold: nothing yet
        assert client.delete("/products/s003", headers=AUTH).status_code == 200
        _wait(lambda: client.get("/health").json()["version"] != version, what="the background compaction")
        health = client.get("/health").json()
        assert health["pending_log_entries"] == 0 and health["last_compaction"] and not health["compacting"]
        assert health["products"] == 72 + 2 - 1 and health["last_compaction_error"] is None
        assert client.get("/products/auto-1").json()["title"] == "Quoxel lamp 1"
        assert client.get("/products/s003").status_code == 404
        r = client.post("/admin/compact", headers=AUTH)  # nothing written since: no new version
        assert r.status_code == 200 and r.json()["status"] == "nothing to compact"
        assert client.get("/health").json()["version"] == health["version"]
    assert resolve_current(index_dir).name == health["version"]


def test_writes_during_a_compaction_are_neither_lost_nor_duplicated(template, tmp_path, monkeypatch):
    import api.live

    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    started, release = threading.Event(), threading.Event()
    original = api.live.write_snapshot

    def slow_write_snapshot(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        assert release.wait(60)
        return original(*args, **kwargs)

    monkeypatch.setattr(api.live, "write_snapshot", slow_write_snapshot)
    app = make_app(index_dir, images_root, compact_auto=False)
    with serve(app) as url, httpx.Client(base_url=url, timeout=60, headers=AUTH) as c:
        for pid in ("w-0", "w-1", "w-2"):
            assert c.put(f"/products/{pid}", json={**NEW, "title": f"Quoxel {pid} before"}).status_code == 200
        result: dict = {}
        compactor = threading.Thread(target=lambda: result.update(r=c.post("/admin/compact")))
        compactor.start()
        assert started.wait(30)
        assert c.post("/admin/compact").status_code == 409  # one at a time
        assert c.get("/health").json()["compacting"] is True
        # meanwhile: a new product, a replacement of one the compaction holds, a delete of another, a PATCH
        assert c.put("/products/w-3", json={**NEW, "title": "Quoxel w-3 during"}).status_code == 200
        assert c.put("/products/w-1", json={**NEW, "title": "Quoxel w-1 during"}).status_code == 200
        assert c.delete("/products/w-2").status_code == 200
        assert c.patch("/products/s005", json={"price": 99.0}).status_code == 200
        assert c.get("/products/w-1").json()["title"] == "Quoxel w-1 during"  # visible before the switch
        release.set()
        compactor.join(60)
        assert result["r"].status_code == 200, result["r"].text
        assert result["r"].json()["kept_writes"] == 4
        ids = _live_ids(app)
        assert len(ids) == len(set(ids)) == 72 + 4 - 1
        assert {"w-0", "w-1", "w-3"} <= set(ids) and "w-2" not in ids
        assert c.get("/products/w-1").json()["title"] == "Quoxel w-1 during"
        assert c.get("/products/w-2").status_code == 404
        assert c.get("/products/s005").json()["price"] == 99.0
        hits = [h["product"]["id"] for h in c.get("/search", params={"q": "quoxel", "k": 50}).json()["hits"]]
        assert sorted(h for h in hits if h.startswith("w-")) == ["w-0", "w-1", "w-3"]
        assert c.get("/health").json()["pending_log_entries"] == 4  # the later writes stay in the log
    with TestClient(make_app(index_dir, images_root, compact_auto=False)) as again:  # restart
        ids = _live_ids(again.app)
        assert len(ids) == len(set(ids)) == 75
        assert again.get("/products/w-1").json()["title"] == "Quoxel w-1 during"
        assert again.get("/products/s005").json()["price"] == 99.0


def test_a_failed_compaction_leaves_the_served_index_and_says_so(template, tmp_path, monkeypatch):
    import indexer.build

    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    current = resolve_current(index_dir)

    def fail(stage: str) -> None:
        if stage == "lexical_written":
            raise OSError("disk full (simulated)")

    monkeypatch.setattr(indexer.build, "checkpoint", fail)
    with TestClient(make_app(index_dir, images_root, compact_auto=False)) as client:
        assert client.put("/products/f-1", json=NEW, headers=AUTH).status_code == 200
        r = client.post("/admin/compact", headers=AUTH)
        assert r.status_code == 503 and "disk full" in r.json()["detail"]
        health = client.get("/health").json()
        assert "disk full" in health["last_compaction_error"] and health["pending_log_entries"] == 1
        assert health["version"] == current.name and resolve_current(index_dir) == current
        assert client.get("/products/f-1").status_code == 200
        assert client.put("/products/f-2", json=NEW, headers=AUTH).status_code == 200  # writes go on
        monkeypatch.setattr(indexer.build, "checkpoint", lambda stage: None)
        assert client.post("/admin/compact", headers=AUTH).status_code == 200  # and a later one succeeds
        health = client.get("/health").json()
        assert health["last_compaction_error"] is None and health["products"] == 74


def test_a_crash_in_the_middle_of_a_compaction_recovers_from_the_log(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    current = resolve_current(index_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, FAULT_ENV: "lexical_written",
           "PYTHONPATH": os.pathsep.join([str(SERVER.parents[2]), str(SERVER.parents[1])])}
    proc = subprocess.Popen([sys.executable, str(SERVER), str(index_dir), str(images_root), str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def healthy() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(healthy, what="the server")
        for i in range(3):
            r = httpx.put(f"{url}/products/crash-{i}", json={**NEW, "title": f"Quoxel crash {i}"}, headers=AUTH,
                          timeout=30)
            assert r.status_code == 200, r.text
        assert httpx.delete(f"{url}/products/s004", headers=AUTH, timeout=30).status_code == 200
        with pytest.raises(httpx.HTTPError):  # killed (SIGKILL) in the middle of writing the new version
            httpx.post(f"{url}/admin/compact", headers=AUTH, timeout=60)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert resolve_current(index_dir) == current  # the half-written version was never published
    with TestClient(make_app(index_dir, images_root, compact_auto=False)) as client:
        health = client.get("/health").json()
        assert health["version"] == current.name and health["pending_log_entries"] == 4
        assert health["products"] == 72 + 3 - 1
        assert client.get("/products/crash-2").json()["title"] == "Quoxel crash 2"
        assert client.get("/products/s004").status_code == 404
        assert client.post("/admin/compact", headers=AUTH).status_code == 200
        assert client.get("/health").json()["products"] == 74


def test_reads_never_fail_while_compactions_switch_versions(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    app = make_app(index_dir, images_root, compact_auto=False)
    failures: list[str] = []
    stop = threading.Event()
    counts = {"reads": 0, "compactions": 0}

    def reader(url: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=30) as c:
            while not stop.is_set():
                path, params = rng.choice([("/search", {"q": rng.choice(["red", "quoxel", "Acme bag"])}),
                                           ("/facets", {"q": "quoxel"}), ("/products/r-1", {}),
                                           ("/products/s001/similar", {}), ("/health", {})])
                r = c.get(path, params=params)
                counts["reads"] += 1
                if r.status_code != 200:
                    failures.append(f"{path} {r.status_code} {r.text[:200]}")

    with serve(app) as url, httpx.Client(base_url=url, timeout=60, headers=AUTH) as c:
        assert c.put("/products/r-1", json=NEW).status_code == 200
        threads = [threading.Thread(target=reader, args=(url, s)) for s in range(4)]
        for t in threads:
            t.start()
        try:
            for i in range(3):
                assert c.put(f"/products/r-{i + 2}", json={**NEW, "title": f"Quoxel {i}"}).status_code == 200
                r = c.post("/admin/compact")
                assert r.status_code == 200, r.text
                counts["compactions"] += 1
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
    assert not failures, failures[:5]
    assert counts["compactions"] == 3 and counts["reads"] > 20, counts


def test_a_compaction_never_replaces_a_version_a_build_published_meanwhile(template, tmp_path):
    """The README's rebuild workflow while writes are pending: the served version's compaction is refused
    (409, nothing switched, the writes still logged); a reload serves the build with the writes replayed."""
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    catalog = images_root / "catalog.jsonl"
    grown = images_root / "grown.jsonl"
    grown.write_text(catalog.read_text() + json.dumps({"id": "b-new", "title": "Built zaffrex", "price": 3}) + "\n")
    with TestClient(make_app(index_dir, images_root, compact_auto=False)) as client:
        assert client.put("/products/n1", json=NEW, headers=AUTH).status_code == 200
        build_index(load_catalog(grown), index_dir, encoders(), progress=False)
        built = resolve_current(index_dir).name
        r = client.post("/admin/compact", headers=AUTH)
        assert r.status_code == 409 and f"current version is {built}" in r.json()["detail"]
        assert "reload" in r.json()["detail"] and client.get("/health").json()["last_compaction_error"]
        assert resolve_current(index_dir).name == built and [e.id for e in WriteLog(index_dir).read()] == ["n1"]
        assert client.post("/admin/reload", headers=AUTH).status_code == 200
        assert client.get("/products/b-new").status_code == 200 and client.get("/products/n1").status_code == 200
        r = client.post("/admin/compact", headers=AUTH)
        assert r.status_code == 200 and r.json()["status"] == "compacted" and r.json()["products"] == 72 + 2
    with TestClient(make_app(index_dir, images_root)) as client:  # a restart: both, from the version alone
        health = client.get("/health").json()
        assert health["products"] == 74 and health["pending_log_entries"] == 0
        assert client.get("/products/b-new").status_code == 200 and client.get("/products/n1").status_code == 200
