"""Write routes against ids and lines a catalog cannot hold."""

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
