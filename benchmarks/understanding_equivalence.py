"""On a built index, the code before issue #13's latency work (the reference copies in
tests/search/test_latency_equivalence.py) and today's, side by side in one process, query by query (each query
twice, the second pass timed): the `attributes` signal's run, the ranker's features and scores must be identical (it
stops at the first difference), with p50/p95 of each. Prints figures.

    .venv/bin/python benchmarks/understanding_equivalence.py --index IDX --catalog CATALOG.jsonl --ranker RANKER.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "search")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> int:
    from test_latency_equivalence import assert_same_run, reference_build_features, reference_retrieve_attributes

    from benchmarks.understanding_latency import query_texts
    from search.attribute_scoring import retrieve_attributes
    from search.fusion import Run, fuse
    from search.ranker import QueryInfo, build_features, load_ranker
    from search.searcher import Searcher
    from search.signals import QueryContext
    from search.types import SearchRequest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--ranker", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    args.queries = None
    s = Searcher.open(args.index)
    s.ranker = load_ranker(args.ranker)
    r, u = s.ranker, s.understanding
    texts = query_texts(args)
    words, has_photo = s._ranker_inputs
    times: dict[str, list[float]] = {k: [] for k in ("attributes_old", "attributes_new", "rerank_old", "rerank_new")}
    for timed in (False, True):
        for text in texts:
            req = SearchRequest(text=text, k=10)
            runs = s.retrieve(req)
            parsed = u.parse(text)
            depth = min(s.config.candidate_depth, s.index.n_products)
            ctx = QueryContext(s, s.signal_text(req), None, None, depth, None, {}, typed_text=text)
            if parsed:
                ctx.search_lexical(ctx.text)
                t0 = time.perf_counter()
                old = reference_retrieve_attributes(ctx, parsed)
                t1 = time.perf_counter()
                new = retrieve_attributes(ctx, parsed)
                t2 = time.perf_counter()
                assert_same_run(new, old)
                if timed:
                    times["attributes_old"].append((t1 - t0) * 1e3)
                    times["attributes_new"].append((t2 - t1) * 1e3)
            fused = fuse(runs, method=s.config.fusion, weights=s.config.weights, rrf_k=s.config.rrf_k,
                         norm=s.config.norm)
            head = Run(fused.docs[:r.depth], fused.scores[:r.depth])
            q = QueryInfo(s.signal_text(req), False, False)
            t0 = time.perf_counter()
            x_old = reference_build_features(runs, head, q, words, has_photo, r.signals)
            p_old = np.asarray(r.booster.predict(x_old, num_threads=1), np.float64)
            t1 = time.perf_counter()
            x_new = build_features(runs, head, q, words, has_photo, r.signals)
            p_new = r.score(x_new)
            t2 = time.perf_counter()
            if not (np.array_equal(x_old, x_new, equal_nan=True) and np.array_equal(p_old, p_new)):
                raise SystemExit(f"features or scores differ for {text!r}")
            if timed:
                times["rerank_old"].append((t1 - t0) * 1e3)
                times["rerank_new"].append((t2 - t1) * 1e3)
    print(f"{s.index.n_products} products, {len(texts)} queries x2: attributes runs, ranker features and scores "
          f"identical (ranker features+scores of the top {r.depth}); load average {os.getloadavg()[0]:.1f}")
    for k, v in times.items():
        print(f"  {k:15s} p50 {np.percentile(v, 50):.3f} ms   p95 {np.percentile(v, 95):.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
