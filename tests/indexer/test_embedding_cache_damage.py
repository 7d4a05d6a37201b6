"""A damaged embedding cache is only a cache: the build warns, sets the damaged file aside and recomputes,
and what it writes equals a build without the cache."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from support import FakeClipEncoder, FakeTextEncoder

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.embedding_cache import FILE_DIGESTS_FILE, THUMBNAILS_FILE, ThumbnailCache, _KeyValueFile
from indexer.encoders import Encoders
from indexer.loaded import load_index


def encoders() -> Encoders:
    return Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())


def cache_file(cache: Path, which: str) -> Path:
    """A file of the cache by name, or the vector file of the model named ``which``."""
    if which.endswith(".sqlite"):
        return cache / which
    (path,) = cache.glob(f"{which}-*.sqlite")
    return path


def overwrite(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2 // 4096 * 4096)


def scribble_middle(path: Path) -> None:
    """A malformed page in the middle: the file opens, a read that reaches the page fails."""
    offset = path.stat().st_size // 2 // 4096 * 4096
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xff" * 4096)


def index_contents(out: Path) -> tuple:
    index = load_index(out)
    try:
        vectors = tuple(index.stored_vectors(f, np.arange(index.vector_count(f))).tobytes()
                        for f in ("text", "image", "clip_text"))
        con = sqlite3.connect(out / "current" / "products.sqlite")
        try:
            thumbs = con.execute("SELECT row, mime, data FROM thumbnails ORDER BY row").fetchall()
        finally:
            con.close()
        return vectors, index.image_rows.tolist(), thumbs
    finally:
        index.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, synthetic_catalog) -> tuple:
    out = tmp_path_factory.mktemp("reference") / "idx"
    build_index(load_catalog(synthetic_catalog), out, encoders(), progress=False, use_cache=False)
    return index_contents(out)


@pytest.mark.parametrize("damage", [overwrite, truncate, scribble_middle])
@pytest.mark.parametrize("which", [THUMBNAILS_FILE, FILE_DIGESTS_FILE, "fake-text", "fake-clip"])
def test_a_damaged_cache_file_is_set_aside_and_the_build_succeeds(tmp_path, synthetic_catalog, reference, caplog,
                                                                  which, damage):
    out, cache = tmp_path / "idx", tmp_path / "cache"
    build_index(load_catalog(synthetic_catalog), out, encoders(), progress=False, cache_dir=cache)
    path = cache_file(cache, which)
    damage(path)
    with caplog.at_level(logging.WARNING, logger="indexer.embedding_cache"):
        summary = build_index(load_catalog(synthetic_catalog), tmp_path / "again", encoders(), progress=False,
                              cache_dir=cache)
    assert any(str(path) in r.getMessage() and "moved aside" in r.getMessage() for r in caplog.records), caplog.text
    assert len(list(cache.glob(f"{path.name}.corrupt-*"))) == 1
    assert index_contents(tmp_path / "again") == reference
    if which == "fake-text":
        assert summary.counts.texts_embedded == summary.products  # recomputed, not read from the damaged file
    third = build_index(load_catalog(synthetic_catalog), tmp_path / "third", encoders(), progress=False,
                        cache_dir=cache)
    assert (third.counts.texts_embedded, third.counts.photos_embedded, third.counts.photos_decoded) == (0, 0, 0)


def test_damage_found_mid_read_is_a_miss_and_later_writes_go_to_a_new_file(tmp_path):
    path = tmp_path / "t.sqlite"
    items = [(i.to_bytes(4, "big"), bytes([i % 256]) * 3000) for i in range(200)]
    kv = _KeyValueFile(path)
    kv.put_many(items)
    kv.close()
    scribble_middle(path)
    kv = _KeyValueFile(path)  # opens: the damage is further in
    assert kv.get_many([k for k, _ in items]) == {}
    assert len(list(tmp_path.glob("t.sqlite.corrupt-*"))) == 1
    kv.put_many(items[:3])
    assert kv.get_many([k for k, _ in items]) == dict(items[:3])
    kv.close()


def test_a_busy_file_is_not_taken_for_a_damaged_one(tmp_path):
    path = tmp_path / "t.sqlite"
    kv = _KeyValueFile(path)
    kv.put_many([(b"k", b"v")])
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    kv._con.execute("PRAGMA busy_timeout=0")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        kv.put_many([(b"k2", b"v2")])
    other.rollback()
    other.close()
    assert not list(tmp_path.glob("*.corrupt-*")) and kv.get_many([b"k"]) == {b"k": b"v"}
    kv.close()


def test_thumbnails_lost_after_the_photos_were_read_are_made_again(tmp_path, synthetic_catalog, reference, monkeypatch):
    """The thumbnails file found damaged after the photo reader saw its thumbnails (so decoded no photo)."""
    cache = tmp_path / "cache"
    build_index(load_catalog(synthetic_catalog), tmp_path / "idx", encoders(), progress=False, cache_dir=cache)
    real = ThumbnailCache.iter_thumbnails

    def losing(self, rows, recompute=None):
        self._file._set_aside(sqlite3.DatabaseError("simulated damage"))
        return real(self, rows, recompute)

    monkeypatch.setattr(ThumbnailCache, "iter_thumbnails", losing)
    summary = build_index(load_catalog(synthetic_catalog), tmp_path / "fresh", encoders(), progress=False,
                          cache_dir=cache)
    assert summary.counts.photos_decoded == 0
    assert index_contents(tmp_path / "fresh") == reference


def flip_byte_of_vectors(path: Path, byte: int, count: int) -> None:
    """Bit rot inside stored vectors: XOR one byte (3: sign and exponent; 2: the lowest exponent bit and the
    top of the mantissa) of each of ``count`` entries' largest element."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT key, value FROM entries ORDER BY key LIMIT ?", (count,)).fetchall()
        for key, value in rows:
            data = bytearray(value)
            data[4 * int(np.argmax(np.frombuffer(value, np.float32))) + byte] ^= 0x7F
            con.execute("UPDATE entries SET value = ? WHERE key = ?", (bytes(data), key))
        con.commit()
    finally:
        con.close()


