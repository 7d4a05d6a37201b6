"""`eval load` against a tiny live server on 127.0.0.1: bounded by count and by time, loopback only."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from live import free_port, serve

from eval.load import LoadTestError, check_loopback, run_load


@pytest.fixture(scope="module")
def server():
    from fastapi import FastAPI, HTTPException

    app = FastAPI()

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/search")
    async def search(q: str, k: int = 10):
        if q == "boom":
            raise HTTPException(500, "boom")
        if q == "slow":
            await asyncio.sleep(0.05)
        return {"hits": [{"product": {"id": str(i)}} for i in range(k)]}

    with serve(app) as url:
        yield url


def test_bounded_by_count(server):
    result = run_load(server, concurrency=3, duration=30, max_requests=40, queries=["red dress", "boom"])
    s = result.summary()
    assert s["requests"] == 40 and s["ok"] == 20 and s["errors"] == 20
    assert s["error_kinds"] == {"HTTP 500": 20}
    assert s["latency_ms"]["n"] == 20 and s["latency_ms"]["p50"] > 0 and s["throughput_rps"] > 0
    assert "throughput" in result.format()


def test_bounded_by_time(server):
    start = time.perf_counter()
    result = run_load(server, concurrency=2, duration=0.5, max_requests=100_000, queries=["slow"])
    assert time.perf_counter() - start < 3
    assert 0 < result.sent < 100 and result.ok == result.sent


def test_refuses_non_loopback_and_bad_bounds(server):
    for url in ("http://10.1.2.3:8000", "http://8.8.8.8", "ftp://127.0.0.1", "127.0.0.1:8000"):
        with pytest.raises(LoadTestError):
            check_loopback(url)
    # a host name is refused unresolved, even one that resolves to loopback now: it could resolve elsewhere when
    # the run connects (DNS rebinding)
    for url in ("http://localtest.me:8000", f"http://{socket.gethostname()}:8000", "http://127.0.0.1.nip.io"):
        with pytest.raises(LoadTestError, match="not a host name"):
            check_loopback(url)
    assert check_loopback("http://localhost:8000/") == "http://localhost:8000"
    assert check_loopback("http://[::1]:8000") == "http://[::1]:8000"
    with pytest.raises(LoadTestError, match="concurrency"):
        run_load(server, concurrency=0)
    with pytest.raises(LoadTestError, match="duration"):
        run_load(server, duration=10_000)
    with pytest.raises(LoadTestError, match="health"):
        run_load(f"http://127.0.0.1:{free_port()}", duration=1)


def test_paced_schedule_arithmetic():
    from eval.load import scheduled_at

    assert [scheduled_at(n, 150) for n in (0, 1, 150, 300)] == [0.0, 1 / 150, 1.0, 2.0]
    assert scheduled_at(7, None) == 0.0  # closed loop: as soon as a client is free


def test_paced_sends_at_the_offered_rate_not_as_fast_as_answers_come(server):
    # the fake answers at once: closed loop would send thousands; paced at 100 QPS for 0.6 s sends ~60
    result = run_load(server, concurrency=4, duration=0.6, max_requests=100_000, queries=["red dress"],
                      offered_qps=100)
    s = result.summary()
    assert 55 <= s["requests"] <= 61 and s["ok"] == s["requests"] and s["offered_qps"] == 100
    assert 80 <= s["throughput_rps"] <= 105
    assert "paced at 100 QPS offered" in result.format()


def test_paced_latency_counts_the_queue_from_each_slot(server):
    # one client, a 50 ms answer, 40 QPS offered (one slot every 25 ms): the client falls further behind at
    # each request; counted from its slot, the n-th request waits ~25 ms * n more than the answer takes
    result = run_load(server, concurrency=1, duration=0.5, max_requests=100_000, queries=["slow"], offered_qps=40)
    lat = sorted(result.latencies_ms)
    assert result.ok >= 5 and lat[0] >= 45
    assert lat[-1] >= 50 + 25 * (result.ok - 2)  # what a client-side clock would hide (coordinated omission)
    assert result.summary()["throughput_rps"] < 25  # achieved stays at what one client can get through


def test_paced_refuses_a_bad_rate(server):
    for bad in (0, -5, 1e9):
        with pytest.raises(LoadTestError, match="offered-qps"):
            run_load(server, duration=1, offered_qps=bad)


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://127.0.0.1:abc", "http://[::1",
                                 "http://127.0.0.1:+80", "http://127.0.0.1:0", "http://127.0.0.1:8000/?q=x",
                                 "http://user@127.0.0.1:8000"])
def test_malformed_urls_are_one_line_errors(url, capsys):
    from prodsearch.cli import main

    with pytest.raises(LoadTestError, match="--url"):
        check_loopback(url)
    assert main(["eval", "load", "--url", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --url") and "Traceback" not in err
