"""Free-form shopper queries (issue #13): whole queries as shoppers type them, graded by catalog attributes.

`benchmarks/shopper_wording.py` composes its queries from templates ("{colour} {type} for {audience}") and a word
list. Shoppers also write "black sneakers for my husband", "mens formal black leather shoes for office" and "levis
jeans": word orders, fillers, possessives, brands as typed. `benchmarks/shopper_queries_free.py` holds ~300 such
queries, each with every catalog value its shopper would accept, written by a writer blind to the engine (see its
docstring); ``--set free2`` (`benchmarks/shopper_queries_free2.py`, ~300 more by a second blind writer) is harder:
conversational, Hinglish, typo'd, descriptive ("something warm to wear over a kurta"), gifting, attribute-heavy and
one- or two-word queries; ``--set free3`` (`benchmarks/shopper_queries_free3.py`, ~250 by a third) is shaped like the
issue's own families: colour+audience+type, occasion+type, audience+type, colour+type, brand+type and type alone, in
short search-box wording with everyday shade, audience and garment words, and ``--set free4`` (~240 by a fourth, in the
same families, typed as Indian, UK and US shoppers type). This runs them and grades like the wording probe
(`shopper_wording.grade`): grade 2 = the article type and every other named value (colour, gender, usage, brand)
match, 1 = the type matches and one other value fails.

    .venv/bin/python benchmarks/shopper_queries.py --catalog /tmp/br3/catalog.jsonl --check [--set free2|free3|free4]  # ~10 s
    .venv/bin/python benchmarks/shopper_queries.py --catalog /tmp/br3/catalog.jsonl --index IDX \\
        [--modes default,attributes,semantic,lexical] [--json per_query.json] [--write DIR] [--show 15]

``--check`` fails (exit 1) on an unknown field or family-less query, a value the catalog lacks, a repeated query,
and a query with fewer than 3 grade-2 products. Prints nDCG@10 per family and mode, then the queries that score
least, with what the engine searched for them. Asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shopper_wording import REPO, Probe, grade, product_values, write_probe

SETS = {"free": "shopper_queries_free", "free2": "shopper_queries_free2", "free3": "shopper_queries_free3",
        "free4": "shopper_queries_free4"}  # --set -> the module of QUERIES
FIELDS = ("article_type", "colour", "gender", "usage", "brand")
MIN_GRADE2 = 3
Intent = dict[str, tuple[str, ...]]


def build(products: Sequence, queries: Sequence[tuple[str, str, Intent]]
          ) -> tuple[list[Probe], dict[str, dict[str, int]], list[str]]:
    """The probe queries, their grades (product id -> 1 or 2) and the problems found in the list."""
    values = product_values(products)
    known = {name: Counter(v[name] for v in values if v[name]) for name in FIELDS}
    by_type: dict[str, list[int]] = defaultdict(list)
    for row, v in enumerate(values):
        by_type[v["article_type"]].append(row)
    probes: list[Probe] = []
    qrels: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    seen: set[str] = set()
    for n, (family, text, intent) in enumerate(queries):
        where = f"query {n} {text!r}"
        if not family or not text.strip():
            problems.append(f"{where}: no family or empty text")
            continue
        key = " ".join(text.lower().split())
        if key in seen:
            problems.append(f"{where}: repeated")
            continue
        seen.add(key)
        if "article_type" not in intent:
            problems.append(f"{where}: no article_type")
            continue
        bad = [f"unknown field {k!r}" for k in intent if k not in FIELDS]
        bad += [f"{k} {v!r} is not a catalog value" for k, vs in intent.items() if k in FIELDS for v in vs
                if v not in known[k]]
        bad += [f"{k} maps to no value" for k, vs in intent.items() if not vs]
        if bad:
            problems.extend(f"{where}: {b}" for b in bad)
            continue
        wanted = {k: frozenset(v) for k, v in intent.items()}
        grades = {products[r].id: g for t in wanted["article_type"] for r in by_type[t] if (g := grade(values[r], wanted))}
        if sum(g == 2 for g in grades.values()) < MIN_GRADE2:
            problems.append(f"{where}: {sum(g == 2 for g in grades.values())} grade-2 products (< {MIN_GRADE2})")
            continue
        qid = f"f{n:04d}"
        probes.append(Probe(qid, family, text, wanted))
        qrels[qid] = grades
    return probes, qrels, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--index", type=Path, default=None, help="an index built from --catalog (not with --check)")
    parser.add_argument("--set", choices=sorted(SETS), default="free",
                        help="; ".join(f"{name}: benchmarks/{module}.py" for name, module in SETS.items()))
    parser.add_argument("--check", action="store_true", help="only check the queries against --catalog; no search")
    parser.add_argument("--modes", default="default", help="comma-separated eval modes")
    parser.add_argument("--json", type=Path, default=None, help="also write per-query nDCG@10 and searched text here")
    parser.add_argument("--write", type=Path, default=None, help="also write queries.jsonl + qrels.txt here")
    parser.add_argument("--show", type=int, default=15, help="lowest-scoring queries listed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not args.catalog.is_file():
        print(f"skipped: no catalog at {args.catalog}")
        return 0
    sys.path.insert(0, str(REPO))
    from indexer.catalog import load_catalog

    queries = importlib.import_module(SETS[args.set]).QUERIES
    products = load_catalog(args.catalog, skip_invalid=True).products
    probes, qrels, problems = build(products, queries)
    families = Counter(p.family for p in probes)
    print(f"{len(probes)} queries of {len(queries)} on {len(products)} products; per family: "
          + ", ".join(f"{f} {n}" for f, n in families.items()))
    if args.write:
        write_probe(probes, qrels, args.write)
    if args.check:
        for problem in problems:
            print(f"PROBLEM: {problem}")
        print(f"check {'FAILED' if problems else 'passed'}: {len(problems)} problem(s), {len(probes)} queries")
        return 1 if problems else 0
    if args.index is None:
        parser.error("--index is required (unless --check)")
    if problems:
        print(f"{len(problems)} queries left out (run --check)")
    from eval.metrics import query_metric
    from eval.modes import resolve_modes
    from eval.relevance import Query
    from eval.runner import open_searcher, run_modes

    searcher = open_searcher(args.index)
    if searcher.index.n_products != len(products):
        raise SystemExit(f"the index holds {searcher.index.n_products} products, the catalog {len(products)}")
    modes = resolve_modes(args.modes.split(","))
    queries = [Query(id=p.id, text=p.text, split="test", family=p.family) for p in probes]
    run = run_modes(searcher, modes, queries, k=10, progress=False)
    ndcg = {m.name: {p.id: query_metric("ndcg@10", run.runs[m.name].ranked[p.id], qrels[p.id]) for p in probes}
            for m in modes}
    searched = {p.id: searcher.understanding.parse(p.text).text or "(as typed)" for p in probes}
    print("\n| family | n | " + " | ".join(m.name for m in modes) + " |\n|---|---|" + "---|" * len(modes))
    for family in [*families, "all"]:
        ids = [p.id for p in probes if family in ("all", p.family)]
        print(f"| {family} | {len(ids)} | " + " | ".join(f"{np.mean([ndcg[m.name][i] for i in ids]):.3f}"
                                                        for m in modes) + " |")
    first = modes[0].name
    print(f"\nlowest ({first} nDCG@10; typed | searched):")
    for p in sorted(probes, key=lambda p: ndcg[first][p.id])[:args.show]:
        print(f"  {ndcg[first][p.id]:.3f}  [{p.family}] {p.text!r} | {searched[p.id]!r}")
    if args.json:
        args.json.write_text(json.dumps({p.id: {"text": p.text, "family": p.family, "searched": searched[p.id],
                                                **{m: ndcg[m][p.id] for m in ndcg}} for p in probes}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
