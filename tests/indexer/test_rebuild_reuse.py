"""A cached rebuild: no model loaded (encoder profiles), the previous version's BM25 files and product
store copied when their content digests match, and a from-scratch fallback whenever they do not."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from support import FakeClipEncoder, FakeTextEncoder

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.encoder_profiles import PROFILES_FILE, LazyEncoder, ProfileStore, lazy_encoder
from indexer.encoders import Encoders, _model_sources
from indexer.errors import ModelLoadError
from indexer.loaded import load_index
from indexer.manifest import read_manifest


class Loads:
    """Loaders of fake encoders that count how often each model was loaded and what it embedded."""

    def __init__(self):
        self.loaded = {"text": 0, "clip": 0}
        self.texts: list[str] = []
        self.images = 0

    def text(self):
        self.loaded["text"] += 1
        loads = self

        class Text(FakeTextEncoder):
            def encode_texts(self, texts):
                loads.texts.extend(texts)
                return super().encode_texts(texts)

        return Text()

    def clip(self):
        self.loaded["clip"] += 1
        loads = self

        class Clip(FakeClipEncoder):
            def encode_images(self, images):
                loads.images += len(images)
                return super().encode_images(images)

        return Clip()


def model_files(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "weights.bin").write_bytes(b"w" * 64)
    return directory


def encoders_for(loads: Loads, store: ProfileStore, models: Path) -> Encoders:
    return Encoders(text=lazy_encoder(loads.text, [models / "text"], {"encoder": "text"}, store),
                    clip=lazy_encoder(loads.clip, [models / "clip"], {"encoder": "clip"}, store))


def rewrite(catalog_path: Path, out_path: Path, change) -> Path:
    rows = [json.loads(line) for line in catalog_path.read_text().splitlines()]
    change(rows)
    out_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out_path


def index_contents(out: Path) -> dict:
    """Everything a search reads from an index version: vectors, image rows, store rows, BM25 files' bytes."""
    index = load_index(out)
    try:
        vectors = {f: index.stored_vectors(f, np.arange(index.vector_count(f))) for f in ("text", "image", "clip_text")}
        rows = np.asarray(index.image_rows).copy()
    finally:
        index.close()
    directory = (out / "current").resolve()
    con = sqlite3.connect(directory / "products.sqlite")
    try:
        store = (con.execute("SELECT row, id, doc FROM products ORDER BY row").fetchall(),
                 con.execute("SELECT row, mime, data FROM thumbnails ORDER BY row").fetchall())
    finally:
        con.close()
    lexical = {p.name: p.read_bytes() for p in sorted((directory / "lexical").iterdir())}
    return {"vectors": vectors, "image_rows": rows, "store": store, "lexical": lexical}


def assert_same(a: dict, b: dict) -> None:
    for field in a["vectors"]:
        assert np.array_equal(a["vectors"][field], b["vectors"][field]), field
    assert np.array_equal(a["image_rows"], b["image_rows"])
    assert a["store"] == b["store"]
    assert a["lexical"] == b["lexical"]


@pytest.fixture
def setup(tmp_path, synthetic_catalog):
    models = tmp_path / "models"
    model_files(models / "text"), model_files(models / "clip")
    return models, tmp_path / "idx", tmp_path / "idx" / "cache"


def test_fully_cached_rebuild_loads_no_model_and_equals_a_cold_build(tmp_path, synthetic_catalog, setup):
    models, out, cache = setup
    first = Loads()
    cold = build_index(load_catalog(synthetic_catalog), out, encoders_for(first, ProfileStore(cache), models),
                       progress=False)
    assert first.loaded == {"text": 1, "clip": 1} and (cache / PROFILES_FILE).is_file()
    assert sorted(cold.models_loaded) == ["fake-clip", "fake-text"] and cold.parts_reused == []

    again = Loads()
    encoders = encoders_for(again, ProfileStore(cache), models)
    assert isinstance(encoders.text, LazyEncoder) and isinstance(encoders.clip, LazyEncoder)
    summary = build_index(load_catalog(synthetic_catalog), out, encoders, progress=False)
    assert again.loaded == {"text": 0, "clip": 0}  # every text and photo came from the cache
    assert summary.models_loaded == [] and "models loaded: none" in summary.format()
    assert sorted(summary.parts_reused) == ["lexical", "store"]
    manifest = read_manifest(out)
    assert (manifest.text_model, manifest.clip_model) == ("fake-text", "fake-clip")

    build_index(load_catalog(synthetic_catalog), tmp_path / "reference", Encoders(FakeTextEncoder(), FakeClipEncoder()),
                progress=False, use_cache=False)
    assert_same(index_contents(out), index_contents(tmp_path / "reference"))


