"""The photo URL fetcher against a local listener: private addresses refused by default (the server
sees no request), allowed with the options; redirects capped and re-checked, bodies capped while
streaming, 4xx never retried, 5xx and timeouts retried."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.fetch import FetchError, FetchPolicy, fetch_url

PNG = io.BytesIO()
Image.new("RGB", (8, 8), (220, 30, 30)).save(PNG, format="PNG")
PNG_BYTES = PNG.getvalue()
BIG = 3 * 1024 * 1024
STREAM = 256 * 1024 * 1024  # what /big-stream would send if the client kept reading


class Handler(BaseHTTPRequestHandler):
    hits: Counter = Counter()
    hosts: list[str] = []
    sent: Counter = Counter()

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        Handler.hits[path] += 1
        Handler.hosts.append(self.headers.get("Host", ""))
        if path == "/ok.png":
            self._send(200, PNG_BYTES)
        elif path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            self._redirect("/ok.png" if n == 0 else f"/hop/{n - 1}")
        elif path == "/to-ip":
            self._redirect(f"http://127.0.0.1:{self.server.server_port}/ok.png")
        elif path == "/to-file":
            self._redirect("file:///etc/passwd")
        elif path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
        elif path == "/big-stream":  # no Content-Length: the cap must be enforced while reading
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(STREAM // 65536):
                    self.wfile.write(b"\0" * 65536)
                    Handler.sent["/big-stream"] += 65536
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/404":
            self._send(404, b"no")
        elif path == "/500":
            self._send(500, b"oops")
        elif path == "/flaky":
            self._send(503 if Handler.hits[path] == 1 else 200, PNG_BYTES)
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, PNG_BYTES)
        elif path == "/trickle":  # a byte every 50 ms: never idle long enough for a read timeout
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(100_000):
                    self.wfile.write(b"\0")
                    self.wfile.flush()
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self._send(404, b"?")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # clients that hang up on purpose (caps)
        pass


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", httpd.server_port
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def reset_counts():
    Handler.hits.clear()
    Handler.sent.clear()
    Handler.hosts.clear()


ALLOW = FetchPolicy(allow_private_hosts=True, backoff_s=0.0)


def test_loopback_refused_by_default_and_never_contacted(server):
    base, _ = server
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback address; pass "
                                         r"--allow-private-hosts"):
        fetch_url(f"{base}/ok.png")
    with pytest.raises(FetchError, match="refused: localhost resolves to .*loopback"):
        fetch_url(f"http://localhost:{server[1]}/ok.png")
    assert sum(Handler.hits.values()) == 0


@pytest.mark.parametrize("address,category", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("10.1.2.3", "private"),
    ("192.168.0.10", "private"), ("172.16.0.1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"), ("fd00::1", "private"), ("100.64.0.1", "non-global"), ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"),
])
def test_address_categories_refused(address, category):
    with pytest.raises(FetchError, match=f"a {category} address"):
        FetchPolicy().check_address("h", address)


@pytest.mark.parametrize("address,carried,category", [
    ("2002:7f00:1::", "127.0.0.1", "loopback"),  # 6to4: Python calls 2002::/16 global
    ("2002:a00:1::", "10.0.0.1", "private"),
    ("2002:a9fe:a9fe::1", "169.254.169.254", "link-local"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1", "loopback"),  # Teredo, client 127.0.0.1
])
def test_ipv6_carrying_a_private_ipv4_is_refused_as_that(address, carried, category):
    with pytest.raises(FetchError, match=rf"\(standing for .*{re.escape(carried)}\), a {category} address"):
        FetchPolicy().check_address("h", address)


def test_ipv6_carrying_a_public_ipv4_is_judged_as_before():
    assert str(FetchPolicy().check_address("h", "2002:808:808::")) == "2002:808:808::"  # 6to4 of 8.8.8.8
    assert str(FetchPolicy().check_address("h", "::ffff:8.8.8.8")) == "::ffff:808:808"
    with pytest.raises(FetchError, match="reserved address$"):  # NAT64's prefix: never, whatever it carries
        ALLOW.check_address("h", "64:ff9b::7f00:1")


def test_public_address_allowed_and_never_allowed_categories():
    assert str(FetchPolicy().check_address("h", "93.184.216.34")) == "93.184.216.34"
    with pytest.raises(FetchError, match="unspecified"):
        ALLOW.check_address("h", "0.0.0.0")
    with pytest.raises(FetchError, match="multicast"):
        ALLOW.check_address("h", "239.1.1.1")
    assert str(FetchPolicy(allowed_hosts=("10.0.0.0/8",)).check_address("h", "10.9.9.9")) == "10.9.9.9"


def test_served_with_allow_private_hosts(server):
    base, _ = server
    assert fetch_url(f"{base}/ok.png", ALLOW) == PNG_BYTES


def test_allowed_hosts_by_name_and_connect_to_the_checked_ip(server):
    """A listed name may be private; the connection goes to the IP that was checked (no second lookup:
    'photos.shop.internal' does not exist in DNS), with the original Host header."""
    _, port = server
    policy = FetchPolicy(allowed_hosts=("photos.shop.internal",), resolver=lambda host, p: ["127.0.0.1"])
    assert fetch_url(f"http://photos.shop.internal:{port}/ok.png", policy) == PNG_BYTES
    assert Handler.hosts == [f"photos.shop.internal:{port}"]


def test_rebinding_answer_with_any_private_address_is_refused(server):
    _, port = server
    policy = FetchPolicy(resolver=lambda host, p: ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(FetchError, match="a loopback address"):
        fetch_url(f"http://photos.example:{port}/ok.png", policy)
    assert sum(Handler.hits.values()) == 0


def test_redirects_followed_up_to_three(server):
    base, _ = server
    assert fetch_url(f"{base}/hop/2", ALLOW) == PNG_BYTES  # 3 redirects: hop/2 -> hop/1 -> hop/0 -> ok.png
    Handler.hits.clear()
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetch_url(f"{base}/hop/3", ALLOW)
    assert sum(Handler.hits.values()) == 4 and Handler.hits["/ok.png"] == 0  # not retried either


def test_redirect_target_is_checked_again(server):
    _, port = server
    policy = FetchPolicy(allowed_hosts=("localhost",), backoff_s=0.0)
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback"):
        fetch_url(f"http://localhost:{port}/to-ip", policy)
    assert Handler.hits == Counter({"/to-ip": 1})
    with pytest.raises(FetchError, match="scheme 'file'"):
        fetch_url(f"http://localhost:{port}/to-file", policy)


def test_body_over_the_cap(server):
    base, _ = server
    policy = FetchPolicy(allow_private_hosts=True, max_bytes=1024 * 1024, backoff_s=0.0)
    with pytest.raises(FetchError, match="body of 3145728 bytes is over the 1048576-byte limit"):
        fetch_url(f"{base}/big-declared", policy)
    with pytest.raises(FetchError, match="over the 1048576-byte limit per photo; download stopped"):
        fetch_url(f"{base}/big-stream", policy)
    assert Handler.hits["/big-stream"] == 1  # not retried
    time.sleep(0.3)  # the server notices the hang-up
    assert Handler.sent["/big-stream"] < 32 * 1024 * 1024  # cut off early, not downloaded whole


def test_404_not_retried_500_retried(server):
    base, _ = server
    with pytest.raises(FetchError, match="HTTP 404$"):
        fetch_url(f"{base}/404", ALLOW)
    assert Handler.hits["/404"] == 1
    with pytest.raises(FetchError, match=r"HTTP 500 \(gave up after 3 tries\)"):
        fetch_url(f"{base}/500", ALLOW)
    assert Handler.hits["/500"] == 3
    assert fetch_url(f"{base}/flaky", ALLOW) == PNG_BYTES and Handler.hits["/flaky"] == 2


def test_timeout_retried(server):
    base, _ = server
    policy = FetchPolicy(allow_private_hosts=True, timeout_s=0.2, retries=1, backoff_s=0.0)
    with pytest.raises(FetchError, match=r"timed out.*gave up after 2 tries"):
        fetch_url(f"{base}/slow", policy)
    assert Handler.hits["/slow"] == 2


def test_one_deadline_per_photo_retries_included(server):
    """A trickling server keeps every read under the timeout; the photo's deadline ends the whole fetch (it
    was per try: 3 tries of 60 s held a write for 3 minutes)."""
    base, _ = server
    policy = FetchPolicy(allow_private_hosts=True, timeout_s=0.5, retries=2, backoff_s=0.0, deadline_s=0.6)
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"took longer than 0.6 s, the limit per photo \(tries and redirects included\)"):
        fetch_url(f"{base}/trickle", policy)
    assert Handler.hits["/trickle"] == 1  # not tried again once the photo's time is up
    assert time.monotonic() - start < policy.deadline_s + policy.timeout_s + 1.0  # was 3 x the deadline


def test_retries_stop_at_the_photos_deadline(server):
    base, _ = server
    policy = FetchPolicy(allow_private_hosts=True, timeout_s=0.3, retries=5, backoff_s=0.0, deadline_s=0.7)
    with pytest.raises(FetchError, match="timed out|took longer than 0.7 s"):
        fetch_url(f"{base}/slow", policy)
    assert 2 <= Handler.hits["/slow"] <= 3  # 0.3 + 0.3 (+ the 0.1 s left), not 6 tries


def test_build_refuses_then_allows_a_private_photo_url(tmp_path, server, fake_encoders):
    base, _ = server
    catalog_path = tmp_path / "catalog.jsonl"
    catalog_path.write_text(json.dumps({"id": "u1", "title": "Red shirt", "images": [f"{base}/ok.png?token=s3cret"]}) + "\n")
    summary = build_index(load_catalog(catalog_path), tmp_path / "a", fake_encoders, progress=False)
    assert summary.images_indexed == 0 and "loopback" in summary.image_failures[0][1].reason
    assert sum(Handler.hits.values()) == 0
    catalog = load_catalog(catalog_path)
    catalog.fetch_policy = FetchPolicy(allow_private_hosts=True)
    summary = build_index(catalog, tmp_path / "b", fake_encoders, progress=False)
    assert summary.images_indexed == 1 and not summary.image_failures


@pytest.mark.parametrize("url,reason", [
    ("http://[::1/x.png", "malformed URL"), ("http://host:99999/x.png", "malformed URL"),
    (f"http://{'a' * 300}.com/x.png", "invalid host name"), ("ftp://example.com/x.png", "scheme 'ftp'"),
    ("http://user:pw@example.com/x.png", "credentials"), ("http:///x.png", "without a host"),
])
def test_malformed_urls_are_reasons_not_crashes(url, reason):
    with pytest.raises(FetchError, match=reason):
        fetch_url(url, FetchPolicy(retries=0))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """An HTTPS listener on 127.0.0.1 whose self-signed certificate names photos.shop.internal."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=photos.shop.internal", "-addext", "subjectAltName=DNS:photos.shop.internal",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")], check=True, capture_output=True)
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(d / "cert.pem", d / "key.pem")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_port, str(d / "cert.pem")
    httpd.shutdown()
    httpd.server_close()


