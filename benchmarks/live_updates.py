"""Benchmark: live writes (#12) against a served index, through HTTP.

Copies the index's current version and embedding cache to a scratch directory (the original is never
written), serves the copy with `prodsearch serve`, and measures:

  1. idle text-search latency (the baseline for 4);
  2. upserts of new products, each with a new photo (a catalog photo with a random patch, so its bytes
     and vector are new): time from sending the PUT to its ack (an acked write is already searchable;
     a search for the product's unique word checks it) -- target p95 <= 1 s;
  3. price-only PATCHes -- target p95 <= 50 ms; a batch of new products with new photos in one
     POST /products/batch -- target 1,000 in <= 15 s;
  4. readers (8 threads, each a search every 1/--reader-qps s, default 2/s: 16 searches/s in all) alone
     for a baseline, then for --concurrent-seconds while a writer upserts new products with new photos
     at --writes-per-second (10) on a fixed schedule (4 connections, so one slow ack does not stall the
     rate): failed requests (target 0), writes/s reached, search p95 against idle (1 above; target
     <= 1.25x) and against the readers alone, the server's RSS sampled every 5 s (target: flat within
     10 % after the first tenth of the run, the allocator's warm-up). The readers are paced because the
     target compares with idle: 8 readers flat out on 2 cores queue behind each other (p95 several times
     idle with no writer at all) and starve the writer of the GIL; paced, they measure what the writes cost
     a shopper's search. --reader-qps 0 runs them flat out (the earlier benchmark). --alternate K runs the
     baseline and the writer phase as K alternating rounds, for a machine other jobs load in bursts;
  5. compaction (POST /admin/compact) with every write so far pending, while the readers keep searching
     -- target <= 60 s at 44k products with 5 % changed, no failed request.

    .venv/bin/python benchmarks/live_updates.py --index .prodsearch/fixture-index-real --images-root fixtures
    .venv/bin/python benchmarks/live_updates.py --index .prodsearch/build-rate/index \
        --images-root ../shared/datasets/fashion-product-images --batch 1000 --concurrent-seconds 300

It ends with a table of every target and its figure from the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from indexer.index_dir import resolve_current  # noqa: E402
from indexer.loaded import load_index  # noqa: E402

TOKEN = "live-benchmark"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUERIES = ["red t-shirt", "blue jeans for men", "black leather shoes", "women handbag", "white sneakers",
           "green kurta", "sports watch", "summer dress", "casual shirt", "running shoes"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms) if ms else np.zeros(1)
    return {"p50_ms": round(float(np.percentile(a, 50)), 1), "p95_ms": round(float(np.percentile(a, 95)), 1),
            "n": len(ms)}


def copy_index(source: Path, to: Path) -> Path:
    """The current version (as the only version) and the embedding cache, under ``to``."""
    version = resolve_current(source)
    (to / "versions").mkdir(parents=True)
    shutil.copytree(version, to / "versions" / version.name)
    os.symlink(f"versions/{version.name}", to / "current")
    if (source / "cache").is_dir():
        shutil.copytree(source / "cache", to / "cache")
    return to


class PhotoMaker:
    """New photos: a catalog photo with a random 24x24 patch (new bytes, a new vector, a realistic decode)."""

    def __init__(self, catalog_photos: list[Path], out: Path, seed: int = 0):
        self.photos, self.out, self.rng = catalog_photos, out, random.Random(seed)
        out.mkdir(parents=True, exist_ok=True)

    def make(self, name: str) -> str:
        while True:
            try:
                image = Image.open(self.rng.choice(self.photos)).convert("RGB")
                break
            except OSError:  # a catalog's deliberately broken photo (the fixture has some)
                continue
        patch = Image.new("RGB", (24, 24), tuple(self.rng.randrange(256) for _ in range(3)))
        image.paste(patch, (self.rng.randrange(max(1, image.width - 24)), self.rng.randrange(max(1, image.height - 24))))
        path = self.out / f"{name}.jpg"
        image.save(path, quality=90)
        return str(path)


def rss_bytes(process) -> int:  # type: ignore[no-untyped-def]
    """The server's resident memory with its children's (the embedding worker, `--live-embed-worker`)."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(Exception):  # exited meanwhile
            total += child.memory_info().rss
    return total


