"""Benchmark: what the live delta adds to one search, as pending writes grow (#12), in process.

Loads an index, searches it as built (the baseline), then writes N products into its live state (copies
of catalog products with a new word each and random unit vectors: no encoder runs, so only the search
side is measured) and searches the live snapshot, for each N of --pending. The figures are per search,
one thread, the same queries; the delta's cost should stay small and grow slowly with N.

    .venv/bin/python benchmarks/live_delta_cost.py --index <44k index> --pending 0,1000,5000

The index is only read (the writes stay in memory).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from indexer.live.embed import EmbeddedProduct  # noqa: E402
from indexer.live.log import LogEntry  # noqa: E402
from indexer.live.segment import LiveState  # noqa: E402
from indexer.onnx_text import use_exported_for_queries  # noqa: E402
from search.live import live_searcher  # noqa: E402
from search.searcher import Searcher  # noqa: E402
from search.types import SearchRequest  # noqa: E402

QUERIES = ["red t-shirt", "blue jeans for men", "black leather shoes", "women handbag", "white sneakers",
           "green kurta", "sports watch", "summer dress", "casual shirt", "running shoes"]


def timed(searcher: Searcher, n: int) -> dict[str, float]:
    for q in QUERIES:  # warm: query vectors cached, per-snapshot structures built
        searcher.search(SearchRequest(text=q))
    ms = []
    for i in range(n):
        t = time.perf_counter()
        searcher.search(SearchRequest(text=QUERIES[i % len(QUERIES)]))
        ms.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--pending", default="0,1000,5000", help="comma-separated pending-write counts")
    parser.add_argument("--searches", type=int, default=100)
    args = parser.parse_args()

    searcher = Searcher.open(args.index)
    use_exported_for_queries(searcher.encoders.text, searcher.index.manifest.embedding_cache)
    live = LiveState(searcher.index)
    live.warm()
    products = searcher.index.store.products
    dims = {name: searcher.index.vector_store.dim(searcher.index.vector_fields[name]) for name in ("text", "clip_text", "image")}
    rng = np.random.default_rng(0)

    def unit(d: int) -> np.ndarray:
        v = rng.standard_normal(d).astype(np.float32)
        return v / np.linalg.norm(v)

    print(f"index as built: {timed(searcher, args.searches)}", flush=True)
    seq = 0
    for target in (int(x) for x in args.pending.split(",")):
        batch = []
        while live.snapshot.n_delta + len(batch) < target:
            seq += 1
            p = products[seq % len(products)]
            p = p.model_copy(update={"id": f"live-{seq}", "title": f"{p.title} livebench{seq}x"})
            batch.append((LogEntry(seq=seq, op="upsert", id=p.id), EmbeddedProduct(
                p, "", "", unit(dims["text"]), unit(dims["clip_text"]), unit(dims["image"])[None, :], (f"h{seq}",), None)))
        if batch:
            live.apply(batch)
        t = time.perf_counter()
        live_view = live_searcher(searcher, live.snapshot)
        first = time.perf_counter()
        live_view.search(SearchRequest(text=QUERIES[0]))
        done = time.perf_counter()
        print(f"{target:>6} pending: {timed(live_view, args.searches)}; first search of a new snapshot "
              f"{(done - first) * 1000:.1f} ms (+ {(first - t) * 1000:.2f} ms to make it)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