def test_a_changed_title_loads_the_text_model_and_reembeds_only_that_product(tmp_path, synthetic_catalog, setup):
    models, out, cache = setup
    build_index(load_catalog(synthetic_catalog), out, encoders_for(Loads(), ProfileStore(cache), models), progress=False)

    def new_title(rows):
        rows[7]["title"] = "Birch green shoes renamed"

    changed = rewrite(synthetic_catalog, tmp_path / "titled.jsonl", new_title)
    loads = Loads()
    summary = build_index(load_catalog(changed), out, encoders_for(loads, ProfileStore(cache), models), progress=False)
    assert loads.loaded == {"text": 1, "clip": 1}  # the caption goes through the CLIP text tower (not shared here)
    assert len(loads.texts) == 1 and "renamed" in loads.texts[0] and loads.images == 0
    assert summary.parts_reused == []  # the title is in the BM25 text and in the stored product
    build_index(load_catalog(changed), tmp_path / "reference", Encoders(FakeTextEncoder(), FakeClipEncoder()),
                progress=False, use_cache=False)
    assert_same(index_contents(out), index_contents(tmp_path / "reference"))


def test_a_changed_price_reuses_the_bm25_files_but_writes_the_store(tmp_path, synthetic_catalog, setup):
    models, out, cache = setup
    build_index(load_catalog(synthetic_catalog), out, encoders_for(Loads(), ProfileStore(cache), models), progress=False)

    def new_price(rows):
        rows[5]["price"] = 999.0

    changed = rewrite(synthetic_catalog, tmp_path / "priced.jsonl", new_price)
    loads = Loads()
    summary = build_index(load_catalog(changed), out, encoders_for(loads, ProfileStore(cache), models), progress=False)
    assert loads.loaded == {"text": 0, "clip": 0} and summary.parts_reused == ["lexical"]
    build_index(load_catalog(changed), tmp_path / "reference", Encoders(FakeTextEncoder(), FakeClipEncoder()),
                progress=False, use_cache=False)
    contents = index_contents(out)
    assert_same(contents, index_contents(tmp_path / "reference"))
    assert any('"price":999.0' in doc for _, _, doc in contents["store"][0])


def test_a_changed_model_file_loads_the_model_again(tmp_path, synthetic_catalog, setup):
    models, out, cache = setup
    build_index(load_catalog(synthetic_catalog), out, encoders_for(Loads(), ProfileStore(cache), models), progress=False)
    (models / "clip" / "weights.bin").write_bytes(b"v" * 65)  # retrained weights
    loads = Loads()
    encoders = encoders_for(loads, ProfileStore(cache), models)
    assert loads.loaded == {"text": 0, "clip": 1} and not isinstance(encoders.clip, LazyEncoder)
    assert isinstance(encoders.text, LazyEncoder)


def test_a_loaded_model_unlike_its_recorded_profile_fails(tmp_path):
    store = ProfileStore(tmp_path)
    models = model_files(tmp_path / "m")
    lazy_encoder(FakeTextEncoder, [models], {}, store)  # records the profile

    class Wider(FakeTextEncoder):
        dim = 65

    lazy = lazy_encoder(Wider, [models], {}, store)
    assert isinstance(lazy, LazyEncoder) and lazy.dim == 64
    with pytest.raises(ModelLoadError, match="run the build again"):
        lazy.encode_texts(["x"])
    assert lazy_encoder(Wider, [models], {}, store).dim == 65  # the true profile is recorded now


def test_an_unreadable_profiles_file_means_loading(tmp_path):
    store = ProfileStore(tmp_path)
    models = model_files(tmp_path / "m")
    (tmp_path / PROFILES_FILE).write_text("{not json")
    loads = Loads()
    assert not isinstance(lazy_encoder(loads.text, [models], {}, store), LazyEncoder) and loads.loaded["text"] == 1
    assert isinstance(lazy_encoder(loads.text, [models], {}, store), LazyEncoder)


