"""Two indexes of one catalog side by side through `Searcher.search`: per-stage ms and fused top-10 overlap.

    python benchmarks/searcher_side_by_side.py REFERENCE_INDEX OTHER_INDEX [--queries 150]

E.g. the same catalog built with ``--factory Flat`` (exact, the reference) and ``--factory auto``
(HNSW from 10k rows). Queries are the first three words of a seeded sample of product titles, run
interleaved (both indexes see the same machine load); prints p50/p95 ms of every `timings_ms`
stage and the mean share of the reference's fused top 10 that the other index also returns.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from search.searcher import Searcher
from search.types import SearchRequest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--queries", type=int, default=150)
    args = parser.parse_args()
    searchers = [Searcher.open(args.reference), Searcher.open(args.other)]
    products = searchers[0].index.store.products
    queries = [" ".join(p.title.split()[:3]) for p in random.Random(0).sample(products, args.queries)]
    for q in queries[:10]:  # warm-up
        for s in searchers:
            s.search(SearchRequest(text=q, k=10))
    timings: list[dict[str, list[float]]] = [{}, {}]
    overlap = []
    for q in queries:
        tops = []
        for s, stages in zip(searchers, timings, strict=True):
            response = s.search(SearchRequest(text=q, k=10))
            tops.append({h.product.id for h in response.hits})
            for stage, ms in response.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        overlap.append(len(tops[0] & tops[1]) / max(1, len(tops[0])))
    for path, stages in zip((args.reference, args.other), timings, strict=True):
        figures = {k: [round(float(np.percentile(v, p)), 2) for p in (50, 95)] for k, v in stages.items()}
        print(f"{path}: p50/p95 ms {json.dumps(figures)}")
    print(f"fused top-10 overlap with {args.reference}: {np.mean(overlap):.4f}")


if __name__ == "__main__":
    main()
