"""Index specs side by side on a built index's real vectors: build time, recall@10, single-query latency.

    python benchmarks/vector_specs.py INDEX_DIR [--specs Flat HNSW32,efSearch=64 ...] [--queries 500]

Reads the vector fields of INDEX_DIR (any backend), rebuilds each field with every spec in the
faiss backend, and prints per field and spec: build seconds, recall@10 against exact search on
the build's own query sample (`indexer.recall`), and p50/p95 ms of one query at a time (one
thread, as the server searches; --k hits), unfiltered and with a random 10% mask. This is what
`indexer.index_specs.AUTO_APPROX` / `AUTO_EXACT_BELOW` were chosen from.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.index_specs import format_spec, parse_factory
from indexer.loaded import load_index
from indexer.recall import recall_at_k, recall_queries
from indexer.vector_index import use_single_thread_search
from indexer.vector_store import RowFilter, create_store

DEFAULT_SPECS = ["Flat", "HNSW32,efSearch=32", "HNSW32,efSearch=64", "HNSW32,efConstruction=80,efSearch=128",
                 "IVF1024,Flat,nprobe=16", "IVF1024,SQ8,nprobe=24"]


def latency_ms(store, name: str, queries: np.ndarray, mask: np.ndarray | None, k: int) -> tuple[float, float]:
    allowed = None if mask is None else RowFilter(mask=mask)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        store.search(name, q.reshape(1, -1), k, allowed)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--specs", nargs="+", default=DEFAULT_SPECS)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--fields", nargs="+", default=None)
    parser.add_argument("--k", type=int, default=100, help="hits per timed query (the Searcher asks candidate_depth)")
    args = parser.parse_args()
    use_single_thread_search()
    index = load_index(args.index, verify_checksums=False, device="cpu")
    names = args.fields or list(index.vector_store.fields())
    vectors = {n: index.stored_vectors(n, np.arange(index.vector_count(n))) for n in index.vector_store.fields()}
    index.close()
    queries = recall_queries(vectors, args.queries)
    rng = np.random.default_rng(0)
    print(f"{'field':<10} {'rows':>7} {'spec':<42} {'build s':>8} {'recall@10':>9} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'10% p50':>8} {'10% p95':>8}")
    for name in names:
        x = vectors[name]
        mask = rng.random(len(x)) < 0.10
        for text in args.specs:
            spec = parse_factory(text)
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                store = create_store("faiss", {name: x}, {name: spec}, Path(tmp), device="cpu")
                build = time.perf_counter() - t0
                recall = recall_at_k(store, name, queries[name], x)
                p50, p95 = latency_ms(store, name, queries[name][:200], None, args.k)
                f50, f95 = latency_ms(store, name, queries[name][:200], mask, args.k)
                store.close()
            print(f"{name:<10} {len(x):>7} {format_spec(spec):<42} {build:>8.1f} {recall:>9.4f} {p50:>7.2f} {p95:>7.2f} "
                  f"{f50:>8.2f} {f95:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
