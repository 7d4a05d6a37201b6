"""Serve an app with uvicorn on a free loopback port in a background thread (for tests that need real HTTP)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support import REPO, FakeClipEncoder, FakeTextEncoder


def build_fixture_index(out: Path) -> Path:
    """The fixture catalog (312 products) indexed with the fake encoders."""
    from indexer.build import build_index
    from indexer.catalog import load_catalog

    build_index(load_catalog(REPO / "fixtures" / "catalog.jsonl"), out, fake_encoders(), progress=False)
    return out


def fake_encoders():  # type: ignore[no-untyped-def]
    from indexer.encoders import Encoders

    return Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())


def free_port() -> int:
    """A loopback port nothing listens on right now (for tests that need a refused connection)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Run ``app`` under uvicorn on 127.0.0.1 until the block ends; yields the base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
