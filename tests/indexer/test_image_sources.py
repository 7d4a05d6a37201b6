"""Catalog photo paths are confined to the catalog's folder (and --images-root): traversal, absolute
paths and symlinks out are image failures (the product is kept), never read, never served."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image
from support import run_cli

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.images import read_image
from indexer.sources import ImageSourceError, ImageSources


def png(path: Path, colour=(200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), colour).save(path)
    return path


@pytest.fixture
def shop(tmp_path):
    """A catalog folder with one good photo, and a secret photo and text file outside it."""
    catalog_dir = tmp_path / "shop"
    png(catalog_dir / "img" / "ok.png")
    outside = png(tmp_path / "private" / "secret.png", (20, 200, 20))
    (tmp_path / "private" / "passwd").write_text("root:x:0:0")
    os.symlink(outside, catalog_dir / "img" / "link-out.png")
    os.symlink(tmp_path / "private", catalog_dir / "img" / "dir-out")
    os.symlink(catalog_dir / "img" / "ok.png", catalog_dir / "img" / "link-in.png")
    refs = {
        "p-ok": "img/ok.png", "p-link-in": "img/link-in.png",
        "p-dotdot": "../private/secret.png", "p-deep": "img/../../../../../../etc/passwd",
        "p-abs": str(outside), "p-etc": "/etc/passwd", "p-link-out": "img/link-out.png",
        "p-dir-out": "img/dir-out/secret.png", "p-dev": "/dev/zero",
    }
    rows = [{"id": pid, "title": f"Red shirt {pid}", "images": [ref]} for pid, ref in refs.items()]
    path = catalog_dir / "catalog.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, tmp_path / "private"


def test_only_photos_inside_the_catalog_folder_are_indexed(tmp_path, shop, fake_encoders):
    catalog_path, _ = shop
    summary = build_index(load_catalog(catalog_path), tmp_path / "idx", fake_encoders, progress=False)
    failed = {pid: failure.reason for pid, failure in summary.image_failures}
    assert set(failed) == {"p-dotdot", "p-deep", "p-abs", "p-etc", "p-link-out", "p-dir-out", "p-dev"}
    for reason in failed.values():
        assert reason.startswith("refused: resolves to ") and "--images-root" in reason
    assert summary.products == 9 and summary.images_indexed == 2  # every product kept

    from search.searcher import Searcher

    searcher = Searcher.open(tmp_path / "idx", fake_encoders)
    try:
        has = {p.id: bool(searcher.index.store.has_thumbnail[i]) for i, p in enumerate(searcher.index.store.products)}
        assert [pid for pid, yes in has.items() if yes] == ["p-ok", "p-link-in"]
    finally:
        searcher.index.close()


def test_images_root_widens_the_allowed_folders(tmp_path, shop, fake_encoders):
    catalog_path, private = shop
    catalog = load_catalog(catalog_path)
    catalog.images_root = private
    summary = build_index(catalog, tmp_path / "idx", fake_encoders, progress=False)
    failed = {pid for pid, _ in summary.image_failures}
    assert {"p-dotdot", "p-abs", "p-link-out", "p-dir-out"}.isdisjoint(failed)
    assert {"p-etc", "p-deep", "p-dev"} <= failed  # still outside both folders


def test_cli_images_root(tmp_path, shop):
    catalog_path, private = shop
    out = tmp_path / "idx"
    result = run_cli("index", "build", "--catalog", str(catalog_path), "--out", str(out), "--no-progress",
                     "--text-model", "does-not-matter", "--images-root", str(tmp_path / "missing"), timeout=300)
    assert result.returncode == 2 and "--images-root" in result.stderr and "not a folder" in result.stderr


def test_non_regular_files_and_size_cap(tmp_path):
    sources = ImageSources.confined(tmp_path)
    os.mkfifo(tmp_path / "fifo.png")
    with pytest.raises(ImageSourceError, match="not a regular file"):
        sources.read_bytes(str(tmp_path / "fifo.png"))  # would block forever if opened for reading naively
    from indexer.fetch import FetchPolicy

    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 2048)
    small = ImageSources.confined(tmp_path, fetch=FetchPolicy(max_bytes=1024))
    with pytest.raises(ImageSourceError, match="over the 1024-byte limit"):
        small.read_bytes(str(big))


def test_user_given_query_photo_is_not_confined(tmp_path):
    """`prodsearch query --image PATH`: the user names the file, any folder is fine."""
    image = read_image(str(png(tmp_path / "anywhere" / "q.png")))
    assert image.size == (16, 16)


def test_odd_references_are_failures_not_crashes(tmp_path, fake_encoders):
    png(tmp_path / "img" / "ok.png")
    refs = ["img/a\u0000.png", "", "img", "ftp://example.com/x.png", "http://[::1/x.png"]
    rows = [{"id": f"o{i}", "title": "Red shirt", "images": [ref]} for i, ref in enumerate(refs)]
    (tmp_path / "catalog.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = build_index(load_catalog(tmp_path / "catalog.jsonl"), tmp_path / "idx", fake_encoders, progress=False)
    assert summary.products == len(refs) and summary.images_indexed == 0 and len(summary.image_failures) == len(refs)
