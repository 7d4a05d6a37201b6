"""`eval load`: an HTTP load run against a live server on loopback, bounded in request count and time.

N concurrent clients send ``GET /search?q=...&k=...`` until ``max_requests`` have been sent or
``duration`` seconds have passed, whichever comes first. Only loopback hosts are accepted.
The queries are sent in order and cycled; once they repeat, the server's query-embedding cache
answers, so the summary says how many requests repeated an earlier query (``repeated``): a
throughput figure for new queries needs at least as many distinct queries as requests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from eval.latency import summarize_latency
from indexer.errors import ProdsearchError

logger = logging.getLogger(__name__)

DEFAULT_QUERIES = ("red dress", "black shoes", "blue shirt", "white t-shirt", "brown bag", "men's watch",
                   "casual shoes", "green cap", "women's handbag", "navy trousers")
MAX_CONCURRENCY = 64
MAX_DURATION_S = 600.0
MAX_REQUESTS = 100_000
MAX_OFFERED_QPS = 10_000


class LoadTestError(ProdsearchError):
    """A bad load-test target or bound."""


def check_loopback(url: str) -> str:
    """The URL without a trailing slash; refuse anything that is not http(s) on a loopback address."""
    try:  # urlsplit refuses "http://[::1", .port a port out of range or not a number: one error line, no traceback
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise LoadTestError(f"--url {url!r}: {exc}; give a base URL such as http://127.0.0.1:8000") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadTestError(f"--url must look like http://127.0.0.1:8000, got {url!r}")
    if port == 0:
        raise LoadTestError(f"--url {url!r}: port 0 is not a server's port; give 1-65535")
    if parts.query or parts.fragment or parts.username is not None:
        raise LoadTestError(f"--url {url!r}: give the server's base URL, without user, query or fragment")
    if parts.hostname != "localhost":  # another name could resolve to loopback here and elsewhere at each connect
        try:
            ipaddress.ip_address(parts.hostname.split("%")[0])
        except ValueError:
            raise LoadTestError(f"--url {url!r}: give a loopback address (127.0.0.1, [::1]) or localhost, not a "
                                "host name (its address could change between this check and the run)") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise LoadTestError(f"cannot resolve {parts.hostname!r}: {exc}") from exc
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise LoadTestError(f"{parts.hostname} resolves to {sorted(addresses)}: load runs only target loopback "
                            "(127.0.0.1, ::1, localhost); start the server locally")
    return url.rstrip("/")


@dataclass
class LoadResult:
    url: str
    concurrency: int
    seconds: float
    sent: int = 0
    ok: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    distinct_queries: int = 0  # how many different texts the run had to send
    offered_qps: float | None = None  # paced (open loop) at this total rate; None: each client sends when free

    @property
    def repeated(self) -> int:
        """Requests that sent a text already sent in this run."""
        return max(0, self.sent - self.distinct_queries)

    def summary(self) -> dict[str, Any]:
        return {"url": self.url, "concurrency": self.concurrency, "seconds": round(self.seconds, 3),
                "offered_qps": self.offered_qps,
                "requests": self.sent, "ok": self.ok, "errors": sum(self.errors.values()),
                "error_kinds": dict(self.errors), "repeated": self.repeated,
                "throughput_rps": round(self.ok / self.seconds, 2) if self.seconds else 0.0,
                "latency_ms": summarize_latency(self.latencies_ms)}

    def format(self) -> str:
        s = self.summary()
        lat = s["latency_ms"]
        paced = f", paced at {self.offered_qps:g} QPS offered" if self.offered_qps else ""
        lines = [f"load run on {self.url}: {self.concurrency} clients{paced}, {s['seconds']:.1f} s",
                 f"  requests {s['requests']}  ok {s['ok']}  errors {s['errors']}  throughput {s['throughput_rps']:.1f} req/s",
                 f"  repeated queries {s['repeated']} (answered by the query-embedding cache; 0 = every query new)",
                 f"  latency ms: p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}  p99 {lat['p99']:.1f}  max {lat['max']:.1f}"]
        lines += [f"  error {kind}: {n}" for kind, n in self.errors.most_common(10)]
        return "\n".join(lines)


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for ``GET`` and a
    Content-Length or chunked answer. A general client (httpx) spends ~2 ms of CPU per request here,
    which on a small machine is taken from the server being measured; this spends a fraction of that."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
        self.tls = parts.scheme == "https"
        self.host_header = parts.netloc.encode("ascii", "replace")
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> int:
        """The status of ``GET target``, its body read (and dropped); reconnects when the server closed."""
        if self.writer is None or self.writer.is_closing():
            ssl_context = ssl.create_default_context() if self.tls else None
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, ssl=ssl_context)
        if self.reader is None or self.writer is None:
            raise OSError("not connected")
        self.writer.write(b"GET " + target.encode("ascii") + b" HTTP/1.1\r\nHost: " + self.host_header
                          + b"\r\nAccept: application/json\r\n\r\n")
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), self.timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
        headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
        if "content-length" in headers:
            await asyncio.wait_for(self.reader.readexactly(int(headers["content-length"])), self.timeout)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def scheduled_at(n: int, offered_qps: float | None) -> float:
    """Seconds after the start at which request ``n`` is due: ``n / offered_qps`` when paced (open loop),
    0 (as soon as a client is free) otherwise."""
    return n / offered_qps if offered_qps else 0.0


async def _run(url: str, queries: Sequence[str], concurrency: int, duration: float, max_requests: int,
               k: int, timeout: float, offered_qps: float | None = None) -> LoadResult:
    result = LoadResult(url, concurrency, 0.0, distinct_queries=len(set(queries)), offered_qps=offered_qps)
    prefix = urlsplit(url).path.rstrip("/") + "/search?"
    deadline = time.perf_counter() + duration
    counter = iter(range(max_requests))
    start = time.perf_counter()

    async def client() -> None:
        connection = _Connection(url, timeout)
        try:
            while time.perf_counter() < deadline:
                n = next(counter, None)
                if n is None:
                    return
                target = prefix + urlencode({"q": queries[n % len(queries)], "k": k})
                t0 = time.perf_counter()
                if offered_qps:  # paced: wait for this request's slot; its latency counts from the slot, so a
                    due = start + scheduled_at(n, offered_qps)  # server that falls behind shows its queue
                    if due >= deadline:
                        return
                    if due > t0:
                        await asyncio.sleep(due - t0)
                    t0 = due
                result.sent += 1
                try:
                    status = await connection.get(target)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                        ValueError, IndexError) as exc:
                    result.errors[type(exc).__name__] += 1
                    connection.close()
                    continue
                elapsed = (time.perf_counter() - t0) * 1000
                if status == 200:
                    result.ok += 1
                    result.latencies_ms.append(elapsed)
                else:
                    result.errors[f"HTTP {status}"] += 1
        finally:
            connection.close()

    try:
        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(concurrency))), duration + timeout)
    except asyncio.TimeoutError:
        result.errors["run cut at the time bound"] += 1
    result.seconds = time.perf_counter() - start
    return result


def run_load(url: str, *, concurrency: int = 4, duration: float = 10.0, max_requests: int = 1000,
             queries: Sequence[str] = DEFAULT_QUERIES, k: int = 10, timeout: float = 10.0,
             check_health: bool = True, offered_qps: float | None = None) -> LoadResult:
    """Run the load test; bounded by ``max_requests`` and ``duration`` (and hard caps on both). With
    ``offered_qps`` the clients send at that total rate (request n at n / offered_qps s) instead of as fast as
    answers come back, and each latency counts from the request's slot (queueing at the client included)."""
    url = check_loopback(url)
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise LoadTestError(f"--concurrency must be 1..{MAX_CONCURRENCY}, got {concurrency}")
    if not 0 < duration <= MAX_DURATION_S:
        raise LoadTestError(f"--duration must be in (0, {MAX_DURATION_S:g}] seconds, got {duration}")
    if not 1 <= max_requests <= MAX_REQUESTS:
        raise LoadTestError(f"--max-requests must be 1..{MAX_REQUESTS}, got {max_requests}")
    if not queries:
        raise LoadTestError("no queries to send")
    if offered_qps is not None and not 0 < offered_qps <= MAX_OFFERED_QPS:
        raise LoadTestError(f"--offered-qps must be in (0, {MAX_OFFERED_QPS}], got {offered_qps}")
    if check_health:
        import httpx

        try:
            httpx.get(f"{url}/health", timeout=timeout, trust_env=False).raise_for_status()
        except httpx.HTTPError as exc:
            raise LoadTestError(f"{url}/health failed ({exc}); is `prodsearch serve` running there?") from exc
    return asyncio.run(_run(url, list(queries), concurrency, duration, max_requests, k, timeout, offered_qps))
