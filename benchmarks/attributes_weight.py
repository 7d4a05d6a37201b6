"""The `attributes` signal's weight on the real fashion catalog: nDCG@10 by query family, with the catalog's
own wording and with shopper wording (each attribute value replaced by a synonym from the shipped file).

Builds (or reuses, `--reuse-index`) a seeded subset index like `benchmarks/fashion_eval.py`, derives its
relevance set, then evaluates the default fusion with the `attributes` signal at several weights, plus
the single signals, on every text query. Skips, saying so, when the dataset is absent.

    .venv/bin/python benchmarks/attributes_weight.py --limit 10000 --reuse-index
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
DATASET = REPO.parent / "shared" / "datasets" / "fashion-product-images"
WORK = REPO / ".prodsearch" / "attributes-weight"
WEIGHTS = (0.0, 0.5, 1.0, 2.0)


def shopper_wording(queries: list[dict], seed: int) -> list[dict]:
    """Each text query with every intent value that has a synonym replaced by one (seeded)."""
    from search.synonyms import load_synonyms

    syn, rng, out = load_synonyms(), random.Random(seed), []
    for q in queries:
        text, changed = q["text"], False
        for value in sorted((q.get("intent") or {}).values(), key=len, reverse=True):
            variants = [v for v in syn.variants(value) if " " not in v or len(v) > 3]
            pattern = re.compile(rf"\b{re.escape(value)}(s|es)?\b", re.IGNORECASE)
            if variants and pattern.search(text):
                text, changed = pattern.sub(rng.choice(variants), text, count=1), True
        if changed:
            out.append({**q, "id": q["id"] + "s", "text": text})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--limit", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--text-queries", type=int, default=400)
    parser.add_argument("--reuse-index", action="store_true")
    parser.add_argument("--weights", default=",".join(f"{w:g}" for w in WEIGHTS),
                        help="the attributes weights to compare, comma-separated")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not (args.dataset / "products.csv").is_file():
        print(f"SKIPPED: the fashion dataset is not at {args.dataset}")
        return 0
    from ranx import Qrels, Run, evaluate

    from benchmarks.fashion_eval import _subset
    from eval.derive import derive_relevance, write_derived
    from eval.modes import resolve_modes
    from eval.pipeline import evaluate_modes, relevance_for
    from eval.runner import open_searcher
    from indexer.adapters.fashion import convert_fashion_catalog
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import load_encoders
    from indexer.manifest import read_manifest
    from search.config import SearchConfig, save_search_config

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    full = convert_fashion_catalog(args.dataset, work / "catalog-full.jsonl")
    path = _subset(full, work / f"catalog-{args.limit}.jsonl", args.limit, args.seed) if args.limit else full
    catalog = load_catalog(path, skip_invalid=True)
    catalog.images_root = args.dataset
    index_dir = work / f"index-{args.limit}"
    encoders = None
    if not (args.reuse_index and index_dir.is_dir() and read_manifest(index_dir).catalog_sha256 == catalog.sha256):
        encoders = load_encoders()
        build_index(catalog, index_dir, encoders, progress=False)
    rel = work / f"relevance-{args.limit}"
    derived = derive_relevance(catalog, n_text=args.text_queries, n_photo=0, seed=args.seed, queries_dir=rel)
    derived.queries[:] = [q for q in derived.queries if q["kind"] == "text"]
    shopper = shopper_wording(derived.queries, args.seed)
    for q in shopper:
        derived.qrels[q["id"]] = derived.qrels[q["id"][:-1]]
    derived.queries.extend(shopper)
    derived.qrels = {q["id"]: derived.qrels[q["id"]] for q in derived.queries}
    write_derived(derived, rel)
    searcher = open_searcher(index_dir, encoders)
    relevance = relevance_for(searcher, rel / "queries.jsonl", rel / "qrels.txt")
    modes = ["lexical", "semantic", "visual", "attributes"]
    for w in (float(x) for x in args.weights.split(",")):
        cfg = SearchConfig(weights={**SearchConfig().weights, "attributes": w})
        save_search_config(cfg, work / f"w{w:g}.json")
        modes.append(f"config:{work / f'w{w:g}.json'}")
    import shutil

    shutil.rmtree(work / "report", ignore_errors=True)  # run files of an earlier call's weights would mix in
    evaluate_modes(searcher, relevance, resolve_modes(modes), work / "report", baseline="semantic", progress=False,
                   plots=False)
    qrels = Qrels({q: {d: int(g) for d, g in v.items()} for q, v in derived.qrels.items()})
    family = {q["id"]: ("shopper " if q["id"].endswith("s") else "catalog ") + "+".join(sorted(q["intent"]))
              for q in derived.queries}
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for run_file in sorted((work / "report" / "runs").glob("*.trec")):
        run = Run.from_file(str(run_file), kind="trec")
        per_query = evaluate(qrels, run, "ndcg@10", return_mean=False, make_comparable=True)
        ids = list(qrels.keys())
        scores = dict(zip(ids, per_query, strict=True))
        groups: dict[str, list[float]] = defaultdict(list)
        for qid, s in scores.items():
            groups[family[qid]].append(s)
            groups["catalog ALL" if not qid.endswith("s") else "shopper ALL"].append(s)
        for g, vals in groups.items():
            table[g][run_file.stem] = sum(vals) / len(vals)
    cols = sorted({c for row in table.values() for c in row})
    lines = ["| family (n) | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    counts = defaultdict(int)
    for fam in family.values():
        counts[fam] += 1
    counts["catalog ALL"] = sum(1 for q in family if not q.endswith("s"))
    counts["shopper ALL"] = sum(1 for q in family if q.endswith("s"))
    for g in sorted(table):
        lines.append(f"| {g} ({counts[g]}) | " + " | ".join(f"{table[g].get(c, 0):.4f}" for c in cols) + " |")
    md = "\n".join(lines)
    (work / "families.md").write_text(md + "\n")
    print(md)
    print(json.dumps({"products": searcher.index.n_products, "queries": len(derived.queries)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
