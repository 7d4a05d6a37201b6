"""Access log lines, request ids, Prometheus metrics (route templates only) and the local /docs."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from support import REPO

TOKEN = "metrics-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def admin_client(synthetic_searcher):
    from api.app import create_app
    from api.settings import Settings

    settings = Settings(index_dir=synthetic_searcher.index.directory, admin_token=TOKEN)
    with TestClient(create_app(settings, synthetic_searcher)) as c:
        yield c


def test_access_log_has_route_template_status_ms_and_request_id(admin_client, caplog):
    with caplog.at_level(logging.INFO, logger="prodsearch.access"):
        r = admin_client.get("/products/s003")
        mine = admin_client.get("/health", headers={"X-Request-ID": "abc-123"})
        hostile = admin_client.get("/health", headers={"X-Request-ID": "x" * 65})
        admin_client.get("/no/such/path/s003")
    records = [rec.access for rec in caplog.records if rec.name == "prodsearch.access"]
    assert len(records) == 4
    first = records[0]
    assert first["method"] == "GET" and first["route"] == "/products/{product_id}" and first["status"] == 200
    assert first["ms"] > 0 and first["request_id"] == r.headers["x-request-id"] and len(first["request_id"]) == 32
    assert mine.headers["x-request-id"] == "abc-123" and records[1]["request_id"] == "abc-123"
    assert hostile.headers["x-request-id"] != "x" * 65
    assert records[3]["route"] == "<unmatched>" and records[3]["status"] == 404


def test_json_formatter_writes_one_object_per_line(admin_client):
    from api.observability import ACCESS_LOGGER, JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    ACCESS_LOGGER.addHandler(handler)
    ACCESS_LOGGER.setLevel(logging.INFO)
    try:
        admin_client.get("/search", params={"q": "red shoes"})
    finally:
        ACCESS_LOGGER.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert {"ts", "level", "logger", "method", "route", "status", "ms", "request_id"} <= set(line)
    assert line["route"] == "/search" and line["status"] == 200 and line["logger"] == "prodsearch.access"


def _metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name}{{{wanted}}} in metrics")


def test_metrics_per_route_template_status_and_search_stage(admin_client):
    for pid in ("s001", "s002", "s003"):
        admin_client.get(f"/products/{pid}")
    admin_client.get("/products/nope")
    for path in ("/random/1", "/random/2", "/random/3"):
        admin_client.get(path)
    admin_client.get("/search", params={"q": "red shoes", "k": 3})
    admin_client.get("/search", params={"q": "x", "k": 0})
    r = admin_client.get("/metrics", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert _metric(text, "prodsearch_http_requests_total", route="/products/{product_id}", status="200") == 3
    assert _metric(text, "prodsearch_http_requests_total", route="/products/{product_id}", status="404") == 1
    assert _metric(text, "prodsearch_http_requests_total", route="<unmatched>", status="404") == 3
    assert _metric(text, "prodsearch_http_requests_total", route="/search", status="422") == 1
    assert _metric(text, "prodsearch_http_request_duration_seconds_count", route="/search", status="200") == 1
    for stage in ("lexical", "semantic", "visual", "fuse", "total"):
        assert _metric(text, "prodsearch_search_stage_seconds_count", stage=stage) == 1
    assert "process_resident_memory_bytes" in text
    # no raw path or id ever becomes a label value
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert not any(("s00" in r or "random" in r or "nope" in r) for r in routes), routes


def test_metrics_access(synthetic_searcher):
    from api.app import create_app
    from api.settings import Settings

    directory = synthetic_searcher.index.directory
    with TestClient(create_app(Settings(index_dir=directory, admin_token=TOKEN), synthetic_searcher)) as c:
        assert c.get("/metrics").status_code == 401
    with TestClient(create_app(Settings(index_dir=directory, metrics_public=True), synthetic_searcher)) as c:
        assert c.get("/metrics").status_code == 200
        assert c.get("/admin/status").status_code == 403  # public metrics open nothing else


def test_docs_page_and_assets_are_local_with_csp(admin_client):
    r = admin_client.get("/docs")
    assert r.status_code == 200 and "default-src 'self'" in r.headers["content-security-policy"]
    urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "<script>" not in r.text  # no inline script: the CSP forbids it
    for url in urls:
        asset = admin_client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert "SwaggerUIBundle" in admin_client.get("/docs/assets/swagger-ui-bundle.js").text
    assert admin_client.get("/docs/assets/../settings.py").status_code == 404
    assert admin_client.get("/docs/assets/index.html").status_code == 404
    assert admin_client.get("/redoc").status_code == 404
    assert "/admin/reload" in admin_client.get("/openapi.json").json()["paths"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_served_process_logs_json_and_reloads_on_sighup(tmp_path):
    """The real serve path (env settings, JSON logs, SIGHUP) with fake encoders, as a subprocess."""
    port = _free_port()
    env = {**os.environ, "PRODSEARCH_PORT": str(port), "PRODSEARCH_LOG_FORMAT": "json",
           "PRODSEARCH_ADMIN_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "fake_server.py"), str(tmp_path / "idx")],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not come up")
        assert httpx.get(f"{url}/search", params={"q": "red"}, trust_env=False).status_code == 200
        proc.send_signal(signal.SIGHUP)
        for _ in range(100):
            status = httpx.get(f"{url}/admin/status", headers=AUTH, trust_env=False).json()
            if status["reloads"] == 1:
                break
            time.sleep(0.1)
        assert status["reloads"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "prodsearch.access"]
    assert any(a["route"] == "/search" and a["status"] == 200 for a in access)
    assert any("reloaded index" in line.get("msg", "") for line in lines)


def test_invented_methods_share_one_label(admin_client, caplog):
    """A client may send any method token (uvicorn's h11 passes them on): one ``other`` series, not one each."""
    with caplog.at_level(logging.INFO, logger="prodsearch.access"):
        for i in range(50):
            assert admin_client.request(f"X{i}QZ", "/health").status_code == 405
    records = [rec.access for rec in caplog.records if rec.name == "prodsearch.access"]
    assert len(records) == 50 and {r["method"] for r in records} == {"other"}
    text = admin_client.get("/metrics", headers=AUTH).text
    assert "X0QZ" not in text and "X49QZ" not in text
    assert _metric(text, "prodsearch_http_requests_total", method="other", route="/health", status="405") == 50