def test_https_connects_to_the_checked_ip_and_verifies_the_original_name(tls_server):
    port, ca = tls_server
    to_local = lambda host, p: ["127.0.0.1"]  # noqa: E731
    policy = FetchPolicy(allowed_hosts=("photos.shop.internal", "wrong.shop.internal"), resolver=to_local,
                         ca_file=ca, retries=0)
    assert fetch_url(f"https://photos.shop.internal:{port}/ok.png", policy) == PNG_BYTES
    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED|certificate|hostname"):
        fetch_url(f"https://wrong.shop.internal:{port}/ok.png", policy)  # the certificate names another host


@pytest.mark.slow
def test_cli_options_reach_the_build(tmp_path, server):
    """`index build --allow-private-hosts --images-root DIR` (real default models): both photos indexed;
    without the options both are refused and reported."""
    from support import run_cli

    base, _ = server
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "p.png").write_bytes(PNG_BYTES)
    shop = tmp_path / "shop"
    shop.mkdir()
    rows = [{"id": "u1", "title": "Red shirt", "images": [f"{base}/ok.png"]},
            {"id": "u2", "title": "Red dress", "images": [str(elsewhere / "p.png")]}]
    (shop / "catalog.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    # one embedding cache: the second build reuses the first's exported text model and embedded titles
    common = ["index", "build", "--catalog", str(shop / "catalog.jsonl"), "--no-progress", "--cache", str(tmp_path / "cache")]
    refused = run_cli(*common, "--out", str(tmp_path / "a"))
    assert refused.returncode == 0, refused.stderr
    assert "images indexed: 0" in refused.stdout and "loopback address" in refused.stdout
    assert "outside the allowed image folders" in refused.stdout
    allowed = run_cli(*common, "--out", str(tmp_path / "b"), "--allow-private-hosts", "--images-root", str(elsewhere))
    assert allowed.returncode == 0, allowed.stderr
    assert "images indexed: 2" in allowed.stdout and "image problem" not in allowed.stdout
