"""The faiss backend: index specs (parsing, ParameterSpace), auto specs, recall check and --min-recall, devices."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest
from faiss.contrib.datasets import SyntheticDataset

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.errors import IndexError_, InvalidArrayError
from indexer.faiss_store import FaissVectorStore, check_spec, gpu_available, resolve_device
from indexer.index_dir import resolve_current
from indexer.index_specs import (
    AUTO_APPROX,
    AUTO_EXACT_BELOW,
    IndexSpecError,
    VectorBuild,
    parse_factory,
    parse_index_spec,
    resolve_auto,
    vector_build_from,
)
from indexer.loaded import load_index
from indexer.manifest import read_manifest
from indexer.recall import RecallTooLowError, check_recall, recall_at_k
from indexer.vector_store import FieldSpec, create_store, open_store


def normalised(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), np.float32)


@pytest.fixture(scope="module")
def dataset() -> tuple[np.ndarray, np.ndarray]:
    ds = SyntheticDataset(32, 0, 4000, 200, metric="IP")
    return normalised(ds.get_database()), normalised(ds.get_queries())


# -- parsing -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,factory,params", [
    ("Flat", "Flat", {}),
    ("HNSW32,efSearch=96", "HNSW32", {"efSearch": 96}),
    ("IVF1024,SQ8,nprobe=24", "IVF1024,SQ8", {"nprobe": 24}),
    ("HNSW32, efConstruction=80, efSearch=128", "HNSW32", {"efConstruction": 80, "efSearch": 128}),
    ("OPQ16,IVF256,PQ16x4fs,RFlat,nprobe=8,k_factor=4", "OPQ16,IVF256,PQ16x4fs,RFlat", {"nprobe": 8, "k_factor": 4}),
])
def test_parameters_are_split_off_the_end_of_the_factory(text, factory, params):
    spec = parse_factory(text)
    assert spec.factory == factory and spec.params == params
    assert list(spec.params) == list(params)  # in the order given


@pytest.mark.parametrize("text,message", [
    ("HNSW32,bogus=3", "unknown parameter 'bogus'"),
    ("nprobe=4,IVF16,Flat", "parameters go after the factory"),
    ("nprobe=4", "no factory string"),
    ("HNSW32,efSearch=many", "is not a number"),
    ("HNSW32,efSearch=-1", "finite number >= 0"),
    ("HNSW32,efSearch=8,efSearch=9", "given twice"),
    ("auto,efSearch=8", "'auto' takes no parameters"),
])
def test_bad_specs_name_the_problem(text, message):
    with pytest.raises(IndexSpecError, match=message):
        parse_factory(text)


def test_index_spec_names_a_known_field():
    assert parse_index_spec("image=IVF1024,SQ8,nprobe=24") == ("image", FieldSpec("IVF1024,SQ8", {"nprobe": 24}))
    with pytest.raises(IndexSpecError, match="unknown field 'photo'; fields: text, image, clip_text"):
        parse_index_spec("photo=Flat")
    with pytest.raises(IndexSpecError, match="expected FIELD=FACTORY"):
        parse_index_spec("HNSW32")


def test_factory_is_every_fields_spec_and_index_spec_overrides_one():
    vb = vector_build_from("HNSW16,efSearch=40", ["image=Flat"], min_recall=0.9)
    assert vb.spec_for("text", 50_000) == FieldSpec("HNSW16", {"efSearch": 40})
    assert vb.spec_for("image", 50_000) == FieldSpec("Flat")
    with pytest.raises(IndexSpecError, match="--min-recall 1.5"):
        vector_build_from("auto", [], min_recall=1.5)


def test_auto_is_exact_for_small_fields_and_hnsw_for_large_ones():
    assert resolve_auto(FieldSpec("auto"), AUTO_EXACT_BELOW - 1) == FieldSpec("Flat")
    assert resolve_auto(FieldSpec("auto"), AUTO_EXACT_BELOW) == AUTO_APPROX
    assert resolve_auto(FieldSpec("IVF16,Flat", {"nprobe": 2}), 5) == FieldSpec("IVF16,Flat", {"nprobe": 2})


@pytest.mark.parametrize("spec,dim,message", [
    (FieldSpec("Nope"), 16, "invalid FAISS factory string 'Nope'"),
    (FieldSpec("PQ5"), 16, "invalid FAISS factory string 'PQ5' for 16-d vectors"),
    (FieldSpec("Flat", {"efSearch": 5}), 16, "efSearch=5 does not apply to this index type"),
    (FieldSpec("HNSW32", {"nprobe": 5}), 16, "nprobe=5 does not apply"),
])
def test_spec_check_before_embedding(spec, dim, message):
    with pytest.raises(IndexError_, match=message):
        check_spec(spec, dim)


# -- ParameterSpace --------------------------------------------------------------------------------------
def test_search_parameters_are_applied_and_survive_save_and_open(dataset, tmp_path):
    x, _ = dataset
    specs = {"text": FieldSpec("HNSW16", {"efConstruction": 60, "efSearch": 77}),
             "image": FieldSpec("IVF32,Flat", {"nprobe": 7})}
    store = create_store("faiss", {"text": x, "image": x[:2000]}, specs, tmp_path, device="cpu")
    assert isinstance(store, FaissVectorStore)
    assert faiss.downcast_index(store.faiss_index("text")).hnsw.efSearch == 77
    assert faiss.downcast_index(store.faiss_index("text")).hnsw.efConstruction == 60
    assert faiss.extract_index_ivf(store.faiss_index("image")).nprobe == 7
    record = store.save(tmp_path)
    assert record["specs"]["image"] == {"factory": "IVF32,Flat", "params": {"nprobe": 7}}
    reopened = open_store("faiss", tmp_path, record, device="cpu")
    assert faiss.extract_index_ivf(reopened.faiss_index("image")).nprobe == 7
    assert reopened.stats()["text"]["params"] == {"efConstruction": 60, "efSearch": 77}


# -- recall ----------------------------------------------------------------------------------------------
def test_recall_is_one_for_exact_and_low_for_a_starved_ivf(dataset, tmp_path):
    x, q = dataset
    flat = create_store("faiss", {"text": x}, {"text": FieldSpec("Flat")}, tmp_path, device="cpu")
    assert recall_at_k(flat, "text", q, x) == 1.0
    starved = create_store("faiss", {"text": x}, {"text": FieldSpec("IVF64,Flat", {"nprobe": 1})}, tmp_path, device="cpu")
    generous = create_store("faiss", {"text": x}, {"text": FieldSpec("IVF64,Flat", {"nprobe": 64})}, tmp_path,
                            device="cpu")
    low, full = recall_at_k(starved, "text", q, x), recall_at_k(generous, "text", q, x)
    assert low < 0.8 and full == 1.0


def test_recall_ties_are_not_misses(tmp_path):
    x = normalised(np.repeat(np.random.default_rng(0).standard_normal((50, 8)), 4, axis=0))  # every vector 4 times
    store = create_store("faiss", {"text": x}, {"text": FieldSpec("HNSW16", {"efSearch": 64})}, tmp_path, device="cpu")
    assert recall_at_k(store, "text", x[::7], x) == 1.0


def test_check_recall_fails_saying_which_parameter_to_raise(dataset, tmp_path):
    x, _ = dataset
    specs = {"text": FieldSpec("IVF64,Flat", {"nprobe": 1}), "image": FieldSpec("HNSW32", {"efSearch": 128})}
    store = create_store("faiss", {"text": x, "image": x}, specs, tmp_path, device="cpu")
    with pytest.raises(RecallTooLowError, match=r"field 'text' \(IVF64,Flat,nprobe=1\) has recall@10 0\.\d+ "
                                                r"< --min-recall 0\.95: raise nprobe \(now 1; e\.g\. nprobe=8\)"):
        check_recall(store, {"text": x, "image": x}, specs, {"text": True, "image": True}, 0.95)
    recall = check_recall(store, {"text": x, "image": x}, specs, {"text": False, "image": True}, 0.95)
    assert set(recall) == {"image"} and recall["image"] >= 0.95


def test_a_build_under_min_recall_publishes_nothing(tmp_path, synthetic_catalog, fake_encoders):
    catalog = load_catalog(synthetic_catalog)
    out = tmp_path / "idx"
    build_index(catalog, out, fake_encoders, progress=False, use_cache=False)
    before = resolve_current(out)
    starved = VectorBuild(default=FieldSpec("Flat"), specs={"text": FieldSpec("IVF8,Flat", {"nprobe": 1})},
                          min_recall=0.99)
    with pytest.raises(RecallTooLowError, match="field 'text'.*raise nprobe.*Nothing was published"):
        build_index(catalog, out, fake_encoders, progress=False, use_cache=False, vector_build=starved)
    assert resolve_current(out) == before
    assert sorted(p.name for p in (out / "versions").iterdir() if p.name != ".lock") == [before.name]


def test_manifest_records_backend_specs_and_recall(tmp_path, synthetic_catalog, fake_encoders):
    out = tmp_path / "idx"
    vb = VectorBuild(default=FieldSpec("HNSW16", {"efSearch": 64}), specs={"image": FieldSpec("Flat")}, min_recall=0.9)
    summary = build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False, use_cache=False,
                          vector_build=vb)
    manifest = read_manifest(out)
    assert manifest.backend == "faiss" and manifest.factories == {"text": "HNSW16", "image": "Flat", "clip_text": "HNSW16"}
    assert manifest.search_params["text"] == {"efSearch": 64} and manifest.search_params["image"] == {}
    assert set(manifest.recall_at_10) == {"text", "clip_text"} and min(manifest.recall_at_10.values()) >= 0.9
    assert manifest.vector_store["files"]["text"] == "text.faiss"
    assert "text=HNSW16,efSearch=64 (recall@10" in summary.format() and "image=Flat (exact)" in summary.format()
    index = load_index(out)
    try:
        assert index.vector_store.stats()["text"]["params"] == {"efSearch": 64}
    finally:
        index.close()


def test_an_index_from_before_the_seam_loads_as_faiss(tmp_path, synthetic_index):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(resolve_current(synthetic_index), old)
    manifest = json.loads((old / "manifest.json").read_text())
    for key in ("backend", "vector_store", "search_params", "recall_at_10"):
        manifest.pop(key, None)
    (old / "manifest.json").write_text(json.dumps(manifest))
    index = load_index(old)
    try:
        assert index.manifest.backend == "faiss" and index.vector_count("text") == 72
        D, I = index.search_vectors("text", index.stored_vectors("text", np.array([3])), 1)
        assert I[0, 0] == 3
    finally:
        index.close()


# -- devices ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(gpu_available(), reason="checks the machine without a GPU")
def test_cuda_without_a_gpu_fails_clearly_and_auto_falls_back(monkeypatch):
    monkeypatch.setattr("indexer.faiss_gpu._torch_sees_gpu", lambda: False)
    with pytest.raises(IndexError_, match="--device cuda: no CUDA GPU is visible.*use --device auto or cpu"):
        resolve_device("cuda")
    assert resolve_device("auto") == resolve_device(None) == resolve_device("cpu") == "cpu"
    with pytest.raises(IndexError_, match="expected one of auto, cpu, cuda"):
        resolve_device("tpu")


@pytest.mark.skipif(not gpu_available(), reason="needs faiss-gpu and a CUDA device")
def test_gpu_copies_share_one_resource_object_and_agree_with_the_cpu(dataset, tmp_path):
    x, q = dataset
    store = create_store("faiss", {"text": x, "image": x}, {}, tmp_path, device="cuda")
    assert store.stats()["text"]["device"] == "cuda"
    gpu = store.search("text", q, 10)[1]
    cpu = create_store("faiss", {"text": x}, {}, tmp_path, device="cpu").search("text", q, 10)[1]
    assert (gpu == cpu).mean() > 0.99


# -- CLI: bad input fails before any model loads ---------------------------------------------------------
@pytest.mark.parametrize("extra,message", [
    (["--index-spec", "photo=Flat"], "unknown field 'photo'"),
    (["--index-spec", "text=HNSW32,bogus=1"], "unknown parameter 'bogus'"),
    (["--index-spec", "image=Nope"], "invalid FAISS factory string 'Nope'"),
    (["--factory", "IVF16,Flat,efSearch=4"], "efSearch=4 does not apply"),
    (["--backend", "nope"], "--backend 'nope': unknown vector store backend; valid: faiss"),
    (["--min-recall", "2"], "--min-recall 2.0"),
])
def test_cli_rejects_bad_vector_options_before_loading_models(extra, message, capsys, tmp_path, monkeypatch):
    from prodsearch.cli import main

    monkeypatch.setattr("indexer.encoders.load_encoders", lambda *a, **k: pytest.fail("models were loaded"))
    code = main(["index", "build", "--catalog", "fixtures/catalog.jsonl", "--out", str(tmp_path / "x"), *extra])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.skipif(gpu_available(), reason="checks the machine without a GPU")
def test_cli_device_cuda_without_a_gpu_fails_before_loading_models(capsys, tmp_path, monkeypatch):
    from prodsearch.cli import main

    monkeypatch.setattr("indexer.faiss_gpu._torch_sees_gpu", lambda: False)
    code = main(["index", "build", "--catalog", "fixtures/catalog.jsonl", "--out", str(tmp_path / "x"),
                 "--device", "cuda"])
    assert code == 2 and "--device cuda: no CUDA GPU is visible" in capsys.readouterr().err


# -- changing rows of approximate indexes ----------------------------------------------------------------
@pytest.mark.parametrize("spec", [FieldSpec("HNSW16"), FieldSpec("IVF16,Flat", {"nprobe": 16}),
                                  FieldSpec("IVF16,SQ8", {"nprobe": 16})])
def test_upsert_in_an_approximate_index_finds_the_moved_row_after_reopen(dataset, tmp_path, spec):
    from indexer.vector_store import RowFilter

    x, _ = dataset
    store = create_store("faiss", {"text": x[:1000]}, {"text": spec}, tmp_path, device="cpu")
    moved = -x[3:4]  # far from where row 7 was: the graph/lists would not lead there
    store.upsert("text", np.array([7]), moved)
    assert store.search("text", moved, 1)[1].tolist() == [[7]]
    others = np.ones(1000, bool)
    others[7] = False
    assert 7 not in store.search("text", moved, 5, RowFilter(mask=others))[1]
    record = store.save(tmp_path)
    reopened = open_store("faiss", tmp_path, record, device="cpu")
    assert reopened.search("text", moved, 1)[1].tolist() == [[7]]
    assert np.allclose(reopened.vectors("text", np.array([7])), moved, atol=0.02)
    assert reopened.stats()["text"]["overlay"] == 1
    reopened.delete("text", np.array([7]))
    assert 7 not in reopened.search("text", moved, 5)[1]


def test_searches_running_while_rows_are_added_and_deleted_stay_valid(dataset, tmp_path):
    import threading

    x, q = dataset
    store = create_store("faiss", {"text": x[:1000]}, {"text": FieldSpec("HNSW16")}, tmp_path, device="cpu")
    errors: list[BaseException] = []
    done = threading.Event()

    def search() -> None:
        try:
            while not done.is_set():
                D, I = store.search("text", q[:4], 10)
                assert ((I >= -1) & (store.count("text") > I)).all()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(20):
        store.add("text", x[1000 + 50 * i: 1050 + 50 * i])
        store.delete("text", np.array([i]))
        store.upsert("text", np.array([500 + i]), x[3000 + i: 3001 + i])
    done.set()
    for t in threads:
        t.join()
    assert not errors and store.count("text") == 2000
    assert store.search("text", x[3005:3006], 1)[1].tolist() == [[505]]


def test_upsert_rejects_negative_and_non_consecutive_new_rows(dataset, tmp_path):
    x, _ = dataset
    store = create_store("faiss", {"text": x[:100]}, {}, tmp_path, device="cpu")
    with pytest.raises(InvalidArrayError, match="negative row"):
        store.upsert("text", np.array([-1]), x[:1])
    with pytest.raises(InvalidArrayError, match="must follow on from row 99"):
        store.upsert("text", np.array([105]), x[:1])


# -- rebuilds reuse the previous approximate index -----------------------------------------------------
def _hnsw_file(x: np.ndarray, path) -> None:
    store = create_store("faiss", {"text": x}, {"text": FieldSpec("HNSW16", {"efSearch": 64})}, path)
    store.save(path)
    store.close()


def test_an_unchanged_field_reuses_the_previous_index_file(dataset, tmp_path):
    x, q = dataset
    _hnsw_file(x, tmp_path)
    previous = faiss.read_index(str(tmp_path / "text.faiss"))
    store = create_store("faiss", {"text": x}, {"text": FieldSpec("HNSW16", {"efSearch": 64})}, tmp_path / "new",
                         reuse={"text": tmp_path / "text.faiss"})
    assert store.reused == ["text"]
    previous.hnsw.efSearch = 64
    D, I = store.search("text", q, 10)
    D0, I0 = previous.search(q, 10)
    np.testing.assert_array_equal(I, I0)  # the same graph, searched the same way
    assert not store._overlay["text"]


def test_a_few_changed_and_added_rows_are_upserted_into_the_reused_index(dataset, tmp_path):
    x, q = dataset
    _hnsw_file(x[:3900], tmp_path)
    changed = normalised(np.random.default_rng(0).standard_normal((20, x.shape[1])).astype(np.float32))
    new = x.copy()
    new[[5, 50, 500] + list(range(1000, 1017))] = changed
    store = create_store("faiss", {"text": new}, {"text": FieldSpec("HNSW16", {"efSearch": 64})}, tmp_path / "new",
                         reuse={"text": tmp_path / "text.faiss"})
    assert store.reused == ["text"] and store.count("text") == 4000
    np.testing.assert_array_equal(store.vectors("text", np.arange(4000)), new)
    D, I = store.search("text", changed, 1)
    assert I[:, 0].tolist() == [5, 50, 500] + list(range(1000, 1017))  # each changed row is found at its new place
    D, I = store.search("text", new[3950:3960], 1)
    assert I[:, 0].tolist() == list(range(3950, 3960))  # added rows too


def test_a_rebuild_after_a_partly_changed_one_is_unchanged_when_the_overlay_already_held_the_rows(dataset, tmp_path):
    x, _ = dataset
    spec = {"text": FieldSpec("HNSW16", {"efSearch": 64})}
    _hnsw_file(x, tmp_path)
    new = x.copy()
    new[[5, 50]] = normalised(np.random.default_rng(2).standard_normal((2, x.shape[1])).astype(np.float32))
    first = create_store("faiss", {"text": new}, spec, tmp_path / "v2", reuse={"text": tmp_path / "text.faiss"})
    assert first.unchanged == []  # two rows moved to the overlay
    (tmp_path / "v2").mkdir()
    first.save(tmp_path / "v2")
    again = create_store("faiss", {"text": new}, spec, tmp_path / "v3", reuse={"text": tmp_path / "v2" / "text.faiss"})
    assert again.reused == ["text"] and again.unchanged == ["text"]  # the same vectors: recorded recall still holds
    np.testing.assert_array_equal(again.vectors("text", np.arange(len(new))), new)
    newer = new.copy()
    newer[50] = x[50]
    other = create_store("faiss", {"text": newer}, spec, tmp_path / "v4", reuse={"text": tmp_path / "v2" / "text.faiss"})
    assert other.unchanged == []  # an overlay row changed back: not the same vectors


def test_many_changed_rows_or_another_spec_build_afresh(dataset, tmp_path):
    x, _ = dataset
    _hnsw_file(x, tmp_path)
    shuffled = x[np.random.default_rng(1).permutation(len(x))]
    store = create_store("faiss", {"text": shuffled}, {"text": FieldSpec("HNSW16", {"efSearch": 64})}, tmp_path / "a",
                         reuse={"text": tmp_path / "text.faiss"})
    assert store.reused == []
    (tmp_path / "broken.faiss").write_bytes(b"not an index")
    store = create_store("faiss", {"text": x}, {"text": FieldSpec("HNSW16", {"efSearch": 64})}, tmp_path / "b",
                         reuse={"text": tmp_path / "broken.faiss"})
    assert store.reused == [] and store.count("text") == len(x)


def test_a_rebuild_reuses_fields_built_with_the_same_spec_only(tmp_path, synthetic_catalog, fake_encoders):
    catalog = load_catalog(synthetic_catalog)
    out = tmp_path / "idx"
    vb = VectorBuild(default=FieldSpec("HNSW16", {"efSearch": 64}), specs={"image": FieldSpec("Flat")}, min_recall=0.9)
    first = build_index(catalog, out, fake_encoders, progress=False, use_cache=False, vector_build=vb)
    assert first.reused == []
    again = build_index(catalog, out, fake_encoders, progress=False, use_cache=False, vector_build=vb)
    assert sorted(again.reused) == sorted(n for n in again.specs if n != "image")  # Flat fields are cheap: rebuilt
    assert "(previous index reused)" in again.format()
    assert again.recall == first.recall  # nothing changed: the recall measured at the first build still holds
    other = VectorBuild(default=FieldSpec("HNSW16", {"efSearch": 80}), specs={"image": FieldSpec("Flat")}, min_recall=0.9)
    assert build_index(catalog, out, fake_encoders, progress=False, use_cache=False, vector_build=other).reused == []
