"""Robustness to typos and synonyms (issue #13): nDCG@10 of perturbed variants / their clean queries, per mode,
with the query-understanding rules of before this change (`--legacy`: no correction under 5 letters, value and
synonym words only as spelling targets, the signals search the typed text) and of now, side by side in one process.

Prints, per rules x mode, the clean and variant nDCG@10 and their ratio (targets: typos >= 0.95, synonyms
>= 0.97), then the variants that lose most against their clean query (the per-query diff), with the text each
signal searched. Asserts nothing. A relevance set with variants comes from `prodsearch eval build-qrels
--perturb typos,synonyms` or `benchmarks/fashion_ranker.py`.

    .venv/bin/python benchmarks/robustness.py --index IDX --queries REL/queries.jsonl --qrels REL/qrels.txt \\
        [--config RANKER/search_config.json] [--split test] [--legacy] [--guard-before] [--infer] [--show 15]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TARGETS = {"typos": 0.95, "synonyms": 0.97}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--images-root", type=Path, default=None,
                        help="another folder photo queries may come from (as `eval run --images-root`)")
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--qrels", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=None, help="also a mode with this search config (a ranker)")
    parser.add_argument("--split", default="test", choices=["all", "train", "test"])
    parser.add_argument("--legacy", action="store_true", help="also the understanding rules of before (side by side)")
    parser.add_argument("--guard-before", action="store_true", help="also now with main's English-word guard")
    parser.add_argument("--infer", action="store_true", help="also now + inferred values (side by side)")
    parser.add_argument("--show", type=int, default=15, help="worst variants listed per rules x mode x kind")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from eval.metrics import query_metric
    from eval.modes import resolve_modes
    from eval.pipeline import relevance_for
    from eval.runner import open_searcher, run_modes
    from search.understanding import QueryUnderstanding

    searcher = open_searcher(args.index)
    relevance = relevance_for(searcher, args.queries, args.qrels, args.images_root)
    queries = [q for q in relevance.queries if q.text and (args.split == "all" or q.split == args.split)]
    by_id = {q.id: q for q in queries}
    names = ["default"] + ([f"config:{args.config}"] if args.config else [])
    modes = resolve_modes(names)
    now = searcher.understanding
    rules = {"now": now}
    if args.legacy:
        rules = {"legacy": QueryUnderstanding(now.vocabulary, now.synonyms, min_corrected=5, title_words=False,
                                              rewrite=False, type_first=False), **rules}
    if args.guard_before:  # now's rules with main's English-word guard (a longer English word may lose a letter)
        rules = {"guard before": QueryUnderstanding(now.vocabulary, now.synonyms, english_added=True), **rules}
    if args.infer:  # now + values inferred from the text model for words no rule covers (`search.value_inference`)
        rules["inferred"] = QueryUnderstanding(now.vocabulary, now.synonyms)
        rules["inferred"].infer_with(searcher.encoders.text.encode_texts)
    print(f"{len(queries)} text queries ({args.split} split) on {searcher.index.n_products} products")
    print("| rules | mode | kind | n | clean nDCG@10 | variant nDCG@10 | ratio | target |")
    print("|---|---|---|---|---|---|---|---|")
    losers = []
    for rule_name, qu in rules.items():
        searcher.__dict__["understanding"] = qu  # the cached property, replaced for this block
        run = run_modes(searcher, modes, queries, k=10, progress=False)
        for mode in modes:
            ranked = run.runs[mode.name].ranked
            ndcg = {q.id: query_metric("ndcg@10", ranked[q.id], relevance.qrels.get(q.id, {})) for q in queries}
            for kind, target in TARGETS.items():
                pairs = [(q, by_id[q.of]) for q in queries if q.perturb == kind and q.of in by_id]
                if not pairs:
                    continue
                variant = float(np.mean([ndcg[v.id] for v, _ in pairs]))
                clean = float(np.mean([ndcg[c.id] for _, c in pairs]))
                ratio = variant / clean if clean else 0.0
                print(f"| {rule_name} | {mode.name} | {kind} | {len(pairs)} | {clean:.4f} | {variant:.4f} | "
                      f"**{ratio:.3f}** | {'met' if ratio >= target else 'missed'} (>= {target}) |")
                worst = sorted(pairs, key=lambda p: ndcg[p[0].id] - ndcg[p[1].id])[:args.show]
                losers.append((rule_name, mode.name, kind, [
                    (ndcg[c.id], ndcg[v.id], c.text, v.text, qu.parse(v.text).text) for v, c in worst
                    if ndcg[v.id] < ndcg[c.id]]))
    searcher.__dict__["understanding"] = now
    for rule_name, mode_name, kind, rows in losers:
        print(f"\nworst {kind} variants, rules {rule_name}, mode {mode_name} (clean -> variant nDCG@10; "
              "typed clean | typed variant | what the signals searched)")
        for clean, variant, c_text, v_text, searched in rows:
            print(f"  {clean:.3f} -> {variant:.3f}  {c_text!r} | {v_text!r} | {searched or '(as typed)'!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
