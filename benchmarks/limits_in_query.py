"""Limits typed into the query (issue #13): a budget ("... under 649"), a ruled-out colour ("... not black") or brand.

The queries of the shopper wording probe (`shopper_wording.py`, everyday words graded by catalog attributes), twice:
- **budget**: " under X" appended, X = the median price of the query's grade-2 products (so about half of them
  fit), graded by the probe's grades of the products priced at most X; `price_from_text` off vs on;
- **not**: the queries that name no colour, with " not C" appended, C = the colour most of their plain top 10
  holds, graded by the probe's grades of the products of another colour; `exclusions_from_text` off vs on;
- **not brand**: the same with the brand most of their plain top 10 holds (" not puma").
Side by side in one process: nDCG@10, the share of the top 10 that keeps the limit, the median search time.
Asserts nothing.

    .venv/bin/python benchmarks/limits_in_query.py --catalog /tmp/br3/catalog.jsonl --index /tmp/br3/index
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
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


def not_queries(probes: Sequence, qrels: Mapping[str, Mapping[str, int]], values: Mapping[str, str | None],
                plain_top: Callable[[str], list[str]], min_left: int = 3, field: str = "colour"
                ) -> list[tuple[str, str, str, dict[str, int]]]:
    """(id, text + " not V", V, grades of the products of another value) per probe query naming no ``field``, V the
    value (``values``: product id -> its colour, brand...) most of its plain top 10 (``plain_top(text)``) holds, when
    at least ``min_left`` grade-2 products remain."""
    out = []
    for p in probes:
        if field in p.intent:
            continue
        held = Counter(values[d] for d in plain_top(p.text) if values.get(d))
        if not held:
            continue
        value = held.most_common(1)[0][0]
        left = {d: g for d, g in qrels[p.id].items() if values.get(d) != value}
        if sum(g == 2 for g in left.values()) >= min_left:
            out.append((p.id, f"{p.text} not {value.lower()}", value, left))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--words", default="fresh2", help="the wording probe's word list (core, fresh, fresh2, fresh3)")
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
    colours = {p.id: p.attributes.get("colour") for p in products}
    brands = {p.id: p.brand or None for p in products}

    def top(text: str) -> list[str]:
        return [h.product.id for h in searcher.search(SearchRequest(text=text, k=10)).hits]

    parts = [("budget", "price_from_text", queries, lambda d, limit: prices[d] is not None and prices[d] <= limit),
             ("not", "exclusions_from_text", not_queries(probes, qrels, colours, top),
              lambda d, limit: colours[d] != limit),
             ("not brand", "exclusions_from_text", not_queries(probes, qrels, brands, top, field="brand"),
              lambda d, limit: brands[d] != limit)]
    for part, key, rows, keeps in parts:
        print(f"\n{part}: {len(rows)} queries (word list {args.words!r}, seed {args.seed}), e.g. {rows[0][1]!r}")
        print(f"| {key} | nDCG@10 (within the limit) | top 10 within the limit | median search ms |\n|---|---|---|---|")
        for name, config in (("off", served.model_copy(update={key: False})), ("on", served)):
            searcher.config = config
            ndcg, within, took = [], [], []
            for _, text, limit, grades in rows:
                start = time.perf_counter()
                ids = top(text)
                took.append((time.perf_counter() - start) * 1000)
                ndcg.append(query_metric("ndcg@10", ids, grades))
                within.append(np.mean([keeps(d, limit) for d in ids]) if ids else 0.0)
            print(f"| {name} | {np.mean(ndcg):.3f} | {np.mean(within):.3f} | {np.median(took):.1f} |")
    searcher.config = served
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
