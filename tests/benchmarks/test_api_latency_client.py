"""benchmarks/api_latency.py's `TextClient`: both HTTP clients send the same request and read the same answer over one
keep-alive connection, and an error status is an error, not a latency."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support import load_benchmark

api_latency = load_benchmark("api_latency")


class SearchStub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn answers
    connections: set[int] = set()

    def do_GET(self) -> None:
        SearchStub.connections.add(self.client_address[1])
        query = parse_qs(urlsplit(self.path).query)
        status = 422 if query["q"] == ["bad"] else 200
        body = json.dumps({"echo": query, "timings_ms": {"total": 1.5}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SearchStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SearchStub.connections = set()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", api_latency.CLIENTS)
def test_both_clients_send_q_and_k_and_read_the_answer_on_one_connection(stub_url, kind):
    client = api_latency.TextClient(stub_url, kind)
    try:
        answers = [client.search(q) for q in ("navy blue shirts", "red & white dress", "navy blue shirts")]
    finally:
        client.close()
    assert [a[1]["echo"] for a in answers] == [{"q": [q], "k": ["10"]} for q in
                                               ("navy blue shirts", "red & white dress", "navy blue shirts")]
    assert all(ms > 0 for ms, _ in answers) and answers[0][1]["timings_ms"]["total"] == 1.5
    assert len(SearchStub.connections) == 1  # one keep-alive connection, as a browser or a shop's backend keeps


@pytest.mark.parametrize("kind", api_latency.CLIENTS)
def test_an_error_status_raises(stub_url, kind):
    client = api_latency.TextClient(stub_url, kind)
    try:
        with pytest.raises(Exception, match="422"):
            client.search("bad")
    finally:
        client.close()
