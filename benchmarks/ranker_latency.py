"""Latency of the learned second stage: features + LightGBM scoring + re-ordering of the fused top N.

Target (issue #13): <= 3 ms p95 for 200 candidates. The candidates are synthetic (1000-deep runs for
every registered signal over a synthetic catalog with real-looking titles), so the figure is the
ranker's own cost, independent of any index; pass ``--model`` to time a trained `ranker.json`
(default: a model trained here on random labels with the training defaults, same size).

    .venv/bin/python benchmarks/ranker_latency.py [--candidates 200] [--model eval-ranker/ranker.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indexer.catalog import Product  # noqa: E402
from search.fusion import Run, fuse  # noqa: E402
from search.ranker import ProductWords, QueryInfo, build_features, load_ranker, train_ranker  # noqa: E402
from search.signals import signal_names  # noqa: E402

COLOURS = ["red", "blue", "black", "white", "green", "navy", "pink", "grey"]
TYPES = ["t-shirt", "shirt", "jeans", "dress", "sneakers", "handbag", "watch", "kurta"]


def catalog(n: int, rng: np.random.Generator) -> list[Product]:
    return [Product(id=str(i), title=f"Brand{i % 50} Men {COLOURS[i % 8]} Cotton {TYPES[(i // 8) % 8]}",
                    brand=f"Brand{i % 50}", category=["Apparel", "Topwear", TYPES[(i // 8) % 8]],
                    attributes={"colour": COLOURS[i % 8], "gender": "Men", "usage": "Casual"}) for i in range(n)]


def runs_for(n_products: int, depth: int, rng: np.random.Generator) -> dict[str, Run]:
    out = {}
    for name in signal_names():
        docs = rng.choice(n_products, depth, replace=False).astype(np.int64)
        out[name] = Run(docs, np.sort(rng.random(depth))[::-1].copy())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--products", type=int, default=44_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    products = catalog(args.products, rng)
    words, has_photo = ProductWords(products), np.ones(len(products), bool)
    signals = signal_names()
    query = QueryInfo("red cotton t-shirt for men", False, False)
    if args.model:
        ranker = load_ranker(args.model)
    else:
        feats, labels = [], []
        for _ in range(50):
            runs = runs_for(len(products), 1000, rng)
            head = fuse(runs, "weighted", norm="min-max")
            head = Run(head.docs[:args.candidates], head.scores[:args.candidates])
            feats.append(build_features(runs, head, query, words, has_photo, signals))
            labels.append(rng.integers(0, 3, len(head)))
        ranker = train_ranker(feats, labels, signals, depth=args.candidates)
    wall, cpu = [], []
    for i in range(args.queries):
        runs = runs_for(len(products), 1000, rng)
        fused = fuse(runs, "weighted", norm="min-max")
        start, start_cpu = time.perf_counter(), time.thread_time()
        ranker.rerank(runs, fused, query, words, has_photo, args.candidates)
        if i >= 20:  # warm-up
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    print(f"ranker re-rank of {args.candidates} candidates ({len(signals)} signals, "
          f"{ranker.booster.num_trees()} trees, {ranker.booster.num_feature()} features), {len(wall)} queries "
          "(target p95 <= 3 ms):")
    for name, t in (("wall", np.array(wall)), ("thread CPU", np.array(cpu))):
        print(f"  {name}: p50 {np.percentile(t, 50):.3f} ms, p95 {np.percentile(t, 95):.3f} ms, "
              f"p99 {np.percentile(t, 99):.3f} ms")
    print("  (wall time includes waiting for a core on a busy machine; thread CPU time does not)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
