"""Per-query nDCG@10 of several eval modes side by side, to see why one mode beats another (issue #13: on the
fixtures the fused default scored below the semantic signal alone). Prints each mode's mean per query kind,
then the queries where the first two modes differ most, with what each signal ranked there, then per query kind
and per family the first mode (`default`) against that group's best single signal: both means, the paired
difference, the randomisation test's and the paired t-test's p-values, n, and issue #13's verdict (p < 0.05 needed
where n >= 50; "n < 50: not tested" below). Asserts nothing.

    .venv/bin/python benchmarks/per_query_modes.py --index IDX --queries fixtures/relevance/queries.jsonl \\
        --qrels fixtures/relevance/qrels.txt --modes default,semantic,lexical,attributes [--kind text] [--split all]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--images-root", type=Path, default=None,
                        help="another folder photo queries may come from (as `eval run --images-root`)")
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--qrels", type=Path, required=True)
    parser.add_argument("--modes", default="default,semantic,lexical,attributes")
    parser.add_argument("--kind", default="text", choices=["text", "image", "product_id", "all"])
    parser.add_argument("--split", default="all", choices=["all", "train", "test"])
    parser.add_argument("--show", type=int, default=12)
    parser.add_argument("--json", type=Path, help="also write the per-group comparisons and per-query nDCG@10 here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from eval.groups import group_masks
    from eval.metrics import query_metric
    from eval.modes import resolve_modes, single_mode_names
    from eval.pipeline import relevance_for
    from eval.runner import open_searcher, run_modes
    from eval.significance import group_comparisons, render_comparisons

    searcher = open_searcher(args.index)
    relevance = relevance_for(searcher, args.queries, args.qrels, args.images_root)
    queries = [q for q in relevance.queries if q.perturb is None and (args.kind == "all" or q.kind == args.kind)
               and (args.split == "all" or q.split == args.split)]
    modes = resolve_modes([m.strip() for m in args.modes.split(",") if m.strip()])
    run = run_modes(searcher, modes, queries, k=10, progress=False)
    ndcg = {m.name: {q.id: query_metric("ndcg@10", run.runs[m.name].ranked[q.id], relevance.qrels.get(q.id, {}))
                     for q in queries} for m in modes}
    print(f"{len(queries)} {args.kind} queries ({args.split}): mean nDCG@10 " +
          ", ".join(f"{name} {np.mean(list(v.values())):.4f}" for name, v in ndcg.items()))
    a, b = modes[0].name, modes[1].name
    diff = sorted(queries, key=lambda q: ndcg[a][q.id] - ndcg[b][q.id])
    print(f"\nqueries where {a} loses most to {b} (then wins most):")
    header = " ".join(f"{m.name[:10]:>10s}" for m in modes)
    print(f"  {'query':32s} {header}  searched")
    for q in diff[:args.show] + diff[-3:]:
        searched = searcher.understanding.parse(q.text).text if q.text else None
        row = " ".join(f"{ndcg[m.name][q.id]:10.3f}" for m in modes)
        print(f"  {(q.text or q.id)[:32]:32s} {row}  {searched or ''}")
    singles = [m.name for m in modes if m.name in single_mode_names()]
    reference = "default" if "default" in ndcg else modes[0].name
    per_query = {name: np.array([v[q.id] for q in queries]) for name, v in ndcg.items()}
    result = {}
    if singles and reference not in singles:
        for attribute in ("kind", "family"):
            rows = group_comparisons(per_query, group_masks(queries, attribute), reference, singles)
            result[attribute] = rows
            if not rows:  # photo and product queries have no family
                continue
            print(f"\n{reference} against each {attribute}'s best single signal ({args.split} split):")
            print("\n".join(render_comparisons(rows, attribute)))
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "kind": args.kind, "groups": result,
                                         "ndcg@10": ndcg}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
