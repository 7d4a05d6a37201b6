"""Benchmark: mixed load while huge photos are uploaded; latency per kind, errors, /health p99, peak RSS.

Starts the server as a subprocess on 127.0.0.1 (a free port, given as PRODSEARCH_PORT), then for
``--duration`` seconds (or until ``--max-requests``) runs, all at once:
- ``--clients`` (8) clients cycling text (GET /search), photo (POST /search/image, fixture photos)
  and facet (GET /facets) requests;
- ``--uploaders`` (1) clients uploading a huge photo (``--upload-mp`` megapixels, a JPEG made in
  memory, under the upload limit; expected 200), in turn as a multipart upload (POST /search/image)
  and as base64 JSON (POST /search), and every ``--oversize-every``-th time a body over the limit
  (expected 413);
- one client polling GET /health every ``--health-interval`` s;
- a sampler of the server's RSS (psutil, the process and its children).
Any status other than the expected one, and any transport error, is an error. Loopback only.

    .venv/bin/python benchmarks/hostile_load.py --index .prodsearch/fixture-index [--duration 60] [--json-out F]
    .venv/bin/python benchmarks/hostile_load.py --server-cmd "python tests/fake_server.py /tmp/idx" --duration 5

``--quiet-first S`` runs the mixed load alone for S seconds first, so /health without and with uploads
come from one run. ``--check`` exits 1 unless: zero errors, /health p99 during uploads < 100 ms, peak RSS < 2 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eval.latency import summarize_latency  # noqa: E402
from eval.load import MAX_CONCURRENCY, MAX_DURATION_S, MAX_REQUESTS, LoadTestError  # noqa: E402

TEXT_QUERIES = ("red dress", "black shoes", "blue shirt", "white t-shirt", "brown bag", "men's watch",
                "casual shoes", "green cap", "women's handbag", "navy trousers")
KINDS = ("text", "photo", "facets")
GOAL_HEALTH_P99_MS = 100.0
GOAL_PEAK_RSS_MB = 2048.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def huge_jpeg(megapixels: float, limit_bytes: int) -> bytes:
    """A smooth photo-like JPEG of ``megapixels``, re-encoded at lower quality until under ``limit_bytes``."""
    side = int((megapixels * 1e6) ** 0.5)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    rgb = np.stack([x, y, 0.5 + 0.5 * np.sin(12 * x + 7 * y)], axis=-1) * 255
    rgb += np.random.default_rng(0).normal(0, 6, size=(side, side, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    for quality in (85, 70, 50, 30, 15):
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=quality)
        if buf.tell() < limit_bytes:
            return buf.getvalue()
    raise LoadTestError(f"a {megapixels} MP JPEG does not fit under {limit_bytes} bytes; lower --upload-mp")


def fixture_photos(n: int = 8) -> list[bytes]:
    paths = sorted((REPO / "fixtures" / "images").glob("*.png"))[:n]
    if paths:
        return [p.read_bytes() for p in paths]
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, format="PNG")
    return [buf.getvalue()]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    health_ms: list[float] = field(default_factory=list)
    health_during_upload_ms: list[float] = field(default_factory=list)
    health_before_uploads_ms: list[float] = field(default_factory=list)
    uploads_started: bool = False
    rss_mb: list[float] = field(default_factory=list)
    uploads_in_flight: int = 0
    sent: int = 0
    closed_while_sending: Counter = field(default_factory=Counter)  # 413s the client saw as a closed connection

    def record(self, kind: str, expected: int, start: float, response: httpx.Response | None,
               exc: Exception | None = None) -> None:
        ms = (time.perf_counter() - start) * 1000
        if response is None:
            if expected == 413 and isinstance(exc, httpx.TransportError):
                # The server answers 413 from Content-Length before reading the body and closes the
                # connection; a client still sending (httpx) sees the close instead of the 413.
                self.statuses[kind][413] += 1
                self.closed_while_sending[kind] += 1
                self.latencies[kind].append(ms)
                return
            self.errors[kind][type(exc).__name__] += 1
            return
        self.statuses[kind][response.status_code] += 1
        if response.status_code == expected:
            self.latencies[kind].append(ms)
        else:
            self.errors[kind][f"HTTP {response.status_code}"] += 1


async def _request(http: httpx.AsyncClient, tally: Tally, kind: str, expected: int, method: str, path: str,
                   **kwargs: Any) -> None:
    start = time.perf_counter()
    try:
        response = await http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        tally.record(kind, expected, start, None, exc)
        return
    tally.record(kind, expected, start, response)


async def run_load(url: str, pid: int, *, clients: int, uploaders: int, duration: float, max_requests: int,
                   upload: bytes, oversize: bytes, oversize_every: int, health_interval: float,
                   timeout: float, quiet_first: float = 0.0) -> tuple[Tally, float]:
    tally = Tally()
    photos = fixture_photos()
    deadline = time.perf_counter() + duration
    budget = iter(range(max_requests))

    def more() -> int | None:
        return next(budget, None) if time.perf_counter() < deadline else None

    async def mixed_client(http: httpx.AsyncClient, offset: int) -> None:
        while (n := more()) is not None:
            kind = KINDS[(n + offset) % len(KINDS)]
            q = TEXT_QUERIES[n % len(TEXT_QUERIES)]
            if kind == "text":
                await _request(http, tally, kind, 200, "GET", "/search", params={"q": q, "k": 10})
            elif kind == "facets":
                await _request(http, tally, kind, 200, "GET", "/facets", params={"q": q})
            else:
                photo = photos[n % len(photos)]
                await _request(http, tally, kind, 200, "POST", "/search/image", data={"k": "10"},
                               files={"file": ("q.png", photo, "image/png")})

    upload_b64 = base64.b64encode(upload).decode()

    async def uploader(http: httpx.AsyncClient) -> None:
        await asyncio.sleep(min(quiet_first, duration))  # the same load without uploads first, for comparison
        tally.uploads_started = True
        i = 0
        while more() is not None:
            i += 1
            tally.uploads_in_flight += 1
            try:
                if oversize_every > 0 and i % oversize_every == 0:
                    await _request(http, tally, "upload_oversize", 413, "POST", "/search/image", data={"k": "5"},
                                   files={"file": ("huge.jpg", oversize, "image/jpeg")})
                elif i % 2:  # the two routes that take a photo: multipart upload and base64 in JSON
                    await _request(http, tally, "upload_huge", 200, "POST", "/search/image", data={"k": "5"},
                                   files={"file": ("huge.jpg", upload, "image/jpeg")})
                else:
                    await _request(http, tally, "upload_huge_b64", 200, "POST", "/search",
                                   json={"image": upload_b64, "k": 5})
            finally:
                tally.uploads_in_flight -= 1

    async def health_poller(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            during = tally.uploads_in_flight > 0
            before_uploads = not tally.uploads_started
            start = time.perf_counter()
            try:
                response = await http.get("/health")
                ok = response.status_code == 200
                if not ok:
                    tally.errors["health"][f"HTTP {response.status_code}"] += 1
            except httpx.HTTPError as exc:
                tally.errors["health"][type(exc).__name__] += 1
                ok = False
            ms = (time.perf_counter() - start) * 1000
            if ok:
                tally.health_ms.append(ms)
                if during or tally.uploads_in_flight > 0:
                    tally.health_during_upload_ms.append(ms)
                elif before_uploads and not tally.uploads_started:
                    tally.health_before_uploads_ms.append(ms)
            await asyncio.sleep(max(0.0, health_interval - ms / 1000))

    async def rss_sampler() -> None:
        proc = psutil.Process(pid)
        while time.perf_counter() < deadline:
            try:
                rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.Error:
                return
            tally.rss_mb.append(rss / 2**20)
            await asyncio.sleep(0.1)

    limits = httpx.Limits(max_connections=clients + uploaders + 2)
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, trust_env=False) as http, \
            httpx.AsyncClient(base_url=url, timeout=timeout, trust_env=False) as health_http:
        tasks = [mixed_client(http, i) for i in range(clients)] + [uploader(http) for _ in range(uploaders)]
        tasks += [health_poller(health_http), rss_sampler()]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), duration + timeout + 5)
        except asyncio.TimeoutError:
            tally.errors["run"]["cut at the time bound"] += 1
    tally.sent = sum(sum(c.values()) for c in tally.statuses.values())
    return tally, time.perf_counter() - start


def start_server(command: list[str], port: int, env_extra: dict[str, str], log_path: Path,
                 wait_s: float = 180.0) -> subprocess.Popen:
    env = {**os.environ, "PRODSEARCH_HOST": "127.0.0.1", "PRODSEARCH_PORT": str(port), **env_extra}
    log = log_path.open("w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LoadTestError(f"the server exited ({proc.returncode}); its log: {log_path}\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2, trust_env=False).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise LoadTestError(f"the server did not answer /health in {wait_s:.0f} s; its log: {log_path}")


def summarize(tally: Tally, seconds: float, args: argparse.Namespace, upload_bytes: int) -> dict[str, Any]:
    kinds = sorted(set(tally.statuses) | set(tally.errors) - {"health", "run"})
    per_kind = {k: {"latency_ms": summarize_latency(tally.latencies[k]), "statuses": dict(tally.statuses[k]),
                    "errors": dict(tally.errors[k]), "413_seen_as_closed_connection": tally.closed_while_sending[k]}
                for k in kinds}
    errors = sum(sum(c.values()) for c in tally.errors.values())
    server_errors = sum(n for c in tally.statuses.values() for s, n in c.items() if s >= 500)
    health = summarize_latency(tally.health_ms)
    during = summarize_latency(tally.health_during_upload_ms)
    before = summarize_latency(tally.health_before_uploads_ms)
    rss = np.asarray(tally.rss_mb or [0.0])
    out = {"seconds": round(seconds, 1), "clients": args.clients, "uploaders": args.uploaders,
           "upload_mb": round(upload_bytes / 2**20, 2), "upload_megapixels": args.upload_mp, "requests": tally.sent,
           "errors": errors, "server_errors": server_errors, "per_kind": per_kind,
           "health_ms": health, "health_during_uploads_ms": during, "health_before_uploads_ms": before,
           "rss_mb": {"start": round(float(rss[0]), 1), "peak": round(float(rss.max()), 1),
                      "end": round(float(rss[-1]), 1), "samples": len(tally.rss_mb)}}
    out["goals"] = {"zero_errors": errors == 0,
                    "health_p99_during_uploads_under_100ms": during["n"] > 0 and during["p99"] < GOAL_HEALTH_P99_MS,
                    "peak_rss_under_2gb": float(rss.max()) < GOAL_PEAK_RSS_MB}
    return out


def format_report(s: dict[str, Any]) -> str:
    lines = [f"hostile load: {s['clients']} mixed clients + {s['uploaders']} uploader(s) of a {s['upload_megapixels']} MP "
             f"JPEG ({s['upload_mb']} MB), {s['seconds']} s, {s['requests']} requests",
             f"{'kind':<16}{'n ok':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}  errors"]
    for kind, k in s["per_kind"].items():
        lat = k["latency_ms"]
        errs = ", ".join(f"{e}: {n}" for e, n in k["errors"].items()) or "0"
        lines.append(f"{kind:<16}{lat['n']:>7}{lat['p50']:>10.1f}{lat['p95']:>10.1f}{lat['p99']:>10.1f}"
                     f"{lat['max']:>10.1f}  {errs}")
    for label, key in (("/health (all)", "health_ms"), ("/health no upl.", "health_before_uploads_ms"),
                       ("/health uploads", "health_during_uploads_ms")):
        h = s[key]
        lines.append(f"{label:<16}{h['n']:>7}{h['p50']:>10.1f}{h['p95']:>10.1f}{h['p99']:>10.1f}{h['max']:>10.1f}")
    rss = s["rss_mb"]
    lines.append(f"server RSS MB: start {rss['start']:.0f}  peak {rss['peak']:.0f}  end {rss['end']:.0f}")
    lines.append(f"errors {s['errors']} (5xx: {s['server_errors']});  goals: "
                 + ", ".join(f"{g} {'yes' if ok else 'NO'}" for g, ok in s["goals"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--index", type=Path, help="serve this index with `prodsearch serve`")
    target.add_argument("--server-cmd", help="command that serves on PRODSEARCH_HOST:PRODSEARCH_PORT (shell words)")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--uploaders", type=int, default=1)
    parser.add_argument("--upload-mp", type=float, default=49.0, help="megapixels of the huge photo")
    parser.add_argument("--max-upload-mb", type=float, default=10.0, help="the server's upload limit (passed to it)")
    parser.add_argument("--oversize-every", type=int, default=4, help="every Nth upload is over the limit (0: never)")
    parser.add_argument("--health-interval", type=float, default=0.1)
    parser.add_argument("--quiet-first", type=float, default=0.0,
                        help="seconds of the mixed load before the uploads start (/health measured apart)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 unless every goal is met")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CONCURRENCY or not 0 <= args.uploaders <= 8:
        parser.error(f"--clients must be 1..{MAX_CONCURRENCY} and --uploaders 0..8")
    if not 0 < args.duration <= MAX_DURATION_S or not 1 <= args.max_requests <= MAX_REQUESTS:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S:g}] and --max-requests 1..{MAX_REQUESTS}")

    limit = int(args.max_upload_mb * 2**20)
    t0 = time.perf_counter()
    upload = huge_jpeg(args.upload_mp, limit)
    oversize = b"\xff\xd8\xff\xe0" + os.urandom(limit + 2**20)  # JPEG magic, then noise: over the limit
    print(f"made a {args.upload_mp} MP JPEG of {len(upload) / 2**20:.2f} MB in {time.perf_counter() - t0:.1f} s", flush=True)

    command = (shlex.split(args.server_cmd) if args.server_cmd else
               [sys.executable, "-m", "prodsearch", "serve", "--index", str(args.index)])
    port = free_port()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"hostile-load-server-{port}.log"
    proc = start_server(command, port, {"PRODSEARCH_MAX_UPLOAD_MB": str(args.max_upload_mb)}, log_path)
    try:
        tally, seconds = asyncio.run(run_load(
            f"http://127.0.0.1:{port}", proc.pid, clients=args.clients, uploaders=args.uploaders,
            duration=args.duration, max_requests=args.max_requests, upload=upload, oversize=oversize,
            oversize_every=args.oversize_every, health_interval=args.health_interval, timeout=args.timeout,
            quiet_first=args.quiet_first))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    summary = summarize(tally, seconds, args, len(upload))
    print(format_report(summary))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if args.check and not all(summary["goals"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
