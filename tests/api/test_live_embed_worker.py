"""Live writes embedded in the low-priority worker process (indexer/live/embed_worker.py): the same vectors
as in process, the worker niced, and a worker that dies fails the writes waiting on it with a clear 503,
nothing written, the next write served by a new worker."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from live_writes_support import AUTH, build_template, copy_index, encoders, make_app
from PIL import Image

from indexer.live.embed_worker import EmbeddingWorker, EmbeddingWorkerError, worker_encoders, worker_factory

pytestmark = pytest.mark.skipif(not hasattr(os, "nice"), reason="needs os.nice (POSIX)")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("live-template"))


@pytest.fixture
def worker():
    enc = encoders()
    factory = worker_factory(enc)
    assert factory is not None  # the fakes pickle
    w = EmbeddingWorker(enc, factory)
    yield enc, w
    w.close()


def _photo(rgb: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (32, 32), "white")
    image.paste(Image.new("RGB", (20, 20), rgb), (6, 6))
    return image


def test_the_worker_embeds_what_the_server_process_embeds(worker):
    enc, w = worker
    remote = worker_encoders(enc, w)
    texts = ["red cotton shirt", "blue denim jeans for men", ""]
    photos = [_photo((200, 10, 10)), _photo((10, 10, 200))]
    np.testing.assert_array_equal(remote.text.encode_texts(texts), enc.text.encode_texts(texts))
    np.testing.assert_array_equal(remote.clip.encode_texts(texts), enc.clip.encode_texts(texts))
    np.testing.assert_array_equal(remote.clip.encode_images(photos), enc.clip.encode_images(photos))
    assert remote.text.name == enc.text.name and remote.clip.dim == enc.clip.dim  # identity stays the local one's
    assert w.pid is not None and w.pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, w.pid) == 19  # the lowest priority: searches preempt it


def test_a_dead_worker_fails_the_call_clearly_and_the_next_call_starts_another(worker):
    enc, w = worker
    remote = worker_encoders(enc, w)
    remote.text.encode_texts(["warm"])
    first = w.pid
    os.kill(first, signal.SIGKILL)
    time.sleep(0.5)
    with pytest.raises(EmbeddingWorkerError, match="embedding worker stopped"):
        remote.text.encode_texts(["after the kill"])
    np.testing.assert_array_equal(remote.text.encode_texts(["again"]), enc.text.encode_texts(["again"]))
    assert w.pid not in (None, first)


def test_a_worker_with_other_models_is_refused(worker):
    enc, _ = worker
    other = encoders()
    other.text.name = "another-text-model"  # an instance attribute: the pickled copy carries it
    w = EmbeddingWorker(enc, worker_factory(other))
    try:
        with pytest.raises(EmbeddingWorkerError, match="other models"):
            worker_encoders(enc, w).text.encode_texts(["x"])
    finally:
        w.close()


def test_writes_through_the_api_use_the_worker_and_survive_its_death(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    photo = images_root / "img" / "worker-teal.png"
    _photo((10, 200, 200)).save(photo)
    body = {"title": "Quuxworker teal gadget", "price": 5.0, "images": ["img/worker-teal.png"]}
    with TestClient(make_app(index_dir, images_root, live_embed_worker=True)) as client:
        live = client.app.state.live
        assert client.put("/products/w-1", json=body, headers=AUTH).status_code == 200
        assert live.worker is not None and live.worker.pid is not None
        assert client.get("/health").json()["embedding_worker"] == "ready"
        hits = client.get("/search", params={"q": "quuxworker"}).json()["hits"]
        assert hits[0]["product"]["id"] == "w-1"
        snapshot = client.app.state.searcher.snapshot
        row = snapshot.row_of["w-1"]
        np.testing.assert_array_equal(snapshot.row_vectors("image", row),
                                      encoders().clip.encode_images([Image.open(photo).convert("RGB")]))
        pending = client.get("/health").json()["pending_log_entries"]

        os.kill(live.worker.pid, signal.SIGKILL)
        time.sleep(0.5)
        r = client.put("/products/w-2", json={**body, "title": "Lost zyzzworker"}, headers=AUTH)
        assert r.status_code == 503 and "embedding worker stopped" in r.json()["detail"]
        assert client.get("/health").json()["pending_log_entries"] == pending  # nothing logged
        assert client.get("/products/w-2").status_code == 404

        r = client.put("/products/w-2", json={**body, "title": "Found zyzzworker"}, headers=AUTH)  # a new worker
        assert r.status_code == 200, r.text
        assert client.get("/products/w-2").json()["title"] == "Found zyzzworker"
        assert client.get("/products/w-1").status_code == 200
