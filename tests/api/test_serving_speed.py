"""What the serving speed-ups (issue #11, 44k over HTTP) must not change: the JSON a search answers, the
ranks each hit reports per signal, paging within the candidate depth, and the `serve` options."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.encoders import jsonable_encoder

from api import cli as api_cli
from api.public import PublicSearchResponse, public_json, public_response
from prodsearch.cli import UserError, build_parser
from search.config import SearchConfig
from search.types import SearchRequest


def _old_json(response) -> bytes:
    """How FastAPI answered before: the model re-validated against `response_model`, then jsonable_encoder."""
    from fastapi.responses import JSONResponse

    model = PublicSearchResponse.model_validate(public_response(response).model_dump())
    return JSONResponse(jsonable_encoder(model)).body


@pytest.mark.parametrize("request_fields", [
    {"text": "red shirt", "k": 10},
    {"text": "blue", "k": 7, "offset": 3, "fusion": "rrf"},
    {"text": "shoes", "k": 5, "filters": {"price_max": 1000}},
])
def test_search_json_is_what_fastapi_answered_before(synthetic_searcher, request_fields):
    response = synthetic_searcher.search(SearchRequest(**request_fields))
    assert response.hits
    new = public_json(response)
    assert new.media_type == "application/json"
    assert json.loads(new.body) == json.loads(_old_json(response))


def test_http_answer_matches_the_searcher_and_keeps_the_openapi_model(client, synthetic_searcher):
    r = client.get("/search", params={"q": "red shirt", "k": 5})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    again = json.loads(_old_json(synthetic_searcher.search(SearchRequest(text="red shirt", k=5))))
    body.pop("timings_ms"), again.pop("timings_ms")
    assert body == again
    assert all(hit["product"]["images"] in ([], [f"/products/{hit['product']['id']}/image"]) for hit in body["hits"])
    schema = client.get("/openapi.json").json()["paths"]["/search"]["get"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"]["$ref"].endswith("/PublicSearchResponse")


def test_each_hit_reports_its_rank_and_score_in_every_run(synthetic_searcher):
    request = SearchRequest(text="green shoes", k=10, offset=2)
    runs = synthetic_searcher.retrieve(request)
    response = synthetic_searcher.search(request)
    checked = 0
    for hit in response.hits:
        row = synthetic_searcher.row_of(hit.product.id)
        for name, run in runs.items():
            where = np.flatnonzero(run.docs == row)
            if len(where) == 0:
                assert name not in hit.signals
                continue
            assert hit.signals[name].rank == int(where[0]) + 1
            assert hit.signals[name].score == pytest.approx(float(run.scores[where[0]]))
            checked += 1
    assert checked > len(response.hits)  # most hits are found by more than one signal


def test_pages_tile_the_candidate_depth_and_stop_there(synthetic_searcher):
    depth = 12
    synthetic_searcher.config = SearchConfig(candidate_depth=depth)
    whole = synthetic_searcher.search(SearchRequest(text="shirt", k=depth))
    assert len(whole.hits) == depth <= whole.pageable  # pageable: the fused union of the runs; pages stop at depth
    paged = []
    for offset in range(0, depth, 4):
        paged += [h.product.id for h in synthetic_searcher.search(SearchRequest(text="shirt", k=4, offset=offset)).hits]
    assert paged == [h.product.id for h in whole.hits]  # no duplicates, no gaps
    from indexer.errors import InvalidQueryError

    with pytest.raises(InvalidQueryError, match="beyond the 12 candidates"):
        synthetic_searcher.search(SearchRequest(text="shirt", k=4, offset=depth - 2))


def test_default_depth_is_bounded_and_reported_by_facets(client):
    assert SearchConfig().candidate_depth == 300
    facets = client.get("/facets", params={"q": "shirt"}).json()
    assert facets["candidate_depth"] == min(300, facets["candidate_depth"])


# -- `prodsearch serve` options --------------------------------------------------------------------
@pytest.fixture
def captured(monkeypatch):
    seen = {}
    monkeypatch.setattr(api_cli, "_serve", lambda settings: seen.setdefault("settings", settings) and 0)
    for name in ("PRODSEARCH_WORKERS", "PRODSEARCH_HTTP", "PRODSEARCH_LOOP", "PRODSEARCH_ACCESS_LOG",
                 "PRODSEARCH_ADMIN_TOKEN", "PRODSEARCH_SEARCH_THREADS", "PRODSEARCH_QUERY_BATCH"):
        monkeypatch.delenv(name, raising=False)
    return seen


def _run(argv):
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_serve_speed_options_reach_the_settings(captured):
    _run(["serve", "--workers", "2", "--http", "h11", "--loop", "asyncio", "--no-access-log"])
    s = captured["settings"]
    assert (s.workers, s.http, s.loop, s.access_log) == (2, "h11", "asyncio", False)


def test_serve_defaults_keep_one_process_and_the_access_log(captured):
    _run(["serve"])
    s = captured["settings"]
    assert (s.workers, s.http, s.loop, s.access_log) == (1, "auto", "auto", True)


def test_search_pool_and_query_batch_options(captured):
    _run(["serve", "--search-threads", "8", "--query-batch", "8"])
    assert (captured["settings"].search_threads, captured["settings"].query_batch) == (8, 8)
    captured.clear()
    _run(["serve"])
    assert (captured["settings"].search_threads, captured["settings"].query_batch) == (4, 1)
    for bad in (["--search-threads", "0"], ["--query-batch", "0"], ["--query-batch", "1000"]):
        with pytest.raises(UserError, match="search_threads|query_batch"):
            _run(["serve", *bad])


def test_with_understanding_hands_query_batch_to_the_text_encoder(synthetic_searcher):
    from api.app import with_understanding
    from api.settings import Settings

    encoder = synthetic_searcher.encoders.text
    encoder.query_batch = 1
    try:
        with_understanding(synthetic_searcher, Settings(index_dir=synthetic_searcher.index.directory, query_batch=6))
        assert encoder.query_batch == 6
    finally:
        del encoder.query_batch


def test_bad_workers_is_a_clear_error(captured):
    with pytest.raises(UserError, match="workers"):
        _run(["serve", "--workers", "0"])


def test_workers_refuse_the_admin_token_and_pass_settings_to_each_worker(monkeypatch, fake_fixture_index):
    import uvicorn

    from api.settings import Settings

    with pytest.raises(UserError, match="read-only"):
        api_cli.serve_workers(Settings(index_dir=fake_fixture_index, workers=2, admin_token="t0ken-for-tests"))
    with pytest.raises(UserError, match="no index"):
        api_cli.serve_workers(Settings(index_dir=fake_fixture_index / "missing", workers=2))

    import os

    called = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: called.update(app=app, **kw))
    # serve_workers writes every setting into the environment (for the workers): a copy, so that none leaks
    # into later tests' subprocesses (PRODSEARCH_ACCESS_LOG=False silenced another test's server)
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("PRODSEARCH_")})
    settings = Settings(index_dir=fake_fixture_index, workers=3, access_log=False, port=8765)
    assert api_cli.serve_workers(settings) == 0
    assert called["app"] == "api.cli:worker_app" and called["factory"] is True and called["workers"] == 3
    # each worker builds its Settings from the environment: the same settings as the parent's
    assert Settings() == settings
    assert os.environ["PRODSEARCH_INDEX_DIR"] == str(fake_fixture_index)


def test_access_log_off_silences_only_the_per_request_lines(client, caplog):
    import logging

    from api.observability import ACCESS_LOGGER, configure_logging

    try:
        configure_logging("text", logging.INFO, access_log=False)
        with caplog.at_level(logging.INFO):
            client.get("/search", params={"q": "red"})
        assert not [r for r in caplog.records if r.name == "prodsearch.access"]
    finally:
        configure_logging("text", logging.INFO)
    assert ACCESS_LOGGER.isEnabledFor(logging.INFO)


def test_requests_search_faiss_on_one_thread_in_whichever_thread_answers(synthetic_searcher):
    """libgomp keeps the OpenMP thread count per thread: the server's threadpool threads must get 1 too."""
    import threading

    import faiss

    seen = {}

    def answer() -> None:
        seen["before"] = faiss.omp_get_max_threads()
        seen["hits"] = [h.product.id for h in synthetic_searcher.search(SearchRequest(text="red shirt", k=5)).hits]
        seen["after"] = faiss.omp_get_max_threads()

    worker = threading.Thread(target=answer)
    worker.start()
    worker.join()
    assert seen["after"] == 1
    assert seen["hits"] == [h.product.id for h in synthetic_searcher.search(SearchRequest(text="red shirt", k=5)).hits]