@pytest.mark.parametrize("damage", ["lexical", "store", "missing"])
def test_a_damaged_or_missing_previous_part_is_written_again(tmp_path, synthetic_catalog, setup, damage):
    models, out, cache = setup
    build_index(load_catalog(synthetic_catalog), out, encoders_for(Loads(), ProfileStore(cache), models), progress=False)
    previous = (out / "current").resolve()
    if damage == "lexical":
        target = max((p for p in (previous / "lexical").iterdir()), key=lambda p: p.stat().st_size)
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, other bytes
        target.write_bytes(bytes(data))
    elif damage == "store":
        target = previous / "products.sqlite"
        target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    else:
        target = previous / "lexical" / "n_docs.txt"
        target.unlink()
    summary = build_index(load_catalog(synthetic_catalog), out, encoders_for(Loads(), ProfileStore(cache), models),
                          progress=False)
    assert ("lexical" in summary.parts_reused) == (damage == "store")
    assert ("store" in summary.parts_reused) == (damage != "store")
    build_index(load_catalog(synthetic_catalog), tmp_path / "reference", Encoders(FakeTextEncoder(), FakeClipEncoder()),
                progress=False, use_cache=False)
    assert_same(index_contents(out), index_contents(tmp_path / "reference"))  # loading checks every sha256


def test_real_models_have_listable_files_unless_named_by_hub_or_tag():
    text, clip = _model_sources("default", "default", None)
    assert text and clip and all(isinstance(p, Path) for p in text + clip)
    assert _model_sources("sentence-transformers/some-hub-model", "ViT-B-32", "laion2b") == (None, None)


def test_a_lazily_loaded_text_encoder_gets_the_build_s_onnx_setting(tmp_path):
    store = ProfileStore(tmp_path)
    models = model_files(tmp_path / "m")
    calls = []

    class Exportable(FakeTextEncoder):
        def enable_onnx(self, directory, threads):
            calls.append((Path(directory), threads))
            return True

    lazy_encoder(Exportable, [models], {}, store)
    lazy = lazy_encoder(Exportable, [models], {}, store)
    assert lazy.enable_onnx(tmp_path / "cache", 2) and calls == []  # remembered: nothing is loaded for it
    lazy.encode_texts(["red shoes"])
    assert calls == [(tmp_path / "cache", 2)]


@pytest.mark.slow
def test_cli_rebuild_with_the_real_models_loads_none_until_a_title_changes(tmp_path, real_fixture_index):
    import shutil

    from support import REPO, run_cli

    out = tmp_path / "idx"
    shutil.copytree(real_fixture_index, out, symlinks=True)
    catalog = REPO / "fixtures" / "catalog.jsonl"
    again = run_cli("index", "build", "--catalog", str(catalog), "--out", str(out), "--no-progress")
    assert again.returncode == 0, again.stderr
    assert "models loaded: none" in again.stdout and "lexical" in again.stdout and "(reused)" in again.stdout

    def new_title(rows):
        rows[0]["title"] = rows[0]["title"] + " limited edition"

    changed = run_cli("index", "build", "--catalog", str(rewrite(catalog, tmp_path / "changed.jsonl", new_title)),
                      "--out", str(out), "--no-progress")
    assert changed.returncode == 0, changed.stderr
    assert "models loaded: sentence-transformers" in changed.stdout  # its recorded profile matched the loaded model
    assert run_cli("index", "verify", str(out)).returncode == 0


def test_a_model_file_rewritten_in_place_with_its_mtime_restored_loads_the_model_again(tmp_path, synthetic_catalog,
                                                                                      setup):
    """Same size, mtime and inode, other bytes: only ctime tells; without it the old profile (and so the old
    weights' cached vectors) would be used and the model never loaded."""
    models, out, cache = setup
    build_index(load_catalog(synthetic_catalog), out, encoders_for(Loads(), ProfileStore(cache), models), progress=False)
    weights = models / "clip" / "weights.bin"
    before = weights.stat()
    with open(weights, "r+b") as fh:
        fh.write(b"v" * 64)
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (weights.stat().st_ino, weights.stat().st_size, weights.stat().st_mtime_ns) == \
        (before.st_ino, before.st_size, before.st_mtime_ns)
    loads = Loads()
    encoders = encoders_for(loads, ProfileStore(cache), models)
    assert loads.loaded == {"text": 0, "clip": 1} and not isinstance(encoders.clip, LazyEncoder)
