"""Live writes over the milvus backend (Milvus Lite): upsert, price PATCH, delete, filter and compaction
behave as over faiss (the live delta is the engine's own; the main segment is searched through Milvus)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from live_writes_support import AUTH, encoders, make_app
from support import write_synthetic_catalog

pytest.importorskip("milvus_lite")


def _ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [h["product"]["id"] for h in response.json()["hits"]]


def test_live_writes_and_compaction_on_the_milvus_backend(tmp_path):
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.index_specs import VectorBuild
    from indexer.manifest import read_manifest

    catalog = write_synthetic_catalog(tmp_path / "catalog")
    build_index(load_catalog(catalog), tmp_path / "index", encoders(), progress=False,
                vector_build=VectorBuild(backend="milvus"))
    first = json.loads(catalog.read_text().splitlines()[0])
    with TestClient(make_app(tmp_path / "index", catalog.parent)) as client:
        assert "new-1" not in _ids(client.get("/search", params={"q": "zebra velvet hat"}))
        put = client.put("/products/new-1", json={**first, "id": "new-1", "title": "zebra velvet hat"}, headers=AUTH)
        assert put.status_code == 200, put.text
        assert _ids(client.get("/search", params={"q": "zebra velvet hat"}))[0] == "new-1"

        assert client.patch(f"/products/{first['id']}", json={"price": 1.5}, headers=AUTH).status_code == 200
        assert client.get(f"/products/{first['id']}").json()["price"] == 1.5
        filtered = client.get("/search", params={"q": "t-shirt", "brand": first["brand"], "k": 50})
        assert first["id"] in _ids(filtered)
        assert all(h["product"]["brand"] == first["brand"] for h in filtered.json()["hits"])

        assert client.delete(f"/products/{first['id']}", headers=AUTH).status_code == 200
        assert client.get(f"/products/{first['id']}").status_code == 404
        assert first["id"] not in _ids(client.get("/search", params={"q": first["title"], "k": 50}))

        compacted = client.post("/admin/compact", headers=AUTH)
        assert compacted.status_code == 200 and compacted.json()["status"] == "compacted", compacted.text
        assert _ids(client.get("/search", params={"q": "zebra velvet hat"}))[0] == "new-1"
        assert client.get(f"/products/{first['id']}").status_code == 404
    manifest = read_manifest(tmp_path / "index")
    assert manifest.backend == "milvus" and manifest.counts["products"] == 72  # 72 - 1 deleted + 1 added
