"""`prodsearch index update` / `index compact`: the offline path of live writes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from live_writes_support import AUTH, build_template, copy_index, encoders, make_app
from PIL import Image

from indexer.catalog import load_catalog
from indexer.live.log import WriteLog, WriterLockedError
from indexer.live.offline import UpdateError, compact_index, update_index
from indexer.loaded import load_index
from search.searcher import Searcher


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("live-template"))


def changes_file(folder):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 24), (10, 200, 200)).save(folder / "teal.png")
    rows = [{"id": "u-1", "title": "Offline zorblax", "brand": "Newco", "price": 5, "images": ["teal.png"]},
            {"id": "s000", "title": "Replaced offline quuxwing", "price": 6}]
    path = folder / "changes.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_update_writes_the_log_and_a_server_serves_it(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    changes = load_catalog(changes_file(tmp_path / "changes"))
    summary = update_index(index_dir, encoders(), changes, ["s001", "s002"], progress=False)
    assert (summary.upserted, summary.new, summary.deleted, summary.pending) == (2, 1, 2, 4)
    assert summary.products == 72 + 1 - 2 and "pending in the write log: 4" in summary.format()
    with TestClient(make_app(index_dir, images_root)) as client:
        assert client.get("/products/u-1/image").status_code == 200
        assert client.get("/products/s000").json()["title"] == "Replaced offline quuxwing"
        assert client.get("/products/s001").status_code == 404
        assert client.get("/health").json()["products"] == 71
        assert client.put("/products/w-1", json={"title": "from the server"}, headers=AUTH).status_code == 200
        with pytest.raises(WriterLockedError):  # the server that wrote holds the writer lock
            update_index(index_dir, encoders(), None, ["s003"], progress=False)


def test_writes_logged_while_a_server_has_not_written_yet_are_never_trimmed(template, tmp_path):
    """`index update` appends while the server holds no writer lock; the server's first write takes the lock
    and must apply those entries first, else its compaction (up to its own later seq) would drop them."""
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    with TestClient(make_app(index_dir, images_root, compact_auto=False)) as client:
        update_index(index_dir, encoders(), load_catalog(changes_file(tmp_path / "changes")), [], progress=False)
        assert client.get("/products/u-1").status_code == 404  # served after a reload, or the server's first write
        assert client.put("/products/w-1", json={"title": "from the server"}, headers=AUTH).status_code == 200
        assert client.get("/products/u-1").status_code == 200
        assert client.get("/products/s000").json()["title"] == "Replaced offline quuxwing"
        assert client.post("/admin/compact", headers=AUTH).json()["status"] == "compacted"
    assert WriteLog(index_dir).read() == []
    with TestClient(make_app(index_dir, images_root)) as client:  # a restart: the compacted version alone
        assert client.get("/health").json()["products"] == 72 + 2
        assert client.get("/products/u-1").status_code == 200 and client.get("/products/w-1").status_code == 200


def test_bad_changes_write_nothing(template, tmp_path):
    _, index = template
    index_dir = copy_index(index, tmp_path / "index")
    with pytest.raises(UpdateError, match="not in the index"):
        update_index(index_dir, encoders(), None, ["no-such-id"], progress=False)
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "c.jsonl").write_text(json.dumps({"id": "x", "title": "t", "images": ["missing.png"]}) + "\n")
    with pytest.raises(UpdateError, match="unusable photos"):
        update_index(index_dir, encoders(), load_catalog(folder / "c.jsonl"), [], progress=False)
    assert WriteLog(index_dir).read() == []


def test_compact_folds_the_log_into_a_new_version(template, tmp_path):
    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    before = load_index(index_dir).manifest.build_id
    update_index(index_dir, encoders(), load_catalog(changes_file(tmp_path / "changes")), ["s001"], progress=False)
    summary = compact_index(index_dir, encoders(), progress=False)
    assert summary.compacted_version and summary.compacted_version != before and summary.pending == 0
    assert WriteLog(index_dir).read() == [] and compact_index(index_dir, encoders()).compacted_version is None
    searcher = Searcher.open(index_dir, encoders())  # the plain index: no log left to replay
    assert searcher.index.manifest.build_id == summary.compacted_version
    assert "s001" not in searcher.index.store.row_of and searcher.index.n_products == 72
    hits = searcher.search(searcher_request("zorblax")).hits
    assert hits[0].product.id == "u-1" and hits[0].has_image
    searcher.index.close()


def searcher_request(text: str):  # type: ignore[no-untyped-def]
    from search.types import SearchRequest

    return SearchRequest(text=text, k=5)


def test_cli_update_and_compact(template, tmp_path, monkeypatch, capsys):
    import indexer.live.cli as live_cli
    from prodsearch.cli import main

    _, index = template
    index_dir = copy_index(index, tmp_path / "index")
    monkeypatch.setattr(live_cli, "_encoders", lambda _: encoders())  # the fake models of the test index
    ids = tmp_path / "ids.txt"
    ids.write_text("# withdrawn\ns004\n")
    assert main(["index", "update", "--index", str(index_dir), "--catalog", str(changes_file(tmp_path / "c")),
                 "--delete", str(ids), "--no-progress"]) == 0
    assert "upserted: 2 (1 new, 1 replaced)" in capsys.readouterr().out
    assert main(["index", "compact", "--index", str(index_dir)]) == 0
    assert "compacted into version" in capsys.readouterr().out
    ids.write_text("nope\n")
    assert main(["index", "update", "--index", str(index_dir), "--delete", str(ids)]) == 2
    assert "not in the index" in capsys.readouterr().err


def test_serve_says_the_count_it_serves_once_the_log_is_replayed(template, tmp_path, monkeypatch, capsys):
    """`prodsearch serve` printed the index version's product count, though the write log (here from `index
    update`: one new product, two deleted) is replayed on it before serving: 72 shown, 71 served."""
    import api.app
    import api.cli as api_cli
    from api.settings import Settings

    images_root, index = template
    index_dir = copy_index(index, tmp_path / "index")
    update_index(index_dir, encoders(), load_catalog(changes_file(tmp_path / "changes")), ["s001", "s002"],
                 progress=False)
    served = {}

    def fake_serve_app(app, settings):  # type: ignore[no-untyped-def]
        served["count"] = len(app.state.searcher.index.store.row_of)  # what /health says
        served["new"] = "u-1" in app.state.searcher.index.store.row_of

    monkeypatch.setattr(api.app, "load_searcher", lambda settings: Searcher.open(index_dir, encoders()))
    monkeypatch.setattr(api_cli, "serve_app", fake_serve_app)
    monkeypatch.setattr("api.observability.configure_logging", lambda *a, **k: None)  # pytest's handlers stay
    settings = Settings(index_dir=index_dir, images_root=images_root, admin_token=None, live_embed_worker=False)
    assert api_cli._serve(settings) == 0
    assert served == {"count": 72 + 1 - 2, "new": True}
    assert f"prodsearch: serving {72 + 1 - 2} products from {index_dir}" in capsys.readouterr().out
