"""A refused multipart PUT stores nothing: its uploaded photos reach DIR/live/uploads only once the write
is accepted (they were stored before decoding, so every 422 left a file behind)."""

from __future__ import annotations

import io
import json
import os

import pytest
from bombs import bomb_png, long_png
from fastapi.testclient import TestClient
from live_writes_support import AUTH, build_template, copy_index, make_app
from PIL import Image


def png(colour: tuple[int, int, int] = (10, 200, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, format="PNG")
    return buf.getvalue()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("uploads-template"))


@pytest.fixture
def live(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    with TestClient(make_app(index_dir, images_root), raise_server_exceptions=False) as client:
        yield client, index_dir / "live" / "uploads"


def stored(uploads) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(os.listdir(uploads)) if uploads.is_dir() else []


@pytest.mark.parametrize("data", [b"", b"hello world, not an image", os.urandom(4096), bomb_png(), jpeg()[:200],
                                  long_png(49_000_000, 1)],
                         ids=["empty", "text", "random", "bomb", "truncated-jpeg", "49M-by-1"])
def test_a_refused_photo_upload_leaves_nothing_on_disk(live, data):
    client, uploads = live
    r = client.put("/products/n1", data={"product": json.dumps({"title": "New thing"})},
                   files={"photo": ("p.png", io.BytesIO(data), "image/png")}, headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"].startswith("images.0:"), r.text
    assert stored(uploads) == []
    assert client.get("/products/n1").status_code == 404


def test_a_good_upload_of_a_refused_write_is_not_stored_either(live):
    client, uploads = live
    product = {"title": "New thing", "images": ["img/missing.png"]}  # the write fails on its other photo
    r = client.put("/products/n2", data={"product": json.dumps(product)},
                   files={"photo": ("p.png", io.BytesIO(png()), "image/png")}, headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"].startswith("images.0:"), r.text
    assert stored(uploads) == []


def test_an_accepted_upload_is_stored_and_served(live):
    client, uploads = live
    r = client.put("/products/n3", data={"product": json.dumps({"title": "New thing"})},
                   files=[("photo", ("a.png", io.BytesIO(png()), "image/png")),
                          ("photo", ("b.png", io.BytesIO(png((200, 200, 10))), "image/png"))], headers=AUTH)
    assert r.status_code == 200, r.text
    assert len(stored(uploads)) == 2 and all(name.endswith(".png") for name in stored(uploads))
    images = client.get("/products/n3").json()["images"]
    assert images == ["/products/n3/image"] and client.get(images[0]).status_code == 200