def new_product(i: int, photo: str, template: dict) -> dict:  # type: ignore[type-arg]
    word = f"livebench{i}x"
    return {"id": f"live-{i}", "title": f"{template['title']} {word}", "brand": template.get("brand", ""),
            "category": template.get("category", []), "attributes": template.get("attributes", {}),
            "description": template.get("description", "")[:200], "price": round(10 + i % 90, 2),
            "currency": "USD", "images": [photo]}


WRITER_THREADS = 4  # the writer's schedule is kept by several connections: one slow ack does not stall the rate


def print_targets(f: dict) -> None:  # type: ignore[type-arg]
    """Each target of issue #12 with its figure from this run."""
    rows = []
    if "upsert_with_new_photo" in f:
        rows.append(("upsert with a new photo, searchable: p95 <= 1000 ms", f["upsert_with_new_photo"]["p95_ms"],
                     f["upsert_with_new_photo"]["p95_ms"] <= 1000 and not f["upsert_with_new_photo"]["not_found_after_ack"]))
    if "patch_price" in f:
        rows.append(("price-only PATCH: p95 <= 50 ms", f["patch_price"]["p95_ms"], f["patch_price"]["p95_ms"] <= 50))
    if "batch" in f:
        b = f["batch"]
        scaled = b["seconds"] * 1000 / max(1, b["products"])
        rows.append((f"batch of 1,000 new products <= 15 s (ran {b['products']}; s per 1,000)", round(scaled, 2),
                     scaled <= 15 and not b["errors"]))
    if "concurrent" in f:
        c = f["concurrent"]
        rows.append((f"{c['seconds']:g} s, writer at {c['writes_per_second_target']:g}/s + {c['readers']} readers: "
                     "failed requests == 0", c["failed_requests"], c["failed_requests"] == 0))
        rows.append(("  writes/s reached (>= 95% of the target)", c["writes_per_second"],
                     c["writes_per_second"] >= 0.95 * c["writes_per_second_target"]))
        rows.append(("  search p95 / idle p95 <= 1.25", c["search_p95_vs_idle"], c["search_p95_vs_idle"] <= 1.25))
        rows.append(("  (search p95 / readers-only p95)", c["search_p95_vs_readers_only"], None))
        rows.append(("  RSS growth after the first tenth <= 10%", c["rss_growth_after_first_tenth"],
                     c["rss_growth_after_first_tenth"] <= 0.10))
    if "compaction" in f:
        c = f["compaction"]
        rows.append((f"compaction ({c['pending_entries']} pending) <= 60 s at 44k / 5%", c["seconds"],
                     c["seconds"] <= 60 and not c["failed_requests"]))
    print("\ntargets (issue #12):")
    for what, value, met in rows:
        print(f"  {what:<75} {value!s:>10}  {'' if met is None else 'met' if met else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--images-root", type=Path, required=True, help="folder of the catalog's photos")
    parser.add_argument("--upserts", type=int, default=100)
    parser.add_argument("--patches", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrent-seconds", type=float, default=30)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--writes-per-second", type=float, default=10)
    parser.add_argument("--reader-qps", type=float, default=2.0,
                        help="searches per second of each reader (0: flat out); see the module docstring")
    parser.add_argument("--alternate", type=int, default=1, metavar="K",
                        help="run the readers-alone baseline and the with-writer phase as K alternating rounds "
                             "(a busy machine's bursts then hit both alike); 1: one of each, the baseline first")
    parser.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                        help="one more `prodsearch serve` argument (repeatable), e.g. --serve-arg=--no-live-embed-worker")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="live-bench-"))
    figures: dict[str, object] = {"index": str(args.index)}
    proc = None
    try:
        index_dir = copy_index(args.index, scratch / "index")
        loaded = load_index(index_dir, verify_checksums=False)
        products = [p.model_dump() for p in loaded.store.products]
        figures["products"] = len(products)
        roots = [args.images_root.resolve()]
        photos = [Path(ref) if Path(ref).is_absolute() else Path(loaded.manifest.catalog_path).parent / ref
                  for p in products[:2000] for ref in p["images"][:1]]
        photos = [p for p in photos if p.is_file()] or sorted(roots[0].rglob("*.jpg"))[:2000]
        loaded.close()
        maker = PhotoMaker(photos, scratch / "photos")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PRODSEARCH_ADMIN_TOKEN": TOKEN}
        proc = subprocess.Popen([sys.executable, "-m", "prodsearch", "serve", "--index", str(index_dir), "--port",
                                 str(port), "--images-root", str(scratch / "photos"), *args.serve_arg], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=open(scratch / "server.log", "w"))  # noqa: SIM115
        client = httpx.Client(base_url=url, timeout=120)
        deadline = time.monotonic() + 600
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start: {(scratch / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        while client.get("/health").json().get("embedding_worker") == "starting":  # its models load (~10 s)
            if time.monotonic() > deadline:
                raise SystemExit("the embedding worker did not start")
            time.sleep(0.5)
        import psutil

        server = psutil.Process(proc.pid)

        def search_ms(q: str) -> float:
            t = time.perf_counter()
            r = client.get("/search", params={"q": q})
            r.raise_for_status()
            return (time.perf_counter() - t) * 1000

        for q in QUERIES:
            search_ms(q)  # warm
        figures["idle_search"] = pct([search_ms(QUERIES[i % len(QUERIES)]) for i in range(100)])
        print("idle search:", figures["idle_search"], flush=True)

        rng = random.Random(1)
        ack: list[float] = []
        misses = 0
        for i in range(args.upserts):
            body = new_product(i, maker.make(f"u{i}"), rng.choice(products))
            t = time.perf_counter()
            r = client.put(f"/products/{body['id']}", json=body, headers=AUTH)
            ack.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
            # visible at the ack: the only product with this word is the lexical signal's top hit
            hits = client.get("/search", params={"q": f"livebench{i}x", "k": 3, "weights": "semantic:0,visual:0"}).json()["hits"]
            misses += not hits or hits[0]["product"]["id"] != body["id"]
        figures["upsert_with_new_photo"] = {**pct(ack), "not_found_after_ack": misses}
        print("upsert (new photo) ack:", figures["upsert_with_new_photo"], flush=True)

        patch_ms = []
        for i in range(args.patches):
            pid = rng.choice(products)["id"]
            t = time.perf_counter()
            client.patch(f"/products/{pid}", json={"price": float(i)}, headers=AUTH).raise_for_status()
            patch_ms.append((time.perf_counter() - t) * 1000)
        figures["patch_price"] = pct(patch_ms)
        print("PATCH price:", figures["patch_price"], flush=True)

        lines = [json.dumps(new_product(100_000 + i, maker.make(f"b{i}"), rng.choice(products))) for i in range(args.batch)]
        t = time.perf_counter()
        r = client.post("/products/batch", content="\n".join(lines), headers=AUTH)
        r.raise_for_status()
        figures["batch"] = {"products": args.batch, "seconds": round(time.perf_counter() - t, 2),
                            "errors": r.json()["errors"]}
        print("batch:", figures["batch"], flush=True)

        stop = threading.Event()
        lat: list[float] = []
        failures: list[str] = []
        write_ms: list[float] = []
        n_writes = int(args.concurrent_seconds * args.writes_per_second * 1.2) + 10
        t = time.perf_counter()
        write_bodies = [new_product(200_000 + i, maker.make(f"w{i}"), rng.choice(products)) for i in range(n_writes)]
        print(f"prepared {n_writes} writes with new photos in {time.perf_counter() - t:.0f} s", flush=True)

        def reader(seed: int) -> None:
            """Searches at --reader-qps (open loop: a late search is sent at once, none skipped), or flat out."""
            r_rng = random.Random(seed)
            period = 1 / args.reader_qps if args.reader_qps > 0 else 0.0
            next_at = time.perf_counter() + r_rng.random() * period
            with httpx.Client(base_url=url, timeout=120) as c:
                while not stop.is_set():
                    if period:
                        time.sleep(max(0.0, next_at - time.perf_counter()))
                        next_at += period
                    t0 = time.perf_counter()
                    try:
                        resp = c.get("/search", params={"q": r_rng.choice(QUERIES)})
                        ok = resp.status_code == 200
                    except httpx.HTTPError as exc:
                        ok, resp = False, exc
                    lat.append((time.perf_counter() - t0) * 1000)
                    if not ok:
                        failures.append(str(resp)[:200])

        written = [0]  # write bodies used by earlier windows (--alternate)

        def writer(worker: int, workers: int) -> None:
            """Upserts (a new product, a new photo) on a fixed schedule of --writes-per-second over all workers."""
            with httpx.Client(base_url=url, timeout=120, headers=AUTH) as c:
                start = time.perf_counter()
                first = written[0]
                k = first + worker
                while not stop.is_set() and k < len(write_bodies):
                    time.sleep(max(0.0, start + (k - first) / args.writes_per_second - time.perf_counter()))
                    if stop.is_set():
                        break
                    body = write_bodies[k]
                    t0 = time.perf_counter()
                    try:
                        ok = c.put(f"/products/{body['id']}", json=body).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    write_ms.append((time.perf_counter() - t0) * 1000)
                    if not ok:
                        failures.append(f"write of {body['id']} failed")
                    k += workers

        rss: list[int] = []

        def run(seconds: float, with_writer: bool) -> float:
            stop.clear()
            threads = [threading.Thread(target=reader, args=(s,)) for s in range(args.readers)]
            threads += [threading.Thread(target=writer, args=(w, WRITER_THREADS)) for w in range(WRITER_THREADS)] \
                if with_writer else []
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            while time.perf_counter() - t0 < seconds:
                time.sleep(min(5.0, max(0.0, seconds - (time.perf_counter() - t0))))
                rss.append(rss_bytes(server))
            stop.set()
            for th in threads:
                th.join()
            written[0] = len(write_ms)
            return time.perf_counter() - t0

        # The same readers alone (a second baseline), then with the writer; with --alternate K, K rounds of
        # both, so a burst of outside load falls on both sides alike (the ratio is then side by side).
        alone_lat: list[float] = []
        writer_lat: list[float] = []
        elapsed = 0.0
        rss_start = 0
        rounds = max(1, args.alternate)
        for round_ in range(rounds):
            lat.clear()
            run(min(60.0, args.concurrent_seconds / 2) / rounds, with_writer=False)
            alone_lat += lat
            lat.clear()
            if round_ == 0:
                rss.clear()
                rss_start = rss_bytes(server)
            elapsed += run(args.concurrent_seconds / rounds, with_writer=True)
            writer_lat += lat
        readers_only = pct(alone_lat)
        rss_end = rss_bytes(server)
        idle_p95 = figures["idle_search"]["p95_ms"]  # type: ignore[index]
        search = pct(writer_lat)
        warm = rss[max(0, len(rss) // 10)] if rss else rss_start  # after the first tenth (allocator warm-up)
        figures["concurrent"] = {
            "seconds": args.concurrent_seconds, "readers": args.readers, "alternate": rounds,
            "reader_qps_each": args.reader_qps or "flat out", "writes": len(write_ms),
            "writes_per_second": round(len(write_ms) / elapsed, 2), "writes_per_second_target": args.writes_per_second,
            "write_ack": pct(write_ms), "search": search, "failed_requests": len(failures),
            "failures_sample": failures[:5], "search_idle": figures["idle_search"],
            "search_readers_only": readers_only,
            "search_p95_vs_idle": round(search["p95_ms"] / idle_p95, 2),
            "search_p95_vs_readers_only": round(search["p95_ms"] / readers_only["p95_ms"], 2),
            "rss_mb_start": round(rss_start / 2**20), "rss_mb_after_first_tenth": round(warm / 2**20),
            "rss_mb_end": round(rss_end / 2**20), "rss_mb_max": round(max(rss or [rss_end]) / 2**20),
            "rss_growth_after_first_tenth": round(rss_end / warm - 1, 4),
            "rss_growth_from_start": round(rss_end / rss_start - 1, 4)}
        print("concurrent:", figures["concurrent"], flush=True)
        failures.clear()

        pending = client.get("/health").json()["pending_log_entries"]
        stop.clear()
        lat.clear()
        failures.clear()
        readers = [threading.Thread(target=reader, args=(100 + s,)) for s in range(2)]
        for th in readers:
            th.start()
        t = time.perf_counter()
        r = client.post("/admin/compact", headers=AUTH, timeout=1800)
        seconds = time.perf_counter() - t
        stop.set()
        for th in readers:
            th.join()
        r.raise_for_status()
        figures["compaction"] = {"pending_entries": pending, "seconds": round(seconds, 2), "result": r.json(),
                                 "changed_fraction": round(pending / max(1, len(products)), 4),
                                 "searches_during": len(lat), "failed_requests": len(failures)}
        print("compaction:", figures["compaction"], flush=True)
    except BaseException:
        log = scratch / "server.log"
        if log.is_file():
            print("server log (tail):\n" + log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    print_targets(figures)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
