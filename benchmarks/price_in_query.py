"""Prices typed into the query (issue #13): the wording probe's queries with a budget, price_from_text on vs off.

Each query of the shopper wording probe (`shopper_wording.py`, everyday words graded by catalog attributes) gets
" under X" appended, X = the median price of its grade-2 products (so about half of them fit), and is graded by the
probe's grades of the products priced at most X. Side by side in one process, the engine's config with
`price_from_text` off (the budget words searched as text) and on (the budget is the price filter): nDCG@10 and
the share of the top 10 within the budget, and the median search time. Asserts nothing.

    .venv/bin/python benchmarks/price_in_query.py --catalog /tmp/br3/catalog.jsonl --index /tmp/br3/index
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def budget_queries(probes: Sequence, qrels: Mapping[str, Mapping[str, int]], prices: Mapping[str, float | None],
                   min_fitting: int = 3) -> list[tuple[str, str, float, dict[str, int]]]:
    """(id, text + " under X", X, grades of the products priced <= X) per probe query with at least ``min_fitting``
    priced grade-2 products; X = their median price, rounded."""
    out = []
    for p in probes:
        good = [prices[d] for d, g in qrels[p.id].items() if g == 2 and prices.get(d) is not None]
        if len(good) < min_fitting:
            continue
        budget = float(round(statistics.median(good)))
        fits = {d: g for d, g in qrels[p.id].items() if prices.get(d) is not None and prices[d] <= budget}
        out.append((p.id, f"{p.text} under {budget:g}", budget, fits))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--words", default="fresh2", help="the wording probe's word list (core, fresh, fresh2)")
    parser.add_argument("--per-family", type=int, default=25)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not args.catalog.is_file():
        print(f"skipped: no catalog at {args.catalog}")
        return 0
    import numpy as np
    from shopper_wording import WORD_LISTS, build_probe

    from eval.metrics import query_metric
    from eval.runner import open_searcher
    from indexer.catalog import load_catalog
    from search.types import SearchRequest

    products = load_catalog(args.catalog, skip_invalid=True).products
    probes, qrels = build_probe(products, args.per_family, args.seed, lists=WORD_LISTS[args.words])
    prices = {p.id: p.price for p in products}
    queries = budget_queries(probes, qrels, prices)
    searcher = open_searcher(args.index)
    served = searcher.config
    print(f"{len(queries)} queries with a budget (word list {args.words!r}, seed {args.seed}), e.g. {queries[0][1]!r}")
    print("| price_from_text | nDCG@10 (within the budget) | top 10 within the budget | median search ms |\n|---|---|---|---|")
    for name, config in (("off", served.model_copy(update={"price_from_text": False})), ("on", served)):
        searcher.config = config
        ndcg, within, took = [], [], []
        for _, text, budget, grades in queries:
            start = time.perf_counter()
            hits = searcher.search(SearchRequest(text=text, k=10)).hits
            took.append((time.perf_counter() - start) * 1000)
            ids = [h.product.id for h in hits]
            ndcg.append(query_metric("ndcg@10", ids, grades))
            within.append(np.mean([prices[d] is not None and prices[d] <= budget for d in ids]) if ids else 0.0)
        print(f"| {name} | {np.mean(ndcg):.3f} | {np.mean(within):.3f} | {np.median(took):.1f} |")
    searcher.config = served
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
