"""Benchmark: the milvus backend on Milvus Lite against a faiss Flat scan, side by side in one run.

Random unit vectors with synthetic products (100 brands), per index type: insert + index time, then
single-query search latency unfiltered, with a ~1% brand filter run as a Milvus expression, and with
a 10% mask alone (row ids). Queries are stored vectors plus noise.

    .venv/bin/python benchmarks/milvus_lite_latency.py [--n 44000] [--dim 384] [--k 100] [--queries 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from indexer.catalog import Product
from indexer.milvus_store import create_milvus_store
from indexer.vector_store import FieldSpec, RowFilter


def _percentiles(times_ms: list[float]) -> str:
    return f"{np.percentile(times_ms, 50):.1f} / {np.percentile(times_ms, 95):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=44_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, args.dim)).astype(np.float32)
    faiss.normalize_L2(x)
    products = [Product(id=f"p{i}", title="t", brand=f"brand{i % 100}", category=["a"], price=float(i % 300))
                for i in range(args.n)]
    queries = x[rng.integers(0, args.n, args.queries)] + 0.05 * rng.standard_normal((args.queries, args.dim)).astype(np.float32)
    ten_percent = np.arange(args.n) % 10 == 0
    cases = {"unfiltered": None, "brand filter (~1%, expression)": RowFilter(filters={"brand": ["brand0"]}),
             "10% mask (row ids)": RowFilter(mask=ten_percent)}
    print(f"{args.n} x {args.dim} vectors, top-{args.k}, {args.queries} queries; p50 / p95 ms")
    for factory in ("HNSW32,efSearch=64", "Flat"):
        name, _, param = factory.partition(",")
        spec = FieldSpec(name, {"efSearch": int(param.split("=")[1])} if param else {})
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            store = create_milvus_store({"text": x}, {"text": spec}, Path(tmp), products=products)
            store.save(Path(tmp))
            built = time.perf_counter() - t0
            store.search("text", queries[:1], args.k)
            line = [f"milvus-lite {factory}: insert+index {built:.1f} s"]
            for label, allowed in cases.items():
                times = []
                for q in queries:
                    t = time.perf_counter()
                    store.search("text", q.reshape(1, -1), args.k, allowed)
                    times.append((time.perf_counter() - t) * 1000)
                line.append(f"{label} {_percentiles(times)}")
            store.close()
            print("; ".join(line), flush=True)
    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatIP(args.dim)
    index.add(x)
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(q.reshape(1, -1), args.k)
        times.append((time.perf_counter() - t) * 1000)
    print(f"faiss Flat (1 thread): unfiltered {_percentiles(times)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
