"""Benchmark: live writes (#12) against a served index, through HTTP.

Copies the index's current version and embedding cache to a scratch directory (the original is never
written), serves the copy with `prodsearch serve`, and measures:

  1. idle text-search latency (the baseline for 4);
  2. upserts of new products, each with a new photo (a catalog photo with a random patch, so its bytes
     and vector are new): time from sending the PUT to its ack (an acked write is already searchable;
     a search for the product's unique word checks it) -- target p95 <= 1 s;
  3. price-only PATCHes -- target p95 <= 50 ms; a batch of new products with new photos in one
     POST /products/batch -- target 1,000 in <= 15 s;
  4. readers (8 threads) searching alone (the baseline), then while a writer upserts at 10/s: failed
     requests, search p95 against the readers-only baseline (target <= 1.25x), the server's RSS before
     and after the writing phase (target flat within 10 %);
  5. compaction (POST /admin/compact) with every write so far pending, while the readers keep searching
     -- target <= 60 s at 44k products with 5 % changed, no failed request.

    .venv/bin/python benchmarks/live_updates.py --index .prodsearch/fixture-index-real --images-root fixtures
    .venv/bin/python benchmarks/live_updates.py --index .prodsearch/build-rate/index \
        --images-root ../shared/datasets/fashion-product-images --batch 1000 --concurrent-seconds 300
"""

from __future__ import annotations

import argparse
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


def new_product(i: int, photo: str, template: dict) -> dict:  # type: ignore[type-arg]
    word = f"livebench{i}x"
    return {"id": f"live-{i}", "title": f"{template['title']} {word}", "brand": template.get("brand", ""),
            "category": template.get("category", []), "attributes": template.get("attributes", {}),
            "description": template.get("description", "")[:200], "price": round(10 + i % 90, 2),
            "currency": "USD", "images": [photo]}


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
                                 str(port), "--images-root", str(scratch / "photos")], env=env, cwd=REPO,
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
        writes = [0]

        def reader(seed: int) -> None:
            r_rng = random.Random(seed)
            with httpx.Client(base_url=url, timeout=120) as c:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    try:
                        resp = c.get("/search", params={"q": r_rng.choice(QUERIES)})
                        ok = resp.status_code == 200
                    except httpx.HTTPError as exc:
                        ok, resp = False, exc
                    lat.append((time.perf_counter() - t0) * 1000)
                    if not ok:
                        failures.append(str(resp)[:200])

        def writer() -> None:
            w_rng = random.Random(7)
            with httpx.Client(base_url=url, timeout=120, headers=AUTH) as c:
                i = 200_000
                while not stop.is_set():
                    t0 = time.perf_counter()
                    body = new_product(i, maker.make(f"w{i}"), w_rng.choice(products))
                    if c.put(f"/products/{body['id']}", json=body).status_code != 200:
                        failures.append("write failed")
                    writes[0] += 1
                    i += 1
                    time.sleep(max(0.0, 1 / args.writes_per_second - (time.perf_counter() - t0)))

        def run(seconds: float, with_writer: bool) -> None:
            stop.clear()
            threads = [threading.Thread(target=reader, args=(s,)) for s in range(args.readers)]
            threads += [threading.Thread(target=writer)] if with_writer else []
            for th in threads:
                th.start()
            time.sleep(seconds)
            stop.set()
            for th in threads:
                th.join()

        run(args.concurrent_seconds / 2, with_writer=False)  # the same readers without the writer: the baseline
        readers_only = pct(lat)
        lat.clear()
        rss_before = server.memory_info().rss
        run(args.concurrent_seconds, with_writer=True)
        rss_after = server.memory_info().rss
        figures["concurrent"] = {"seconds": args.concurrent_seconds, "readers": args.readers, "writes": writes[0],
                                 "writes_per_second": round(writes[0] / args.concurrent_seconds, 2),
                                 "search": pct(lat), "failed_requests": len(failures),
                                 "search_readers_only": readers_only,
                                 "search_p95_vs_readers_only": round(pct(lat)["p95_ms"] / readers_only["p95_ms"], 2),
                                 "rss_mb_before": round(rss_before / 2**20), "rss_mb_after": round(rss_after / 2**20)}
        print("concurrent:", figures["concurrent"], flush=True)

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
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
