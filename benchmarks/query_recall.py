"""Benchmark: recall@10 of each approximate vector field for real text queries, as a search asks it.

The build checks recall with the vectors a field is queried with that it has at hand: products' stored vectors (the
`indexer.recall` sample). A shopper's short query lies elsewhere in the embedding space, where a graph or a list
structure built from product vectors may guide a search less well; this measures that: query texts (a relevance
set's ``--queries``, else facet-value pairs as `benchmarks/api_latency.py` sends) embedded as served (the text
encoder's query path: int8 by default; the CLIP text tower for the photo field), searched in each approximate field
(a) as the build measures (k=10, the recorded search parameters) and (b) as a search does (k = the candidate depth,
which widens an HNSW efSearch to it), against exact search over the field's vectors. A hit counts when its exact
score reaches the exact 10th-best (ties are not misses), as in `indexer.recall` (`recall_per_query`). Usage:

    .venv/bin/python benchmarks/query_recall.py --index IDX [--queries rel/queries.jsonl] [--n 400]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from signal_threads import facet_pairs, query_texts  # noqa: E402

from indexer.recall import RECALL_K, recall_per_query  # noqa: E402
from search.searcher import Searcher  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=None, help="a relevance set's queries.jsonl (its texts)")
    parser.add_argument("--n", type=int, default=400, help="distinct query texts (a seeded sample)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    searcher = Searcher.open(args.index)
    if args.queries is not None:
        texts, source = query_texts(args.queries), str(args.queries)
    else:
        texts, source = facet_pairs(searcher), "facet-value pairs"
    random.Random(args.seed).shuffle(texts)
    texts = texts[: args.n]
    text = searcher.encoders.text
    queried = {"text": getattr(text, "encode_queries", text.encode_texts)(texts),  # the `semantic` signal's query
               "image": searcher.encoders.clip.encode_texts(texts)}  # the `visual` signal's
    store, depth = searcher.index.vector_store, min(searcher.config.candidate_depth, searcher.index.n_products)
    print(f"{args.index}: {len(texts)} query texts ({source}); candidate depth {depth}")
    print(f"{'field':<8} {'spec':<34} {'recall@10, k=10':>16} {f'k={depth}':>9} {'queries < 0.9':>14}")
    for field, q in queried.items():
        if field not in store.fields():
            continue
        spec = store.spec(field) if hasattr(store, "spec") else None
        if spec is not None and spec.factory.split(",")[0] == "Flat":
            print(f"{field:<8} {spec.factory:<34} exact: nothing to measure")
            continue
        q = np.ascontiguousarray(q, np.float32)
        vectors = store.vectors(field, np.arange(store.count(field)))
        at_k = recall_per_query(q, vectors, store.search(field, q, RECALL_K)[1], RECALL_K)
        at_depth = recall_per_query(q, vectors, store.search(field, q, depth)[1], RECALL_K)
        described = f"{spec.factory} {spec.params}" if spec is not None else "?"
        print(f"{field:<8} {described[:34]:<34} {at_k.mean():16.4f} {at_depth.mean():9.4f} "
              f"{(at_depth < 0.9).mean():14.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
