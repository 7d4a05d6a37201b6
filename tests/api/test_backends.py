"""The API over each vector-store backend: the fixture catalog indexed with `faiss` and with `milvus` (Milvus
Lite) gives the same results on every route, and the same ranking quality on the fixture relevance set.

Fake encoders keep it fast; `test_fixture_ndcg_with_real_encoders` (slow) repeats the nDCG check with the
default models through the CLI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import REPO, FakeClipEncoder, FakeTextEncoder, run_cli

pytest.importorskip("milvus_lite")

FIXTURES = REPO / "fixtures"
BACKENDS = ("faiss", "milvus")
NDCG_TOLERANCE = 0.005
HOSTILE_BRAND = '" or 1==1 or "'


def _encoders():
    from indexer.encoders import Encoders

    return Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())


@pytest.fixture(scope="module")
def indexes(tmp_path_factory) -> dict[str, Path]:
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.index_specs import VectorBuild

    catalog = load_catalog(FIXTURES / "catalog.jsonl")
    root = tmp_path_factory.mktemp("backends")
    out = {}
    for backend in BACKENDS:
        out[backend] = root / backend
        build_index(catalog, out[backend], _encoders(), progress=False, cache_dir=root / "cache",
                    vector_build=VectorBuild(backend=backend))
    return out


@pytest.fixture(scope="module")
def searchers(indexes):
    from search.searcher import Searcher

    opened = {backend: Searcher.open(path, _encoders()) for backend, path in indexes.items()}
    yield opened
    for searcher in opened.values():
        searcher.index.close()


@pytest.fixture(scope="module")
def clients(searchers):
    from api.app import create_app
    from api.settings import Settings

    out, stack = {}, []
    for backend, searcher in searchers.items():
        client = TestClient(create_app(Settings(index_dir=searcher.index.directory), searcher))
        out[backend] = client.__enter__()
        stack.append(client)
    yield out
    for client in stack:
        client.__exit__(None, None, None)


def _ranked(body: dict) -> list[tuple[str, float]]:
    return [(h["product"]["id"], round(h["score"], 4)) for h in body["hits"]]


def _assert_same_results(got: list[tuple[str, float]], want: list[tuple[str, float]]):
    """Same scores in the same order, and the same products for each score (products tied on score may swap;
    the last tie group may be cut differently by k)."""
    assert [s for _, s in got] == [s for _, s in want]
    last = want[-1][1] if want else None
    for score in {s for _, s in want} - {last}:
        assert {i for i, s in got if s == score} == {i for i, s in want if s == score}


def _filters_as_expressions(monkeypatch):
    """Make the milvus backend run every filter as a Milvus expression (no exact scoring of small masks)."""
    from indexer import milvus_collections

    monkeypatch.setattr(milvus_collections, "EXACT_MAX_ROWS", 0)


REQUESTS = [
    ("get", "/search", {"params": {"q": "red t-shirt", "k": 10}}),
    ("get", "/search", {"params": {"q": "shoes", "k": 8, "offset": 8}}),
    ("get", "/search", {"params": {"q": "cap", "k": 10, "brand": "Kestrel"}}),
    ("get", "/search", {"params": {"q": "women", "k": 10, "attr": ["colour:Black"], "price_max": 60}}),
    ("get", "/search", {"params": {"q": "shirt", "k": 10, "price_min": 20, "price_max": 30}}),
    ("get", "/search", {"params": {"q": "bag", "k": 5, "brand": HOSTILE_BRAND}}),
    ("post", "/search", {"json": {"text": "blue", "k": 10, "filters": {"category": ["Apparel"]}}}),
    ("post", "/search", {"json": {"product_id": "p0007", "k": 10}}),
    ("get", "/products/p0042/similar", {"params": {"k": 10}}),
    ("get", "/products/p0042/similar", {"params": {"k": 10, "attr": ["gender:Women"]}}),
]


@pytest.mark.parametrize("backend", ["faiss", "milvus", "milvus-expressions"])
@pytest.mark.parametrize("method,path,kwargs", REQUESTS, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(REQUESTS)])
def test_routes_give_the_same_results(clients, backend, method, path, kwargs, monkeypatch):
    if backend == "milvus-expressions":
        _filters_as_expressions(monkeypatch)
        backend = "milvus"
    response = getattr(clients[backend], method)(path, **kwargs)
    reference = getattr(clients["faiss"], method)(path, **kwargs)
    assert response.status_code == reference.status_code == 200, response.text
    _assert_same_results(_ranked(response.json()), _ranked(reference.json()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_photo_search_and_product_routes(clients, backend):
    photo = (FIXTURES / "images" / "p0007.png").read_bytes()
    got = clients[backend].post("/search/image", files={"file": ("p.png", photo, "image/png")},
                                data={"k": "10", "filters": json.dumps({"attributes": {"gender": "Unisex"}})})
    want = clients["faiss"].post("/search/image", files={"file": ("p.png", photo, "image/png")},
                                 data={"k": "10", "filters": json.dumps({"attributes": {"gender": "Unisex"}})})
    assert got.status_code == 200, got.text
    _assert_same_results(_ranked(got.json()), _ranked(want.json()))
    assert got.json()["hits"] and all(h["product"]["attributes"]["gender"] == "Unisex" for h in got.json()["hits"])
    product = clients[backend].get("/products/p0007")
    assert product.status_code == 200 and product.json() == clients["faiss"].get("/products/p0007").json()
    assert clients[backend].get("/health").json()["products"] == 312


def test_filters_hold_on_the_milvus_backend(clients):
    body = clients["milvus"].get("/search", params={"q": "women", "k": 20, "attr": ["colour:Black"],
                                                    "price_max": 60}).json()
    assert body["hits"] and all(h["product"]["attributes"]["colour"] == "Black" and h["product"]["price"] <= 60
                                for h in body["hits"])
    assert clients["milvus"].get("/search", params={"q": "bag", "brand": HOSTILE_BRAND}).json()["hits"] == []


def test_milvus_filters_run_as_expressions(clients, monkeypatch):
    """The request's filters reach Milvus as an expression over the filter columns (not as row ids)."""
    from indexer import milvus_store

    seen = []
    original = milvus_store.MilvusVectorStore._search_expressions

    def spy(self, collection, field_name, queries, k, expressions):
        seen.extend(expressions)
        return original(self, collection, field_name, queries, k, expressions)

    _filters_as_expressions(monkeypatch)
    monkeypatch.setattr(milvus_store.MilvusVectorStore, "_search_expressions", spy)
    body = clients["milvus"].get("/products/p0042/similar", params={"k": 5, "brand": "Kestrel",
                                                                   "attr": ["gender:Men"]}).json()
    assert body["hits"] and all(h["product"]["brand"] == "Kestrel" for h in body["hits"])
    assert seen and all('(brand in ["kestrel"])' in e and "attribute_pairs" in e and "row not in" in e for e in seen)


