"""Benchmark: one request's signals on 1 thread vs N, in one process, each new query sent to every variant in turn.

A request alone on the Searcher spreads its signals over `signal_threads` (`search.signal_threads.InFlight`); this times
whole text queries (query embedding included, every query new: no embedding cache hit) through `Searcher.search` with
each setting, interleaved so that the machine's changing load falls on each alike. Queries: the texts of a relevance
set's queries.jsonl (``--queries``), else pairs of the catalog's facet values as `benchmarks/api_latency.py` builds them.
Usage:

    .venv/bin/python benchmarks/signal_threads.py --index IDX [--threads 1,2] [--queries rel/queries.jsonl] [--n 250]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from search.searcher import Searcher  # noqa: E402
from search.types import SearchRequest  # noqa: E402


def facet_pairs(searcher: Searcher, most_values: int = 50) -> list[str]:
    """Two values of two different attributes with at most ``most_values`` values each, e.g. "navy blue casual"
    (like the facet pairs `benchmarks/api_latency.py` sends)."""
    values: dict[str, set[str]] = {}
    for product in searcher.index.store.products:
        for name, value in (product.attributes or {}).items():
            if isinstance(value, str) and 1 < len(value) < 40:
                values.setdefault(name, set()).add(value.lower())
    small = {name: sorted(v) for name, v in sorted(values.items()) if len(v) <= most_values}
    return sorted({f"{a} {b}" for x, y in itertools.permutations(small, 2) for a in small[x] for b in small[y]})


def query_texts(path: Path) -> list[str]:
    """The distinct texts of a relevance set's queries.jsonl, sorted."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sorted({r["text"] for r in rows if r.get("text")})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--threads", default="1,2", help="comma-separated signal thread counts, the first the reference")
    parser.add_argument("--queries", type=Path, default=None, help="a relevance set's queries.jsonl (its texts)")
    parser.add_argument("--n", type=int, default=250, help="queries per variant (each new)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    base = Searcher.open(args.index, signal_threads=counts[0])
    variants = {f"{t} signal thread{'s' if t > 1 else ''}": base.with_signal_threads(t) for t in counts}
    texts = query_texts(args.queries) if args.queries is not None else facet_pairs(base)
    random.Random(args.seed).shuffle(texts)
    need = (args.n + 10) * len(variants)
    if len(texts) < need:
        print(f"only {len(texts)} distinct queries for {need} searches: some are embedded once and then cached",
              file=sys.stderr)
    queries = iter(itertools.cycle(texts))
    for searcher in variants.values():  # warm up
        for _ in range(10):
            searcher.search(SearchRequest(text=next(queries), k=10))
    ms: dict[str, list[float]] = {name: [] for name in variants}
    signals: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.n):
        for name, searcher in variants.items():
            start = time.perf_counter()
            response = searcher.search(SearchRequest(text=next(queries), k=10))
            ms[name].append((time.perf_counter() - start) * 1000)
            signals[name].append(response.timings_ms.get("signals", 0.0))
    print(f"{args.index}: {args.n} new text queries per variant, interleaved")
    print(f"{'variant':<20} {'p50 ms':>8} {'p95 ms':>8} {'signals p50':>12}")
    for name in variants:
        print(f"{name:<20} {np.percentile(ms[name], 50):8.2f} {np.percentile(ms[name], 95):8.2f} "
              f"{np.percentile(signals[name], 50):12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
