"""decode_image_bytes: decompression bombs and broken files are ImageDecodeError; large JPEGs decode small."""

import io
import json

import pytest
from bombs import bomb_gif, bomb_png, long_png
from PIL import Image

from indexer import images
from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.errors import ImageDecodeError, ImageShapeError
from indexer.images import DECODE_MIN_SIDE, MAX_ASPECT, decode_image_bytes


def encoded(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


@pytest.mark.parametrize("data", [bomb_png(), bomb_gif()], ids=["png-30000x30000", "gif-65535x65535"])
def test_decompression_bombs_are_decode_errors(data):
    with pytest.raises(ImageDecodeError, match="too large|larger than"):
        decode_image_bytes(data)


def test_pixels_over_the_cap_are_refused_from_the_header(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100 * 100)
    with pytest.raises(ImageDecodeError, match="101x100 pixels is larger than 10000"):
        decode_image_bytes(encoded(Image.new("RGB", (101, 100)), "PNG"))


@pytest.mark.parametrize("size", [(49_000_000, 1), (1, 49_000_000), (MAX_ASPECT * 10 + 1, 10)])
def test_extreme_aspect_ratios_are_refused_from_the_header(monkeypatch, size):
    def no_load(self):  # refused before any pixel is decoded
        raise AssertionError("decoded")

    monkeypatch.setattr(images.Image.Image, "load", no_load)
    with pytest.raises(ImageShapeError, match=f"more than {MAX_ASPECT} times its shorter one"):
        decode_image_bytes(long_png(*size))


def test_the_aspect_limit_itself_is_accepted():
    assert decode_image_bytes(long_png(MAX_ASPECT * 10, 10)).size == (MAX_ASPECT * 10, 10)


def test_max_side_reduces_by_the_longer_side_too():
    im = decode_image_bytes(long_png(MAX_ASPECT * 600, 600), max_side=1024)  # 12000 x 600: the shorter side alone keeps it
    assert max(im.size) <= 1024 and im.size == (12000 // 12, 600 // 12)
    assert decode_image_bytes(long_png(12000, 600)).size == (12000, 600)  # builds decode as before (cached vectors)


def test_bytes_over_the_cap_are_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 10)
    with pytest.raises(ImageDecodeError, match="larger than 10 bytes"):
        decode_image_bytes(encoded(Image.new("RGB", (8, 8)), "PNG"))


def test_any_failure_inside_pil_is_a_decode_error(monkeypatch):
    def broken_open(*args, **kwargs):
        raise IndexError("list index out of range")  # what some malformed files make a plugin raise

    monkeypatch.setattr(images.Image, "open", broken_open)
    with pytest.raises(ImageDecodeError, match="IndexError"):
        decode_image_bytes(b"anything")


@pytest.mark.parametrize("fmt,size", [("JPEG", (4000, 3000)), ("PNG", (3000, 2000))])
def test_large_images_are_decoded_near_the_size_needed(fmt, size):
    im = decode_image_bytes(encoded(Image.new("RGB", size, (200, 30, 30)), fmt))
    assert im.mode == "RGB"
    assert DECODE_MIN_SIDE <= min(im.size) < DECODE_MIN_SIDE * 2
    assert abs(im.width / im.height - size[0] / size[1]) < 0.01
    assert im.getpixel((im.width // 2, im.height // 2))[0] > 150


def test_small_images_are_decoded_whole():
    assert decode_image_bytes(encoded(Image.new("P", (300, 200)), "PNG")).size == (300, 200)


def test_a_bomb_in_a_catalog_is_an_image_failure_not_a_failed_build(tmp_path, fake_encoders):
    img = tmp_path / "catalog" / "img"
    img.mkdir(parents=True)
    (img / "bomb.png").write_bytes(bomb_png())
    (img / "bomb.gif").write_bytes(bomb_gif())
    Image.new("RGB", (16, 16), "red").save(img / "ok.png")
    rows = [{"id": "png-bomb", "title": "red shirt", "images": ["img/bomb.png"]},
            {"id": "gif-bomb", "title": "blue shoes", "images": ["img/bomb.gif"]},
            {"id": "fine", "title": "red bag", "images": ["img/ok.png"]}]
    catalog_path = tmp_path / "catalog" / "catalog.jsonl"
    catalog_path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    summary = build_index(load_catalog(catalog_path), tmp_path / "idx", fake_encoders, progress=False)

    assert summary.products == 3
    assert {pid for pid, _ in summary.image_failures} == {"png-bomb", "gif-bomb"}
    failures = [json.loads(line) for line in (tmp_path / "idx" / "current" / "image_failures.jsonl").read_text().splitlines()]
    assert {f["product_id"] for f in failures} == {"png-bomb", "gif-bomb"}
    assert all("too large" in f["reason"] for f in failures)

    from search.searcher import Searcher
    from search.types import SearchRequest

    searcher = Searcher.open(tmp_path / "idx", fake_encoders)
    try:
        hits = searcher.search(SearchRequest(text="shoes", k=3)).hits
        assert hits[0].product.id == "gif-bomb" and not hits[0].has_image
    finally:
        searcher.index.close()
