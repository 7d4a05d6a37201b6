"""`prodsearch serve` as a real process on 127.0.0.1, queried over HTTP with httpx."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support import REPO

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(real_fixture_index):
    port = free_port()
    exe = Path(sys.executable).with_name("prodsearch")
    proc = subprocess.Popen([str(exe), "serve", "--index", str(real_fixture_index), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stdout.read()}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("server did not come up in 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_live_server_answers_text_photo_and_errors(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as client:
        health = client.get("/health").json()
        assert health["products"] == 312
        r = client.get("/search", params={"q": "red t-shirt", "k": 5})
        assert r.status_code == 200 and len(r.json()["hits"]) == 5
        photo = (REPO / "fixtures/images/p0007.png").read_bytes()
        r = client.post("/search/image", files={"file": ("p0007.png", photo, "image/png")}, data={"k": "3"})
        assert r.status_code == 200 and r.json()["hits"][0]["product"]["id"] == "p0007"
        assert client.get("/search", params={"q": "x", "k": 0}).status_code == 422
        assert client.get("/products/p0007/image").headers["content-type"] == "image/jpeg"
