"""The embedding cache and the one-pass build: what is re-embedded, identical output, resumption."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from support import FakeClipEncoder, FakeTextEncoder

import indexer.embedding
from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.encoders import Encoders
from indexer.loaded import load_index
from indexer.manifest import read_manifest


class Counting:
    """Wraps an encoder and records every text and photo it is asked to embed."""

    def __init__(self, inner, fail_after_calls: int | None = None):
        self.inner, self.texts, self.images, self.calls = inner, [], 0, 0
        self.fail_after_calls = fail_after_calls
        self.name, self.dim = inner.name, inner.dim
        self.trained = True
        self.text_tower = getattr(inner, "text_tower", None)

    def encode_texts(self, texts):
        self.calls += 1
        if self.fail_after_calls is not None and self.calls > self.fail_after_calls:
            raise KeyboardInterrupt
        self.texts.extend(texts)
        return self.inner.encode_texts(texts)

    def encode_images(self, images):
        self.images += len(images)
        return self.inner.encode_images(images)


def counting_encoders(**kw) -> Encoders:
    return Encoders(text=Counting(FakeTextEncoder(), **kw), clip=Counting(FakeClipEncoder()))


def rewrite(catalog_path, out_path, change):
    rows = [json.loads(line) for line in catalog_path.read_text().splitlines()]
    change(rows)
    out_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out_path


def vectors_of(index, field: str) -> np.ndarray:
    """Every stored vector of a field of a loaded index."""
    return index.stored_vectors(field, np.arange(index.vector_count(field)))


def store_rows(path):
    con = sqlite3.connect(path)
    try:
        return (con.execute("SELECT row, id, doc FROM products ORDER BY row").fetchall(),
                con.execute("SELECT row, mime, data FROM thumbnails ORDER BY row").fetchall())
    finally:
        con.close()


def test_rebuild_embeds_only_what_changed(tmp_path, synthetic_catalog):
    out, cache = tmp_path / "idx", tmp_path / "cache"
    first = counting_encoders()
    summary = build_index(load_catalog(synthetic_catalog), out, first, progress=False, cache_dir=cache)
    n = summary.products
    assert len(first.text.texts) == n and len(first.clip.texts) == n  # distinct texts and captions
    assert first.clip.images == 6  # the synthetic photos repeat: 6 distinct photos, each embedded once
    assert (summary.counts.texts_embedded, summary.counts.texts_cached) == (2 * n, 0)
    assert "texts: 144 embedded, 0 from cache" in summary.format()

    again = counting_encoders()
    summary = build_index(load_catalog(synthetic_catalog), out, again, progress=False, cache_dir=cache)
    assert (again.text.texts, again.clip.texts, again.clip.images) == ([], [], 0)
    assert (summary.counts.texts_embedded, summary.counts.photos_embedded, summary.counts.photos_decoded) == (0, 0, 0)
    assert summary.counts.texts_cached == 2 * n

    def new_price(rows):
        rows[5]["price"] = 999.0

    priced = counting_encoders()
    build_index(load_catalog(rewrite(synthetic_catalog, synthetic_catalog.with_name("priced.jsonl"), new_price)),
                out, priced, progress=False, cache_dir=cache)
    assert (priced.text.texts, priced.clip.texts, priced.clip.images) == ([], [], 0)

    def new_title(rows):
        rows[7]["title"] = "Birch green shoes renamed"

    titled = counting_encoders()
    summary = build_index(load_catalog(rewrite(synthetic_catalog, synthetic_catalog.with_name("titled.jsonl"), new_title)),
                          out, titled, progress=False, cache_dir=cache)
    assert len(titled.text.texts) == 1 and "renamed" in titled.text.texts[0]
    assert len(titled.clip.texts) == 1 and "renamed" in titled.clip.texts[0]
    assert titled.clip.images == 0 and summary.counts.texts_embedded == 2
    assert read_manifest(out).embedding_counts["texts_embedded"] == 2


def test_default_cache_lives_in_the_index_directory_and_survives_rebuilds(tmp_path, synthetic_catalog):
    out = tmp_path / "idx"
    build_index(load_catalog(synthetic_catalog), out, counting_encoders(), progress=False)
    assert (out / "cache").is_dir() and (out / "cache" / "thumbnails.sqlite").is_file()
    again = counting_encoders()
    build_index(load_catalog(synthetic_catalog), out, again, progress=False)
    assert (again.text.texts, again.clip.images) == ([], 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]


def test_cold_and_cached_builds_are_identical(tmp_path, synthetic_catalog):
    catalog = load_catalog(synthetic_catalog)
    build_index(catalog, tmp_path / "nocache", counting_encoders(), progress=False, use_cache=False)
    build_index(catalog, tmp_path / "cold", counting_encoders(), progress=False, cache_dir=tmp_path / "cache")
    build_index(catalog, tmp_path / "cached", counting_encoders(), progress=False, cache_dir=tmp_path / "cache")
    reference = load_index(tmp_path / "nocache")
    for name in ("cold", "cached"):
        other = load_index(tmp_path / name)
        for signal in ("text", "image", "clip_text"):
            assert np.array_equal(vectors_of(other, signal), vectors_of(reference, signal)), (name, signal)
        assert np.array_equal(other.image_rows, reference.image_rows)
        stores = [tmp_path / variant / "current" / "products.sqlite" for variant in (name, "nocache")]
        assert store_rows(stores[0]) == store_rows(stores[1])
        assert (tmp_path / name / "current" / "lexical").is_dir()
        other.close()
    reference.close()


class TowerText(FakeTextEncoder):
    text_tower = "fake-tower"


class TowerClip(FakeClipEncoder):
    """A CLIP whose text tower is the text encoder (as the default CLIP's MiniLM is)."""

    name, dim = "fake-tower-clip", 64
    text_tower = "fake-tower"

    def encode_texts(self, texts):
        return TowerText().encode_texts(texts)

    def encode_images(self, images):
        small = super().encode_images(images)
        return np.pad(small, ((0, 0), (0, self.dim - small.shape[1])))


def test_shared_vector_path_equals_two_pass_path(tmp_path, synthetic_catalog):
    from search.searcher import Searcher
    from search.types import SearchRequest

    catalog = load_catalog(synthetic_catalog)
    shared_encoders = Encoders(text=Counting(TowerText()), clip=Counting(TowerClip()))
    build_index(catalog, tmp_path / "shared", shared_encoders, progress=False, use_cache=False)
    assert shared_encoders.clip.texts == [] and len(shared_encoders.text.texts) == len(catalog.products)
    two_pass_clip = Counting(TowerClip())
    two_pass_clip.text_tower = None  # not recognised as shared: captions go through the CLIP text tower
    build_index(catalog, tmp_path / "two-pass", Encoders(text=TowerText(), clip=two_pass_clip), progress=False,
                use_cache=False)
    assert len(two_pass_clip.texts) == len(catalog.products)

    manifest = read_manifest(tmp_path / "shared")
    assert manifest.shared_text_vectors and manifest.text_recipe == "caption"
    assert not (tmp_path / "shared" / "current" / "clip_text.faiss").exists()
    assert not read_manifest(tmp_path / "two-pass").shared_text_vectors
    shared, two_pass = load_index(tmp_path / "shared"), load_index(tmp_path / "two-pass")
    for signal in ("text", "image", "clip_text"):
        assert np.allclose(vectors_of(shared, signal), vectors_of(two_pass, signal), atol=1e-6), signal
    encoders = Encoders(text=TowerText(), clip=TowerClip())
    photo = catalog.base_dir / catalog.products[3].images[0]
    from PIL import Image

    a = Searcher(shared, encoders).search(SearchRequest(text="red bag", k=10))
    b = Searcher(two_pass, encoders).search(SearchRequest(text="red bag", k=10))
    assert [h.product.id for h in a.hits] == [h.product.id for h in b.hits]
    with Image.open(photo) as im:
        qa = Searcher(shared, encoders)._dense("clip_text", encoders.clip.encode_images([im]), 10, None)
        qb = Searcher(two_pass, encoders)._dense("clip_text", encoders.clip.encode_images([im]), 10, None)
    assert np.array_equal(qa.docs, qb.docs) and np.allclose(qa.scores, qb.scores, atol=1e-6)


def test_interrupted_build_resumes_from_the_cache(tmp_path, synthetic_catalog, monkeypatch):
    monkeypatch.setattr(indexer.embedding, "TEXT_BATCH", 8)
    catalog = load_catalog(synthetic_catalog)
    out, cache = tmp_path / "idx", tmp_path / "cache"
    crashing = counting_encoders(fail_after_calls=3)
    with pytest.raises(KeyboardInterrupt):
        build_index(catalog, out, crashing, progress=False, cache_dir=cache)
    assert not (out / "current").exists()
    done = len(crashing.text.texts)
    assert done == 24  # three batches of 8 committed before the interruption
    resumed = counting_encoders()
    summary = build_index(catalog, out, resumed, progress=False, cache_dir=cache)
    assert len(resumed.text.texts) == len(catalog.products) - done
    assert not set(resumed.text.texts) & set(crashing.text.texts)
    assert summary.counts.texts_cached >= done
    build_index(catalog, tmp_path / "cold", counting_encoders(), progress=False, use_cache=False)
    assert np.array_equal(vectors_of(load_index(out), "text"), vectors_of(load_index(tmp_path / "cold"), "text"))


def test_progress_without_a_terminal_logs_stage_and_rate(caplog, monkeypatch):
    import indexer.progress
    from indexer.progress import StageProgress, progress_mode

    assert progress_mode(False) == "off" and progress_mode("log") == "log"
    monkeypatch.setattr(indexer.progress, "LOG_EVERY_S", 0.0)
    with caplog.at_level("INFO", logger="indexer.build"):
        bar = StageProgress("embed texts", 10, "text", "log")
        bar.update(4)
        bar.update(6)
        bar.close()
        StageProgress("photos", 5, "photo", "off").update(5)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("embed texts: 4/10 texts (") and lines[-1].startswith("embed texts: 10/10 texts (")
    assert len(lines) == 2 and all("texts/s)" in line for line in lines)


def test_rebuild_reads_no_unchanged_photo_and_rereads_a_changed_one(tmp_path, monkeypatch):
    from PIL import Image
    from support import write_synthetic_catalog

    path = write_synthetic_catalog(tmp_path / "cat")
    out, cache = tmp_path / "idx", tmp_path / "cache"
    build_index(load_catalog(path), out, counting_encoders(), progress=False, cache_dir=cache)
    reads = []
    real_read = indexer.embedding.read_photo_bytes
    monkeypatch.setattr(indexer.embedding, "read_photo_bytes", lambda ref, sources: reads.append(ref) or real_read(ref, sources))
    build_index(load_catalog(path), out, counting_encoders(), progress=False, cache_dir=cache)
    assert reads == []
    photo = path.parent / "img" / "s005.png"
    Image.new("RGB", (32, 32), (10, 200, 200)).save(photo)  # new bytes under the same name
    again = counting_encoders()
    build_index(load_catalog(path), out, again, progress=False, cache_dir=cache)
    assert [r for r in reads if r.endswith("s005.png")] and len(reads) == 1 and again.clip.images == 1
