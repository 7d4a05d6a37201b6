"""Per-query cost of query understanding on a built index: the `understand` (parse), `attributes` (the signal's
retrieval) and `total_estimate` (relevant-set count + `understood`) stages of `Searcher.search`, p50/p95 over a
relevance set's text queries, and the vocabulary's build time. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/understanding_latency.py --index .prodsearch/attributes-weight/index-10000 \\
        --queries .prodsearch/attributes-weight/relevance-10000/queries.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

STAGES = ("understand", "attributes", "total_estimate", "lexical", "total")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args(argv)
    from search.searcher import Searcher
    from search.types import SearchRequest
    from search.understanding import QueryUnderstanding

    searcher = Searcher.open(args.index)
    start = time.perf_counter()
    searcher.understanding  # noqa: B018  (built now, timed)
    build_s = time.perf_counter() - start
    texts = [q["text"] for q in map(json.loads, args.queries.read_text().splitlines()) if q.get("text")][:args.limit]
    for text in texts[:20]:  # warm the encoders' caches and numpy
        searcher.search(SearchRequest(text=text, k=10))
    seen: dict[str, list[float]] = {s: [] for s in STAGES}
    for text in texts:
        searcher.understanding.parse.cache_clear()  # every parse counted cold
        timings = searcher.search(SearchRequest(text=text, k=10)).timings_ms
        for s in STAGES:
            seen[s].append(timings.get(s, 0.0))
    added = np.array(seen["understand"]) + np.array(seen["attributes"]) + np.array(seen["total_estimate"])
    print(f"{searcher.index.n_products} products, {len(texts)} text queries; vocabulary+synonyms+spelling built in "
          f"{build_s:.2f} s")
    for s in STAGES:
        v = np.array(seen[s])
        print(f"  {s:15s} p50 {np.percentile(v, 50):7.3f} ms   p95 {np.percentile(v, 95):7.3f} ms")
    print(f"  {'understanding':15s} p50 {np.percentile(added, 50):7.3f} ms   p95 {np.percentile(added, 95):7.3f} ms"
          "   (understand + attributes + total_estimate)")
    parse_only = []
    qu: QueryUnderstanding = searcher.understanding
    for text in texts:
        qu.parse.cache_clear()
        t0 = time.perf_counter()
        qu.parse(text)
        parse_only.append((time.perf_counter() - t0) * 1000)
    print(f"  parse alone     p50 {np.percentile(parse_only, 50):7.3f} ms   p95 {np.percentile(parse_only, 95):7.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
