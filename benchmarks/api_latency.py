"""Benchmark: latency and throughput of `prodsearch serve` over HTTP (issue #11, "at 44k, served over HTTP").

For each server (one started here on ``--index``, or running ones named by ``--url``, measured in turn
in the same run so that two builds compare side by side under the same machine load):

1. text queries, one client, every query new (GET /search): client p50/p95 and the Searcher's
   per-stage ``timings_ms`` p50/p95; then the same queries again (the query-embedding cache answers); the
   client is the standard library's http.client on one keep-alive connection (``--client httpx``: httpx, whose
   own Python costs ~0.5 ms more per request here, see `TextClient`);
2. photo queries, one client (POST /search/image, the fixture photos);
   with several ``--url`` servers, phases 1 and 2 send each request to every server in turn (alternating which
   goes first), so that a shared machine's changing load falls on each build alike (``--no-interleave``: one
   server after the other, as phase 3 always runs);
3. ``--clients`` concurrent clients (default 8) for ``--load-seconds``, every query new (cache misses):
   QPS, p50/p95, and CPU per request of the server process(es) and of this load generator; then, for each
   ``--offered-qps``, the same clients paced at that total rate (open loop): achieved QPS and p50/p95 counted
   from each request's slot, the reading of "150 QPS at p95 <= 50 ms" that does not need 8 closed-loop clients.

Queries are built from the served index's own facet values (``GET /facets``: pairs of values of two
facets, e.g. "navy blue shirts"), deterministic, and never repeated between phases. Usage:

    .venv/bin/python benchmarks/api_latency.py --index IDX                 # serve IDX here, measure it
    .venv/bin/python benchmarks/api_latency.py --index IDX --serve-arg=--workers=2
    .venv/bin/python benchmarks/api_latency.py --url http://127.0.0.1:8460 --url http://127.0.0.1:8461
    .venv/bin/python benchmarks/api_latency.py --index IDX --offered-qps 150   # also 8 clients paced at 150 QPS
    .venv/bin/python benchmarks/api_latency.py --index IDX --offered-qps 150 \
        --variant "--query-encoder fp32" --variant "--query-encoder int8"   # two servers, one after the other
    .venv/bin/python benchmarks/api_latency.py                              # build the fixture index first
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from eval.load import run_load  # noqa: E402
from indexer.manifest import read_manifest  # noqa: E402  (the layout of the index directory lives there)

PRODSEARCH = [sys.executable, "-m", "prodsearch"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def facet_queries(client: httpx.Client, n: int, seed: int = 11) -> list[str]:
    """``n`` distinct queries, each two values of two different facets of the served catalog, shuffled."""
    facets = client.get("/facets").raise_for_status().json()["facets"]
    values = {name: sorted({v["value"].lower() for v in vals if 1 < len(v["value"]) < 40})
              for name, vals in facets.items()}
    names = sorted(n for n, v in values.items() if v)
    combos = {f"{a} {b}" for x, y in itertools.permutations(names, 2) for a in values[x] for b in values[y]}
    queries = sorted(combos)
    random.Random(seed).shuffle(queries)
    if len(queries) < n:
        print(f"note: the catalog's facets give {len(queries)} distinct queries, fewer than the {n} asked for; "
              "some requests repeat a query", file=sys.stderr)
    return queries[:n]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def line(label: str, ms: list[float]) -> str:
    return f"{label:<46} p50 {pct(ms, 50):7.1f} ms   p95 {pct(ms, 95):7.1f} ms   n={len(ms)}"


def stage_table(timings: list[dict[str, float]]) -> str:
    keys = sorted({k for t in timings for k in t}, key=lambda k: (k == "total", k))
    rows = []
    for key in keys:
        values = [t[key] for t in timings if key in t]
        rows.append(f"      {key:<18} p50 {pct(values, 50):7.2f} ms   p95 {pct(values, 95):7.2f} ms")
    return "\n".join(rows)


@dataclass
class Target:
    url: str
    pids: list[int] = field(default_factory=list)  # server processes whose CPU time is counted
    report: list[str] = field(default_factory=list)
    serve_args: list[str] | None = None  # started here (on --index) with these options for each measurement


@contextlib.contextmanager
def served(index: Path, serve_args: list[str]):  # type: ignore[no-untyped-def]
    """`prodsearch serve` on ``index`` with ``serve_args`` on a free port, until the block ends; yields its URL."""
    port = free_port()
    server = subprocess.Popen([*PRODSEARCH, "serve", "--index", str(index), "--port", str(port), *serve_args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def describe(url: str) -> str:
    """What the server says embeds its queries (GET /health), for the report."""
    with contextlib.suppress(httpx.HTTPError, ValueError):
        return str(httpx.get(f"{url}/health", timeout=10, trust_env=False).json().get("query_encoder"))
    return "?"


def server_pids(port: int) -> list[int]:
    """The server's processes: the one listening on ``port``, the `prodsearch serve` it runs under (with
    ``--workers`` the listener may be any worker) and all their children, via psutil."""
    import psutil

    listening = [c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port
                 and c.status == psutil.CONN_LISTEN and c.pid]
    roots = set()
    for pid in listening:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            parent = proc.parent()
            roots.add(parent if parent is not None and "serve" in " ".join(parent.cmdline()) else proc)
    pids = set()
    for root in roots:
        with contextlib.suppress(psutil.NoSuchProcess):
            pids.add(root.pid)
            pids.update(child.pid for child in root.children(recursive=True))
    return sorted(pids)


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_mb(pids: list[int]) -> list[float]:
    import psutil

    out = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            out.append(psutil.Process(pid).memory_info().rss / 2**20)
    return out


def wait_healthy(url: str, seconds: float = 300) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not become healthy in {seconds:.0f} s")


CLIENTS = ("stdlib", "httpx")


class TextClient:
    """One keep-alive connection for the single-client text queries. ``stdlib`` (the default): the standard
    library's http.client; ``httpx``: httpx, whose own Python costs more per request (measured here against one
    server: a 404's round trip 1.15 ms with httpx, 0.64 with http.client, 0.39 over a bare socket), so its
    figure says more about the client and less about the server."""

    def __init__(self, url: str, kind: str = "stdlib") -> None:
        self.kind = kind
        if kind == "httpx":
            self._httpx = httpx.Client(base_url=url, timeout=60, trust_env=False)
        else:
            parts = urllib.parse.urlsplit(url)
            self._conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)

    def search(self, q: str) -> tuple[float, dict]:
        """(ms at the client, the answer) of GET /search?q=...&k=10; an error status raises."""
        params = {"q": q, "k": 10}
        if self.kind == "httpx":
            t = time.perf_counter()
            r = self._httpx.get("/search", params=params)
            ms = (time.perf_counter() - t) * 1000
            r.raise_for_status()
            return ms, r.json()
        t = time.perf_counter()
        self._conn.request("GET", "/search?" + urllib.parse.urlencode(params))
        response = self._conn.getresponse()
        body = response.read()
        ms = (time.perf_counter() - t) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET /search?q={q!r}: HTTP {response.status}: {body[:200]!r}")
        return ms, json.loads(body)

    def close(self) -> None:
        (self._httpx if self.kind == "httpx" else self._conn).close()


def in_turn(n: int, i: int) -> range | list[int]:
    """The order the ``i``-th request visits ``n`` servers in: first to last, then last to first."""
    return range(n) if i % 2 == 0 else list(reversed(range(n)))


def single_client(targets: list[Target], queries: list[str], photos: list[Path], kind: str = "stdlib") -> None:
    """The one-client phases (text queries new then repeated, photos) on each of ``targets``: with several, each request
    goes to every server in turn, the first one alternating, so that the load other processes put on the machine
    meanwhile falls on every server alike."""
    how = f"{kind} client, interleaved" if len(targets) > 1 else f"{kind} client"
    photo_how = "client, interleaved" if len(targets) > 1 else "client"
    clients = [httpx.Client(base_url=t.url, timeout=60, trust_env=False) for t in targets]
    texts = [TextClient(t.url, kind) for t in targets]
    try:
        for client, text in zip(clients, texts, strict=True):
            client.get("/search", params={"q": "warm up query"}).raise_for_status()
            text.search("warm up query")
        for label, batch in (("text, new queries", queries), ("text, repeated (embedding cache)", queries)):
            ms: list[list[float]] = [[] for _ in targets]
            stages: list[list[dict[str, float]]] = [[] for _ in targets]
            for i, q in enumerate(batch):
                for j in in_turn(len(clients), i):
                    took, answer = texts[j].search(q)
                    ms[j].append(took)
                    stages[j].append(answer["timings_ms"])
            for j, target in enumerate(targets):
                target.report.append(line(f"{label} (GET /search, {how}):", ms[j]))
                target.report.append(line("   of which in the Searcher (timings_ms.total):", [s["total"] for s in stages[j]]))
                if label.startswith("text, new"):
                    target.report.append(stage_table(stages[j]))
        photo_ms: list[list[float]] = [[] for _ in targets]
        for i, photo in enumerate(photos):
            data = photo.read_bytes()
            for j in in_turn(len(clients), i):
                t = time.perf_counter()
                r = clients[j].post("/search/image", files={"file": (photo.name, data, "image/png")}, data={"k": "10"})
                photo_ms[j].append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
        for j, target in enumerate(targets):
            target.report.append(line(f"photo (POST /search/image, {photo_how}):", photo_ms[j]))
    finally:
        for client, text in zip(clients, texts, strict=True):
            client.close()
            text.close()


def load_phase(target: Target, queries: list[str], clients: int, seconds: float,
               offered_qps: float | None = None) -> None:
    """Closed loop (each client sends when its answer is back) or, with ``offered_qps``, paced (open loop)."""
    cpu0, own0 = cpu_seconds(target.pids), time.process_time()
    result = run_load(target.url, concurrency=clients, duration=seconds, max_requests=len(queries),
                      queries=queries, k=10, timeout=30, offered_qps=offered_qps)
    server_cpu = (cpu_seconds(target.pids) - cpu0) * 1000 / max(1, result.ok)
    own_cpu = (time.process_time() - own0) * 1000 / max(1, result.ok)
    s = result.summary()
    mode = f"paced at {offered_qps:g} QPS offered" if offered_qps else "closed loop"
    target.report.append(f"{clients} clients, {mode}, {s['seconds']:.1f} s, new queries: "
                         f"{s['throughput_rps']:.1f} QPS achieved   "
                         f"p50 {s['latency_ms']['p50']:.1f} ms   p95 {s['latency_ms']['p95']:.1f} ms   "
                         f"ok {s['ok']}  errors {s['errors']}  repeated {s['repeated']}")
    if target.pids:
        share = own_cpu / max(1e-9, server_cpu + own_cpu)
        target.report.append(f"   CPU per request: server {server_cpu:.1f} ms, this load generator {own_cpu:.1f} ms "
                             f"({share:.0%} of the two); server RSS per process "
                             f"{', '.join(f'{m:.0f}' for m in rss_mb(target.pids))} MB")


def measure(target: Target, batch: list[str], photos: list[Path], args: argparse.Namespace,
            single: bool = True) -> None:
    """Every phase on ``target``; ``single=False`` skips the single-client ones (already run interleaved)."""
    target.report.append(f"-- {describe(target.url)} queries; load average "
                         f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if single:
        single_client([target], batch[: args.text], photos, args.client)
    load_queries = batch[args.text:]
    phases = 1 + len(args.offered_qps)
    size = len(load_queries) // phases
    for i, offered in enumerate([None, *args.offered_qps]):
        load_phase(target, load_queries[i * size:(i + 1) * size], args.clients, args.load_seconds, offered)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None, help="serve this existing index here (no build)")
    parser.add_argument("--url", action="append", default=[], help="measure a running server (repeatable)")
    parser.add_argument("--serve-arg", action="append", default=[], help="extra `prodsearch serve` option")
    parser.add_argument("--variant", action="append", default=[],
                        help="serve --index once per variant, with these extra `serve` options (quoted; repeatable), "
                        "one server at a time, each measured with the same new queries: old vs new in one run")
    parser.add_argument("--text", type=int, default=200, help="single-client text queries")
    parser.add_argument("--images", type=int, default=50, help="single-client photo queries")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--client", choices=CLIENTS, default=CLIENTS[0],
                        help="the single-client text phases' HTTP client: stdlib (http.client) or httpx")
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--offered-qps", type=float, action="append", default=[],
                        help="also run the clients paced at this total rate (open loop; latency counts from each "
                        "request's slot), after the closed-loop phase; repeatable")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the servers this many times")
    parser.add_argument("--seed", type=int, default=11, help="query order; change it to measure running servers "
                        "again with queries they have not seen")
    parser.add_argument("--interleave", action=argparse.BooleanOptionalAction, default=True,
                        help="with several --url servers, send each single-client request to every server in turn "
                        "(default; --no-interleave: one server after the other)")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    targets = [Target(u.rstrip("/")) for u in args.url]
    index = args.index
    if not targets:
        if index is None:
            index = Path(tempfile.mkdtemp()) / "fixture-index"
            subprocess.run([*PRODSEARCH, "index", "build", "--catalog", str(REPO / "fixtures/catalog.jsonl"),
                            "--out", str(index), "--no-progress"], check=True, cwd=REPO)
        print(f"index {index}: {read_manifest(index).counts['products']} products")
        targets = [Target(f"serve {v}".strip(), serve_args=[*args.serve_arg, *shlex.split(v)])
                   for v in args.variant or [""]]
    phases = 1 + len(args.offered_qps)
    per_round = args.text + phases * int(args.load_seconds * 500)  # room for 500 QPS of new queries
    photos = sorted((REPO / "fixtures/images").glob("*.png"))[: args.images]
    queries: list[str] = []
    interleave = args.interleave and len(targets) > 1 and all(t.serve_args is None for t in targets)
    for r in range(args.rounds):
        if interleave:
            if not queries:
                with httpx.Client(base_url=targets[0].url, timeout=60, trust_env=False) as client:
                    queries = facet_queries(client, per_round * args.rounds, args.seed)
            for target in targets:
                wait_healthy(target.url)
                target.report.append(f"-- round {r + 1}: single client, every request to each server in turn; "
                                     f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
            single_client(targets, queries[r * per_round:r * per_round + args.text], photos, args.client)
        for target in targets:  # the same new queries for each server, so each misses its own cache
            with contextlib.ExitStack() as stack:
                url = target.url if target.serve_args is None else stack.enter_context(served(index, target.serve_args))
                wait_healthy(url)
                measured = Target(url, server_pids(int(url.rsplit(":", 1)[1])), target.report)
                if not queries:
                    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
                        queries = facet_queries(client, per_round * args.rounds, args.seed)
                target.report.append(f"-- round {r + 1}")
                measure(measured, queries[r * per_round:(r + 1) * per_round], photos, args, single=not interleave)
    for target in targets:
        print(f"\n== {target.url}")
        print("\n".join(target.report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
