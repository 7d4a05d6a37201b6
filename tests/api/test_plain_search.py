"""GET /search's plain-query path (`api.routers.search.PlainSearchRoute`): the same answers as FastAPI's declared
parameters, which still parse, and refuse, everything else."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from api.routers import search as search_router
from api.routers.search import plain_search


def fields(query: str):  # type: ignore[no-untyped-def]
    params = QueryParams(query)
    return plain_search(params, params.getlist)


def test_only_a_plain_query_takes_the_short_path():
    assert fields("q=red+shirt") == {"text": "red shirt", "k": 10, "offset": 0, "filters": None, "fusion": None,
                                     "rrf_k": None, "norm": None, "weights": None}
    assert fields("q=red&k=5&offset=20") is not None and fields("q=red&k=5&offset=20")["k"] == 5
    for other in ("", "k=5", "q=", "q=" + "x" * 1001, "q=red&q=blue", "q=red&k=0", "q=red&k=101", "q=red&k=+5",
                  "q=red&k=5.0", "q=red&k=%D9%A3", "q=red&offset=-1", "q=red&brand=Nike", "q=red&weights=lexical:1",
                  "q=red&fusion=rrf", "q=red&unknown=1"):
        assert fields(other) is None, other


@pytest.mark.parametrize("params", [{"q": "red shirt"}, {"q": "red shirt", "k": 4, "offset": 1}, {"q": "   "}])
def test_plain_and_declared_paths_answer_alike(client, monkeypatch, params):
    plain = client.get("/search", params=params)
    monkeypatch.setattr(search_router, "plain_search", lambda *_: None)  # everything through FastAPI's parameters
    declared = client.get("/search", params=params)
    assert plain.status_code == declared.status_code
    a, b = plain.json(), declared.json()
    a.pop("timings_ms", None), b.pop("timings_ms", None)
    assert a == b
    assert plain.headers["x-request-id"] and plain.headers["content-type"] == "application/json"


def test_bad_parameters_still_get_fastapis_answers(client):
    for params in ({"q": ""}, {"q": "red", "k": "0"}, {"q": "red", "k": "abc"}, {"q": "x" * 1001}, {"k": "3"},
                   {"q": "red", "offset": "-2"}):
        r = client.get("/search", params=params)
        assert r.status_code == 422 and r.json()["detail"], (params, r.text)
    blank = client.get("/search", params={"q": "   "})  # plain, but no text once stripped: the engine's 422
    assert blank.status_code == 422 and "text query" in blank.json()["detail"]
    deep = client.get("/search", params={"q": "red", "k": "10", "offset": "100000"})
    assert deep.status_code == 422 and "candidates" in deep.json()["detail"]


def test_plain_searches_are_counted_under_the_route_template(client):
    metrics = client.app.state.metrics
    before = metrics.requests.labels("GET", "/search", "200")._value.get()
    assert client.get("/search", params={"q": "red shirt"}).status_code == 200
    assert metrics.requests.labels("GET", "/search", "200")._value.get() == before + 1
    assert metrics.stages.labels("total")._sum.get() > 0  # the stage timings reached the histograms


def test_query_encoder_option_environment_and_health(client, monkeypatch):
    """`serve --query-encoder` beats PRODSEARCH_QUERY_ENCODER, a bad value is a settings error, and /health says
    what embeds the queries."""
    from api import cli as api_cli
    from indexer.onnx_text import DEFAULT_QUERY_PRECISION, QUERY_PRECISION_ENV
    from prodsearch.cli import UserError, build_parser

    seen = {}
    monkeypatch.setattr(api_cli, "_serve", lambda settings: seen.setdefault("settings", settings) and 0)

    def settings(*argv: str):  # type: ignore[no-untyped-def]
        seen.clear()
        args = build_parser().parse_args(["serve", *argv])
        args.func(args)
        return seen["settings"]

    monkeypatch.delenv(QUERY_PRECISION_ENV, raising=False)
    assert settings().query_encoder == DEFAULT_QUERY_PRECISION == "int8"
    monkeypatch.setenv(QUERY_PRECISION_ENV, "fp32")  # the variable Settings reads is the one the encoders read
    assert settings().query_encoder == "fp32"
    assert settings("--query-encoder", "int8").query_encoder == "int8"
    monkeypatch.setenv(QUERY_PRECISION_ENV, "int4")
    with pytest.raises(UserError, match="query_encoder.*int8, fp32"):
        settings()
    with pytest.raises(SystemExit):  # argparse refuses it by name
        build_parser().parse_args(["serve", "--query-encoder", "fp16"])

    assert client.get("/health").json()["query_encoder"] is None  # the fake encoders say nothing
    monkeypatch.setattr(client.app.state.searcher.encoders.text, "query_encoder", "onnx int8", raising=False)
    assert client.get("/health").json()["query_encoder"] == "onnx int8"
