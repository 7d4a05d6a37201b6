"""Write routes against ids and lines a catalog cannot hold: lone surrogates, surrounding whitespace,
Unicode line separators inside a batch's JSON. Each is refused (or read) before anything is written,
and the answer always serialises."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from live_writes_support import AUTH, build_template, copy_index, make_app


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("ids-template"))


@pytest.fixture
def client(template, tmp_path):
    images_root, index = template
    with TestClient(make_app(copy_index(index, tmp_path / "index"), images_root),
                    raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("bad_line", ['{"id":"\\udfff","title":"y"}', '{"id":"\\ud800","delete":true}',
                                      '{"id":{"a":1},"delete":true}', '{"delete":true}'],
                         ids=["surrogate-upsert", "surrogate-delete", "object-id-delete", "no-id-delete"])
def test_a_bad_id_in_a_batch_is_that_lines_error_and_the_others_apply(client, bad_line):
    body = '{"id":"ok1","title":"x"}\n' + bad_line + '\n{"id":"s001","delete":true}\n'
    r = client.post("/products/batch", content=body.encode(), headers=AUTH)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["upserted", "error", "deleted"]
    assert results[1]["line"] == 2 and results[1]["error"].startswith("id")
    assert client.get("/products/ok1").status_code == 200 and client.get("/products/s001").status_code == 404


def test_batch_lines_end_at_newlines_only(client):
    """U+2028, U+2029 and U+0085 inside a string are text (json.dumps(ensure_ascii=False) writes them raw);
    "\\r\\n" line ends are read too."""
    titles = ["one\u2028two", "three\u2029four", "five\x85six"]
    rows = [json.dumps({"id": f"u{i}", "title": t}, ensure_ascii=False) for i, t in enumerate(titles)]
    r = client.post("/products/batch", content="\r\n".join(rows).encode(), headers=AUTH)
    assert r.status_code == 200, r.text
    assert [(x["line"], x["id"], x["status"]) for x in r.json()["results"]] == [
        (1, "u0", "upserted"), (2, "u1", "upserted"), (3, "u2", "upserted")]
    assert [client.get(f"/products/u{i}").json()["title"] for i in range(3)] == titles


@pytest.mark.parametrize("path", ["/products/%20s000%20", "/products/s000%20", "/products/%09s000", "/products/%20"])
def test_a_path_id_with_surrounding_whitespace_is_422_and_nothing_changes(client, path):
    before = client.get("/products/s000").json()
    r = client.put(path, json={"title": "overwritten?"}, headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"].startswith("id:"), r.text
    r = client.patch(path, json={"price": 1}, headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"].startswith("id:"), r.text
    r = client.delete(path, headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"].startswith("id:"), r.text
    assert client.get("/products/s000").json() == before
    assert client.get("/products/s000/image").status_code == 200


def test_a_lone_surrogate_anywhere_in_a_write_is_a_422(client):
    r = client.patch("/products/s000", content=b'{"attributes":{"a\\ud800":"x"}}',
                     headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 422, r.text
    r = client.put("/products/n1", content=b'{"title":"x","attributes":{"k":"\\udfff"}}',
                   headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert client.get("/products/n1").status_code == 404