def test_get_search_parameters_parsed_on_the_loop_keep_their_docs_and_errors(client):
    """The filter and fusion parameter groups are async dependencies now (no threadpool hop): same names in the
    OpenAPI schema, same 422s, same answers."""
    names = {p["name"] for p in client.get("/openapi.json").json()["paths"]["/search"]["get"]["parameters"]}
    assert {"q", "k", "offset", "fusion", "rrf_k", "norm", "weights", "brand", "category", "price_min", "price_max",
            "attr"} <= names
    for bad in ({"price_min": "-1"}, {"fusion": "bogus"}, {"rrf_k": "nan"}, {"weights": "nosuchsignal:1"},
                {"attr": "no-colon"}):
        r = client.get("/search", params={"q": "red shirt", **bad})
        assert r.status_code == 422, (bad, r.text)
    filtered = client.get("/search", params={"q": "shirt", "price_max": "1000", "fusion": "rrf", "k": 5})
    assert filtered.status_code == 200 and filtered.json()["fusion"] == "rrf"
    assert all(hit["product"]["price"] <= 1000 for hit in filtered.json()["hits"] if hit["product"].get("price"))
    facets = client.get("/facets", params={"q": "shirt", "price_max": "1000"})
    assert facets.status_code == 200


@pytest.mark.parametrize("request_fields", [{"text": "red shirt", "k": 10}, {"text": "blue", "k": 3, "offset": 2}])
def test_search_json_is_byte_for_byte_the_public_models_json(synthetic_searcher, request_fields):
    """`public_json` skips building the public models per hit; its bytes are theirs, photo references included."""
    response = synthetic_searcher.search(SearchRequest(**request_fields))
    response.hits[0].product.images = ["/secret/operator/path.jpg"]  # never shown: the API's own photo URL is
    body = public_json(response).body
    assert body == public_response(response).model_dump_json().encode()
    assert b"/secret/" not in body
