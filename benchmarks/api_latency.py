"""Benchmark: index build rate on the fixture catalog, then p50/p95 latency through the HTTP API.

Builds the fixture index with the default models (timed), starts `prodsearch serve`
on 127.0.0.1, sends 200 text queries (GET /search) and 50 photo queries
(POST /search/image) one at a time, and prints the figures. Usage:

    .venv/bin/python benchmarks/api_latency.py [--text 200] [--images 50] [--out DIR]
    .venv/bin/python benchmarks/api_latency.py --index .prodsearch/build-rate/index   # an existing index, no build

Per-stage server timings (`timings_ms`: encode_text, lexical, semantic, visual, ...) are printed as
p50/p95; the text queries run twice, so the second pass shows the query-embedding LRU cache's effect.
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from indexer.manifest import read_manifest  # noqa: E402  (the layout of the index directory lives there)

PRODSEARCH = [str(Path(sys.executable).with_name("prodsearch"))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text_queries(n: int) -> list[str]:
    products = [json.loads(line) for line in (REPO / "fixtures/catalog.jsonl").read_text().splitlines()]
    colours = sorted({p["attributes"]["colour"].lower() for p in products})
    kinds = sorted({p["attributes"]["article_type"].lower() for p in products})
    extras = ["", "for men", "for women", "cotton", "casual", "under 50"]
    combos = itertools.product(colours, kinds, extras)
    return [" ".join(filter(None, [c, k, e])) for c, k, e in itertools.islice(combos, n)]


def percentiles(ms: list[float]) -> str:
    a = np.asarray(ms)
    return (f"p50 {np.percentile(a, 50):7.1f} ms   p95 {np.percentile(a, 95):7.1f} ms   "
            f"mean {a.mean():7.1f} ms   n={len(a)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=int, default=200)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--out", type=Path, default=None, help="index directory (default: a temporary one)")
    parser.add_argument("--index", type=Path, default=None, help="measure this existing index instead of building one")
    args = parser.parse_args()
    if args.index is not None:
        out = args.index
        print(f"index {out}: {read_manifest(out).counts['products']} products (not rebuilt)")
    else:
        out = args.out or Path(tempfile.mkdtemp()) / "fixture-index"
        if build_fixture_index(out):
            return 1
    return serve_and_measure(out, args)


def build_fixture_index(out: Path) -> int:
    t0 = time.perf_counter()
    build = subprocess.run([*PRODSEARCH, "index", "build", "--catalog", str(REPO / "fixtures/catalog.jsonl"),
                            "--out", str(out), "--no-progress"], capture_output=True, text=True, cwd=REPO)
    build_s = time.perf_counter() - t0
    if build.returncode != 0:
        print(build.stderr, file=sys.stderr)
        return 1
    manifest = read_manifest(out).model_dump()
    n = manifest["counts"]["products"]
    stage = manifest["build_seconds"]
    print(f"index build: {n} products in {build_s:.1f} s wall incl. model loading "
          f"({n / build_s:.1f} products/s); stages: {stage} -> {n / sum(stage.values()):.1f} products/s embedding+writing")
    return 0


def stage_table(timings: list[dict[str, float]]) -> str:
    keys = sorted({k for t in timings for k in t})
    rows = []
    for key in keys:
        values = [t[key] for t in timings if key in t]
        rows.append(f"      {key:<18} p50 {np.percentile(values, 50):7.2f} ms   p95 {np.percentile(values, 95):7.2f} ms")
    return "\n".join(rows)


def serve_and_measure(out: Path, args: argparse.Namespace) -> int:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*PRODSEARCH, "serve", "--index", str(out), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            for _ in range(240):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            client.get("/search", params={"q": "warm up"})
            passes = []
            for _ in range(2):  # the second pass repeats every query: the query-embedding cache answers
                text_ms, server_ms, stages = [], [], []
                for q in text_queries(args.text):
                    t = time.perf_counter()
                    r = client.get("/search", params={"q": q, "k": 10})
                    text_ms.append((time.perf_counter() - t) * 1000)
                    r.raise_for_status()
                    server_ms.append(r.json()["timings_ms"]["total"])
                    stages.append(r.json()["timings_ms"])
                passes.append((text_ms, server_ms, stages))
            photos = sorted((REPO / "fixtures/images").glob("*.png"))[: args.images]
            image_ms = []
            for photo in photos:
                t = time.perf_counter()
                r = client.post("/search/image", files={"file": (photo.name, photo.read_bytes(), "image/png")},
                                data={"k": "10"})
                image_ms.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
    finally:
        server.terminate()
        server.wait(timeout=30)
    for label, (text_ms, server_ms, stages) in zip(("first", "repeated"), passes, strict=True):
        print(f"text queries, {label} pass (GET /search, client-side):  {percentiles(text_ms)}")
        print(f"   of which in the Searcher (timings_ms.total): p50 {statistics.median(server_ms):.1f} ms; per stage:")
        print(stage_table(stages))
    print(f"photo queries (POST /search/image, client):  {percentiles(image_ms)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