def test_milvus_index_is_recorded_and_verifies(indexes):
    from indexer.loaded import load_index

    index = load_index(indexes["milvus"])
    try:
        assert index.manifest.backend == "milvus"
        assert index.manifest.vector_store["uri"] == {"kind": "lite", "path": "milvus.db"}
        assert any(name.startswith("milvus.db/") for name in index.manifest.files)
    finally:
        index.close()


def _ndcg(searcher, tmp: Path) -> dict[str, float]:
    from eval.modes import resolve_modes
    from eval.pipeline import evaluate_modes, relevance_for

    rel = relevance_for(searcher, FIXTURES / "relevance" / "queries.jsonl", FIXTURES / "relevance" / "qrels.txt")
    report = evaluate_modes(searcher, rel, resolve_modes(["semantic", "visual", "fused-weighted"]), None,
                            progress=False, plots=False)
    return {mode: r["metrics"]["ndcg@10"] for mode, r in report["modes"].items()}


def test_fixture_ndcg_matches_faiss(searchers, tmp_path):
    faiss_scores = _ndcg(searchers["faiss"], tmp_path)
    milvus_scores = _ndcg(searchers["milvus"], tmp_path)
    for mode, score in faiss_scores.items():
        assert abs(milvus_scores[mode] - score) <= NDCG_TOLERANCE, (mode, milvus_scores[mode], score)


@pytest.mark.slow
def test_fixture_ndcg_with_real_encoders(real_fixture_index, tmp_path):
    """`prodsearch index build --backend milvus` + `prodsearch eval run` against the faiss Flat build. The milvus build
    starts from a copy of the faiss index's embedding cache, taken after its eval (the same vectors and the ONNX models
    exported and quantised there: ~30 s less); the evals run the modes that read the vector store (lexical and
    attributes never do)."""
    milvus_index, cache = tmp_path / "milvus-index", tmp_path / "cache"
    modes = ("semantic", "visual", "fused-rrf", "fused-weighted")

    def ndcg(name: str, index: Path) -> dict[str, float]:
        out = tmp_path / f"report-{name}"
        result = run_cli("eval", "run", "--index", str(index), "--queries", str(FIXTURES / "relevance" / "queries.jsonl"),
                         "--qrels", str(FIXTURES / "relevance" / "qrels.txt"), "--out", str(out), "--no-progress",
                         "--device", "cpu", "--no-plots", "--modes", ",".join(modes))
        assert result.returncode == 0, result.stderr
        report = json.loads((out / "report.json").read_text())["modes"]
        return {mode: report[mode]["metrics"]["ndcg@10"] for mode in report}

    faiss_scores = ndcg("faiss", real_fixture_index)
    shutil.copytree(real_fixture_index / "cache", cache)
    built = run_cli("index", "build", "--catalog", str(FIXTURES / "catalog.jsonl"), "--out", str(milvus_index),
                    "--backend", "milvus", "--factory", "Flat", "--no-progress", "--cache", str(cache))
    assert built.returncode == 0, built.stderr
    assert "vector fields (milvus)" in built.stdout
    milvus_scores = ndcg("milvus", milvus_index)
    assert set(faiss_scores) == set(milvus_scores) == set(modes)
    for mode, score in faiss_scores.items():
        assert abs(milvus_scores[mode] - score) <= NDCG_TOLERANCE, (mode, milvus_scores[mode], score)


def test_milvus_index_opened_twice_in_one_process(indexes):
    """A reload opens the index again while the old copy still serves; closing one leaves the other working."""
    import numpy as np

    from indexer.loaded import load_index

    first, second = load_index(indexes["milvus"]), load_index(indexes["milvus"])
    query = first.stored_vectors("text", np.array([3]))
    first.close()
    D, I = second.search_vectors("text", query, 3)
    assert I[0, 0] == 3
    second.close()
