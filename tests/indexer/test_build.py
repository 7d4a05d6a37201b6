"""Index building: manifest, image problems, rejects, atomic replacement, load checks."""

import json
import shutil

import numpy as np
import pytest

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.errors import CorruptIndexError, IndexError_, IndexNotFoundError, ManifestMismatchError
from indexer.index_dir import resolve_current
from indexer.loaded import load_index
from indexer.manifest import check_manifest, read_manifest

REPO_FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[2] / "fixtures"


def test_manifest_records_models_dims_hash_counts(synthetic_index, synthetic_catalog):
    manifest = read_manifest(synthetic_index)
    assert (manifest.text_model, manifest.text_dim, manifest.clip_model, manifest.clip_dim) == ("fake-text", 64, "fake-clip", 8)
    assert manifest.catalog_sha256 == load_catalog(synthetic_catalog).sha256
    assert manifest.counts == {"products": 72, "images": 72, "image_failures": 0, "rejects": 0}
    assert manifest.factories == {"text": "Flat", "image": "Flat", "clip_text": "Flat"}
    assert "faiss-cpu" in manifest.library_versions or "faiss-gpu" in manifest.library_versions
    assert manifest.built_at and set(manifest.build_seconds) >= {"embed_text", "write_index"}


def test_check_manifest_names_both_sides(synthetic_index):
    manifest = read_manifest(synthetic_index)
    with pytest.raises(ManifestMismatchError, match=r"CLIP model: index has fake-clip \(8d\), configured other \(8d\)"):
        check_manifest(manifest, text_model="fake-text", text_dim=64, clip_model="other", clip_dim=8)


def test_bad_images_leave_products_searchable_by_text(tmp_path, fake_encoders):
    catalog = load_catalog(REPO_FIXTURES / "bad_catalog.jsonl", skip_invalid=True)
    summary = build_index(catalog, tmp_path / "idx", fake_encoders, progress=False)
    failed = {pid for pid, _ in summary.image_failures}
    assert {"b003", "b006", "b010"} <= failed
    assert summary.products == len(catalog.products) and summary.rejects == len(catalog.rejects) > 0
    assert "image problem: product b003" in summary.format()
    rejects = [json.loads(line) for line in (tmp_path / "idx" / "current" / "rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [r.line for r in catalog.rejects]
    failures = (tmp_path / "idx" / "current" / "image_failures.jsonl").read_text()
    assert "b006" in failures and "b010" in failures

    from search.searcher import Searcher
    from search.types import SearchRequest

    searcher = Searcher.open(tmp_path / "idx", fake_encoders)
    product = searcher.product("b006")
    hits = searcher.search(SearchRequest(text=product.title, k=3, weights={"visual": 0}))
    assert "b006" in [h.product.id for h in hits.hits]
    assert not searcher.index.store.has_thumbnail[searcher.row_of("b006")]


class ExplodingClip:
    """Fails on the first batch of photos (after the texts), as a crash or Ctrl-C mid-build would.
    (The synthetic photos repeat, so each distinct photo is embedded once, in one batch.)"""

    name, dim, trained = "fake-clip", 8, True

    def __init__(self, inner, exc):
        self.inner, self.exc, self.calls = inner, exc, 0

    def encode_texts(self, texts):
        return self.inner.encode_texts(texts)

    def encode_images(self, images):
        self.calls += 1
        raise self.exc
        return self.inner.encode_images(images)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("boom")])
def test_interrupted_build_leaves_previous_index_intact(tmp_path, synthetic_index, synthetic_catalog, fake_encoders, exc):
    from support import write_synthetic_catalog

    from indexer.encoders import Encoders

    out = tmp_path / "idx"
    shutil.copytree(synthetic_index, out, symlinks=True)
    before = {p.name: p.read_bytes() for p in (out / "current").iterdir() if p.is_file()}
    big = write_synthetic_catalog(tmp_path / "big", n_per_cell=6)  # > 1 chunk of photos
    encoders = Encoders(text=fake_encoders.text, clip=ExplodingClip(fake_encoders.clip, exc))
    with pytest.raises(type(exc)):
        build_index(load_catalog(big), out, encoders, progress=False, use_cache=False)  # the copied cache has these photos
    assert {p.name: p.read_bytes() for p in (out / "current").iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big", "idx"]  # no temporary directory left
    assert [p.name for p in (out / "versions").iterdir() if p.name != ".lock"] == [resolve_current(out).name]
    load_index(out)


def test_rebuild_replaces_index_and_leaves_no_temporaries(tmp_path, synthetic_catalog, fake_encoders):
    out = tmp_path / "idx"
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    first = read_manifest(out).built_at
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, factory="HNSW16", progress=False)
    assert read_manifest(out).factories["text"] == "HNSW16" and read_manifest(out).built_at >= first
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]


def test_load_errors(tmp_path, synthetic_index):
    with pytest.raises(IndexNotFoundError, match="no index at"):
        load_index(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFoundError, match="has no manifest.json"):
        load_index(tmp_path / "empty")
    broken = tmp_path / "broken"
    shutil.copytree(resolve_current(synthetic_index), broken)  # a version directory loads on its own
    load_index(broken).close()
    (broken / "image.faiss").unlink()
    with pytest.raises(IndexError_, match="image.faiss is missing; rebuild the index"):
        load_index(broken)
    (broken / "manifest.json").write_text("{}")
    with pytest.raises(CorruptIndexError, match="manifest.json is unreadable"):
        load_index(broken)


def test_image_rows_map_photos_to_products(synthetic_index):
    index = load_index(synthetic_index)
    assert index.image_rows.tolist() == list(range(72))
    assert np.allclose(np.linalg.norm(index.stored_vectors("text", np.arange(72)), axis=1), 1.0, atol=1e-5)
