"""Per-query cost of query understanding and the learned second stage on a built index (issue #13: together
<= 3 ms p95 per query): the `understand` (parse + the rewritten query), `attributes` (the signal's retrieval),
`total_estimate` (relevant-set count + `understood`) and `rerank` (ranker features + LightGBM + re-ordering)
stages of `Searcher.search`, wall p50/p95 over distinct text queries, every parse cold. Prints figures; asserts
nothing.

    .venv/bin/python benchmarks/understanding_latency.py --index IDX --catalog CATALOG.jsonl \\
        [--ranker RANKER/ranker.json [--ranker-depths 200,100]] [--limit 300] [--infer]   # queries derived from the catalog
                                                                              # (+ typo and synonym variants)
    .venv/bin/python benchmarks/understanding_latency.py --index IDX --queries REL/queries.jsonl [--ranker ...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

STAGES = ("understand", "attributes", "total_estimate", "rerank", "lexical", "total")
ADDED = ("understand", "attributes", "total_estimate", "rerank")  # what understanding and the ranker add


def query_texts(args: argparse.Namespace) -> list[str]:
    """Distinct text queries: from a queries file, or derived from the catalog with typo and synonym variants."""
    if args.queries:
        rows = [json.loads(line) for line in args.queries.read_text().splitlines() if line.strip()]
    else:
        from eval.derive import derive_relevance
        from eval.perturb import catalog_value_keys, catalog_words, load_shop_synonyms, perturb_queries
        from indexer.catalog import load_catalog

        catalog = load_catalog(args.catalog, skip_invalid=True)
        rows = derive_relevance(catalog, n_text=args.limit, n_photo=0, seed=args.seed).queries
        keys = catalog_value_keys(catalog.products)
        rows += perturb_queries(rows, ["typos", "synonyms"], args.seed,
                                synonyms=lambda: load_shop_synonyms(catalog_keys=keys),
                                known_words=catalog_words(catalog.products))
    texts = list(dict.fromkeys(r["text"] for r in rows if r.get("text")))
    random.Random(args.seed).shuffle(texts)
    return texts[:args.limit]


def record_thread_cpu() -> dict[str, float]:
    """The Searcher's stage timer, also adding each stage's thread CPU milliseconds to the returned dict."""
    from contextlib import contextmanager

    import search.searcher
    import search.signals

    cpu: dict[str, float] = {}

    @contextmanager
    def timed(timings: dict[str, float], stage: str):  # type: ignore[no-untyped-def]
        wall, used = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - wall) * 1000
            cpu[stage] = cpu.get(stage, 0.0) + (time.thread_time() - used) * 1000

    search.searcher._timed = timed  # type: ignore[assignment]
    search.signals.timed = timed  # type: ignore[assignment]
    return cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--queries", type=Path, help="a queries JSONL (its text queries are used)")
    source.add_argument("--catalog", type=Path, help="derive the queries from this catalog (the index's)")
    parser.add_argument("--ranker", type=Path, default=None, help="a ranker.json to re-rank with (the second stage)")
    parser.add_argument("--ranker-depths", default="", help="with --ranker: candidates re-ranked, comma-separated "
                        "(e.g. 200,100), timed side by side query by query (default: the model's own depth)")
    parser.add_argument("--limit", type=int, default=300, help="distinct text queries")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--infer", action="store_true",
                        help="also time cold parses with and without inferred values (`search.value_inference`)")
    args = parser.parse_args(argv)
    from search.ranker import load_ranker
    from search.searcher import Searcher
    from search.types import SearchRequest

    cpu = record_thread_cpu()
    searcher = Searcher.open(args.index)
    if args.ranker:
        searcher.ranker = load_ranker(args.ranker)
    start = time.perf_counter()
    searcher.understanding  # noqa: B018  (built now, timed)
    build_s = time.perf_counter() - start
    texts = query_texts(args)
    for text in texts[:20]:  # warm the encoders, numpy, the ranker's product words
        searcher.search(SearchRequest(text=text, k=10))
    depths = [int(d) for d in args.ranker_depths.split(",")] if searcher.ranker and args.ranker_depths else [None]
    seen = {d: {s: [] for s in STAGES} for d in depths}
    seen_cpu = {d: {s: [] for s in ADDED} for d in depths}
    for text in texts:
        for d in depths:  # the depths interleaved query by query: the same machine load for each
            searcher.config = searcher.config.model_copy(update={"ranker_depth": d})
            searcher.understanding.parse.cache_clear()  # every parse counted cold
            cpu.clear()
            timings = searcher.search(SearchRequest(text=text, k=10)).timings_ms
            for s in STAGES:
                seen[d][s].append(timings.get(s, 0.0))
            for s in ADDED:
                seen_cpu[d][s].append(cpu.get(s, 0.0))
    print(f"{searcher.index.n_products} products, {len(texts)} distinct text queries, "
          f"{f'ranker {args.ranker.name}' if searcher.ranker else 'no ranker'}; vocabulary+synonyms+spelling built "
          f"in {build_s:.2f} s; load average {os.getloadavg()[0]:.1f}")
    for d in depths:
        if searcher.ranker:
            print(f"re-ranking the top {d or searcher.ranker.depth}:")
        for s in STAGES:
            v = np.array(seen[d][s])
            print(f"  {s:15s} p50 {np.percentile(v, 50):7.3f} ms   p95 {np.percentile(v, 95):7.3f} ms")
        added = np.sum([np.array(seen[d][s]) for s in ADDED], axis=0)
        print(f"  {'added':15s} p50 {np.percentile(added, 50):7.3f} ms   p95 {np.percentile(added, 95):7.3f} ms"
              f"   ({' + '.join(ADDED)}; target p95 <= 3 ms)")
        print("  thread CPU (no waiting for a core on a busy machine):")
        for s in ADDED:
            v = np.array(seen_cpu[d][s])
            print(f"    {s:13s} p50 {np.percentile(v, 50):7.3f} ms   p95 {np.percentile(v, 95):7.3f} ms")
        added_cpu = np.sum([np.array(seen_cpu[d][s]) for s in ADDED], axis=0)
        print(f"    {'added':13s} p50 {np.percentile(added_cpu, 50):7.3f} ms   p95 {np.percentile(added_cpu, 95):7.3f} ms")
    parse_only = []
    for text in texts:
        searcher.understanding.parse.cache_clear()
        t0 = time.perf_counter()
        searcher.understanding.parse(text)
        parse_only.append((time.perf_counter() - t0) * 1000)
    print(f"  parse alone     p50 {np.percentile(parse_only, 50):7.3f} ms   p95 {np.percentile(parse_only, 95):7.3f} ms")
    if args.infer:  # the same parses, cold, with and without inferred values, query by query (one machine load)
        from search.understanding import QueryUnderstanding

        plain = searcher.understanding
        inferring = QueryUnderstanding(plain.vocabulary, plain.synonyms)
        t0 = time.perf_counter()
        inference = inferring.infer_with(searcher.encoders.text.encode_texts)
        print(f"inferred values: {sum(map(len, inference.names.values()))} value names of {len(inference.names)} "
              f"fields embedded in {time.perf_counter() - t0:.2f} s")
        pairs: dict[str, list[float]] = {"parse": [], "parse + inferred": []}
        inferred_queries = 0
        for text in texts:
            for name, qu in (("parse", plain), ("parse + inferred", inferring)):
                qu.parse.cache_clear()
                inference.clear()
                t0 = time.perf_counter()
                parsed = qu.parse(text)
                pairs[name].append((time.perf_counter() - t0) * 1000)
                inferred_queries += qu is inferring and any(m.via == "inferred" for g in parsed.groups for m in g.matches)
        for name, v in pairs.items():
            print(f"  {name:17s} p50 {np.percentile(v, 50):7.3f} ms   p95 {np.percentile(v, 95):7.3f} ms")
        print(f"  queries with an inferred value: {inferred_queries}/{len(texts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
