"""Benchmark: single-query FAISS Flat search latency with 1 vs 2 OpenMP threads, side by side.

    .venv/bin/python benchmarks/faiss_threads.py [--n 44000] [--dim 384] [--k 1000]
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=44_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    x = np.random.default_rng(0).standard_normal((args.n, args.dim)).astype(np.float32)
    faiss.normalize_L2(x)
    index = faiss.IndexFlatIP(args.dim)
    index.add(x)
    results = {}
    for _round in range(2):  # interleave to share the machine's noise
        for threads in (2, 1):
            faiss.omp_set_num_threads(threads)
            index.search(x[:1], args.k)
            start = time.perf_counter()
            for i in range(args.repeats):
                index.search(x[i:i + 1], args.k)
            results.setdefault(threads, []).append((time.perf_counter() - start) / args.repeats * 1000)
    for threads, ms in results.items():
        print(f"{threads} thread(s): {min(ms):6.2f} ms per query (best of rounds {[f'{m:.2f}' for m in ms]})")
    print(f"ratio 2 threads / 1 thread: {min(results[2]) / min(results[1]):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
