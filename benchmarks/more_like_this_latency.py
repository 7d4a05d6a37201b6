""""More like this" latency with and without the `attributes` signal's product query (issue #13), side by side in
one process: for each of N seeded product ids, the default request and the same request with `attributes` at weight 0
(the fusion of `semantic` and `image` alone, as before the product query), in alternating order. Prints each
variant's p50/p95 of `Searcher.search` and of the `attributes` stage, and their ratios. Asserts nothing.

    .venv/bin/python benchmarks/more_like_this_latency.py --index /tmp/br3/index --queries 100 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    from search.searcher import Searcher
    from search.types import SearchRequest

    searcher = Searcher.open(args.index)
    products = searcher.index.store.products
    ids = [products[i].id for i in random.Random(args.seed).sample(range(len(products)), args.queries)]
    variants = {"vectors only (attributes 0)": {"attributes": 0.0}, "default (type first)": None}
    for pid in ids[:10]:  # warm-up: the vocabulary, the kernels, the first searches
        for weights in variants.values():
            searcher.search(SearchRequest(product_id=pid, k=10, weights=weights))
    totals: dict[str, list[float]] = {name: [] for name in variants}
    stages: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(args.rounds):
        for i, pid in enumerate(ids):
            names = list(variants) if (i + r) % 2 == 0 else list(variants)[::-1]
            for name in names:
                start = time.perf_counter()
                response = searcher.search(SearchRequest(product_id=pid, k=10, weights=variants[name]))
                totals[name].append((time.perf_counter() - start) * 1000)
                stages[name].append(response.timings_ms.get("attributes", 0.0))
    print(f"{len(ids)} product ids x {args.rounds} rounds on {args.index} ({len(products)} products)")
    p = {name: (np.percentile(v, 50), np.percentile(v, 95)) for name, v in totals.items()}
    for name in variants:
        s50, s95 = np.percentile(stages[name], 50), np.percentile(stages[name], 95)
        print(f"  {name:28s} search p50 {p[name][0]:.2f} ms, p95 {p[name][1]:.2f} ms; "
              f"attributes stage p50 {s50:.2f}, p95 {s95:.2f} ms")
    old, new = (p[name] for name in variants)
    print(f"  ratio default / vectors only: p50 {new[0] / old[0]:.2f}, p95 {new[1] / old[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
