"""Live writes under a crash (kill -9 right after the ack) and under concurrent readers and a writer."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest
from fastapi.testclient import TestClient
from live import free_port, serve
from live_writes_support import AUTH, build_template, copy_index, make_app
from support import FakeTextEncoder

SERVER = Path(__file__).with_name("live_server_main.py")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("live-template"))


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def test_a_write_acknowledged_before_kill_9_is_there_after_restart(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SERVER.parents[2]), str(SERVER.parents[1])])}
    proc = subprocess.Popen([sys.executable, str(SERVER), str(index_dir), str(images_root), str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_healthy(url, proc)
        r = httpx.put(f"{url}/products/crash-1", json={"title": "Survivor of a crash", "price": 3.0}, headers=AUTH,
                      timeout=30)
        assert r.status_code == 200, r.text
        children = psutil.Process(proc.pid).children(recursive=True)  # the embedding worker (it embedded the write)
        assert children
        os.kill(proc.pid, signal.SIGKILL)  # at once: no shutdown, no flush beyond what the ack waited for
        proc.wait(timeout=10)
        _, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, f"processes outlived the killed server: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with TestClient(make_app(index_dir, images_root)) as client:
        assert client.get("/products/crash-1").json()["title"] == "Survivor of a crash"
        hits = client.get("/search", params={"q": "survivor crash"}).json()["hits"]
        assert hits[0]["product"]["id"] == "crash-1"


def _check_snapshot(searcher) -> None:  # type: ignore[no-untyped-def]
    """Every live row's vectors are those of its own text, and every id is live in exactly one row."""
    snap = getattr(searcher, "snapshot", None)
    if snap is None:
        return
    text = FakeTextEncoder()
    rows = [snap.row_of[i] for i in snap.row_of]
    assert len(rows) == len(set(rows)) == int(snap.alive.sum())
    assert all(snap.alive[r] for r in rows)
    n_main = snap.n_main
    for position in np.flatnonzero(snap.alive[n_main:]):
        product = snap.products[n_main + position]
        expected = text.encode_texts([_dense_text(searcher, product)])[0]
        assert np.allclose(snap.delta_vectors["text"][position], expected, atol=1e-6), product.id


def _dense_text(searcher, product) -> str:  # type: ignore[no-untyped-def]
    from indexer.text_recipe import text_recipe

    return text_recipe(searcher.index.manifest.text_recipe)(product)


def test_readers_see_consistent_snapshots_while_a_writer_writes(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    app = make_app(index_dir, images_root)
    failures: list[str] = []
    stop = threading.Event()
    counts = {"reads": 0, "writes": 0, "checks": 0}

    def reader(url: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=30) as c:
            while not stop.is_set():
                path, params = rng.choice([("/search", {"q": rng.choice(["red", "shoes", "live item", "Acme bag"])}),
                                           ("/facets", {"q": "live"}), ("/products/s001", {}),
                                           ("/products/s001/similar", {}), ("/health", {})])
                r = c.get(path, params=params)
                counts["reads"] += 1
                if r.status_code != 200:
                    failures.append(f"{path} {r.status_code} {r.text[:200]}")

    def writer(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30, headers=AUTH) as c:
            i = 0
            while not stop.is_set():
                pid = f"live-{i % 15}"
                if i % 4 == 3:
                    r = c.delete(f"/products/live-{(i - 1) % 15}")
                    ok = r.status_code in (200, 404)
                elif i % 4 == 2:
                    r = c.patch("/products/s002", json={"price": float(i)})
                    ok = r.status_code == 200
                else:
                    r = c.put(f"/products/{pid}", json={"title": f"Live item {i} red", "brand": "Acme", "price": i})
                    ok = r.status_code == 200
                counts["writes"] += 1
                if not ok:
                    failures.append(f"write {r.status_code} {r.text[:200]}")
                i += 1

    def checker() -> None:
        while not stop.is_set():
            try:
                _check_snapshot(app.state.searcher)
                counts["checks"] += 1
            except AssertionError as exc:
                failures.append(f"inconsistent snapshot: {exc}")
            time.sleep(0.01)

    with serve(app) as url:
        threads = [threading.Thread(target=reader, args=(url, s)) for s in range(4)]
        threads += [threading.Thread(target=writer, args=(url,)), threading.Thread(target=checker)]
        for t in threads:
            t.start()
        time.sleep(4)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not failures, failures[:5]
    assert counts["writes"] > 10 and counts["reads"] > 20 and counts["checks"] > 5, counts