@pytest.mark.parametrize("byte", [3, 2])  # 3: inf or huge; 2: still finite, the norm far from 1
def test_a_damaged_cached_vector_is_embedded_again(tmp_path, synthetic_catalog, reference, caplog, byte):
    cache = tmp_path / "cache"
    build_index(load_catalog(synthetic_catalog), tmp_path / "idx", encoders(), progress=False, cache_dir=cache)
    flip_byte_of_vectors(cache_file(cache, "fake-text"), byte, 30)
    with caplog.at_level(logging.WARNING, logger="indexer.embedding_cache"):
        summary = build_index(load_catalog(synthetic_catalog), tmp_path / "again", encoders(), progress=False,
                              cache_dir=cache)
    assert summary.counts.texts_embedded == 30, summary.counts
    assert "30 cached text vector(s) of fake-text are damaged" in caplog.text
    assert index_contents(tmp_path / "again") == reference
    again = build_index(load_catalog(synthetic_catalog), tmp_path / "third", encoders(), progress=False,
                        cache_dir=cache)
    assert again.counts.texts_embedded == 0  # the vectors embedded again replaced the damaged ones


def test_usable_rows():
    from indexer.embedding_cache import usable_rows

    rows = np.eye(4, dtype=np.float32)
    rows[1, 1] = np.inf
    rows[2, 2] = 4.0
    rows[3] = 0.0  # l2_normalize leaves a zero row zero
    assert usable_rows(rows).tolist() == [True, False, False, True]


class NaNText(FakeTextEncoder):
    def encode_texts(self, texts):
        out = super().encode_texts(texts)
        out[[i for i, t in enumerate(texts) if "s007" in t or " 1" in t][:1]] = np.nan
        return out


def test_a_build_refuses_to_index_nan_vectors(tmp_path, synthetic_catalog):
    from indexer.build import NonFiniteVectorsError

    out = tmp_path / "idx"
    with pytest.raises(NonFiniteVectorsError, match=r"vector field text: 1 vector\(s\) are NaN or inf \(products s"):
        build_index(load_catalog(synthetic_catalog), out, Encoders(text=NaNText(), clip=FakeClipEncoder()),
                    progress=False, use_cache=False)
    assert not (out / "current").exists()


def bmp(rgb: tuple[int, int, int]) -> bytes:
    """An uncompressed photo: the same size whatever its colour."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), rgb).save(buffer, format="BMP")
    return buffer.getvalue()


def test_a_photo_rewritten_in_place_with_its_mtime_restored_is_read_again(tmp_path):
    import json

    folder = tmp_path / "cat"
    folder.mkdir()
    colours = {"p0": (220, 30, 30), "p1": (30, 170, 40)}
    for pid, rgb in colours.items():
        (folder / f"{pid}.bmp").write_bytes(bmp(rgb))
    path = folder / "catalog.jsonl"
    path.write_text("".join(json.dumps({"id": pid, "title": f"shirt {pid}", "images": [f"{pid}.bmp"]}) + "\n"
                            for pid in colours))
    out, cache = tmp_path / "idx", tmp_path / "cache"
    build_index(load_catalog(path), out, encoders(), progress=False, cache_dir=cache)
    photo = folder / "p0.bmp"
    before = photo.stat()
    with open(photo, "r+b") as fh:  # the same inode and size, other bytes
        fh.write(bmp((30, 60, 220)))
    os.utime(photo, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `touch -d` or a restore tool would
    after = photo.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    summary = build_index(load_catalog(path), out, encoders(), progress=False, cache_dir=cache)
    assert summary.counts.photos_embedded == 1
    index = load_index(out)
    try:
        blue = FakeClipEncoder()._colour_vector(np.array((30, 60, 220), np.float32))
        assert np.allclose(index.stored_vectors("image", np.array([0]))[0], blue)
    finally:
        index.close()

