"""Relevance benchmark on the real Fashion Product Images catalog (../shared/datasets/fashion-product-images).

Steps (each timed): convert the CSV to a catalog (`indexer.adapters.fashion`), optionally take a
seeded subset, build the index with the real encoders, derive a relevance set from attributes,
evaluate every mode (BM25-only baseline first) on all queries, then tune fusion on the train
split and report every mode plus `tuned` on the test split. Intermediates go under
``.prodsearch/fashion-eval/``; the dataset is only read. Skips, saying so, when it is absent.

    .venv/bin/python benchmarks/fashion_eval.py --limit 10000       # seeded 10k-product subset
    .venv/bin/python benchmarks/fashion_eval.py --limit 0           # the whole catalog (slow on CPU)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATASET = REPO.parent / "shared" / "datasets" / "fashion-product-images"
WORK = REPO / ".prodsearch" / "fashion-eval"
logger = logging.getLogger("fashion_eval")


def _subset(full: Path, out: Path, limit: int, seed: int, held_out_only: bool = False) -> Path:
    """A seeded sample of ``limit`` catalog rows (0 = all), in file order; optionally only the products
    the default CLIP held out of its training (so the visual signal is judged on photos it never saw)."""
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    if held_out_only:
        from indexer.training.data import is_held_out

        lines = [line for line in lines if is_held_out(json.loads(line)["id"])]
    if limit and limit < len(lines):
        keep = sorted(random.Random(seed).sample(range(len(lines)), limit))
        lines = [lines[i] for i in keep]
    out.write_text("".join(lines), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--limit", type=int, default=10000, help="seeded product subset (0 = all)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--text-queries", type=int, default=800)
    parser.add_argument("--photo-queries", type=int, default=200)
    parser.add_argument("--factory", default="Flat")
    parser.add_argument("--held-out", action="store_true",
                        help="only the 10%% of products held out of the default CLIP's training")
    parser.add_argument("--reuse-index", action="store_true", help="keep an index built from the same catalog")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    if not (args.dataset / "products.csv").is_file():
        print(f"SKIPPED: the fashion dataset is not at {args.dataset} (needs products.csv and images_60x80/)")
        return 0

    from eval.derive import derive_relevance, write_derived
    from eval.modes import resolve_modes
    from eval.pipeline import evaluate_modes, relevance_for, tune_and_evaluate
    from eval.runner import open_searcher
    from indexer.adapters.fashion import convert_fashion_catalog
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import load_encoders
    from indexer.manifest import read_manifest

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    steps: dict[str, float] = {}
    progress = not args.no_progress

    def timed(name: str, fn, *a, **kw):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        out = fn(*a, **kw)
        steps[name] = round(time.perf_counter() - start, 1)
        logger.info("step %s: %.1f s", name, steps[name])
        return out

    full = timed("convert", convert_fashion_catalog, args.dataset, work / "catalog-full.jsonl")
    catalog_path = full
    tag = ("heldout-" if args.held_out else "") + str(args.limit or "all")
    if args.limit or args.held_out:
        catalog_path = timed("subset", _subset, full, work / f"catalog-{tag}.jsonl", args.limit, args.seed,
                             args.held_out)
    catalog = load_catalog(catalog_path, skip_invalid=True)
    catalog.images_root = args.dataset  # the photos stay in the dataset folder, outside the catalog's
    index_dir = work / f"index-{tag}-{args.factory.replace(',', '_')}"
    reuse = False
    if args.reuse_index and index_dir.is_dir():
        reuse = read_manifest(index_dir).catalog_sha256 == catalog.sha256
    encoders = None  # a reused index: open_searcher loads the models its manifest names
    if reuse:
        build_seconds = read_manifest(index_dir).build_seconds
        steps["build_index (reused; time of the original build)"] = round(sum(build_seconds.values()), 1)
        logger.info("reusing %s (built in %s)", index_dir, build_seconds)
    else:
        encoders = timed("load_encoders", load_encoders)
        summary = timed("build_index", build_index, catalog, index_dir, encoders, factory=args.factory,
                        progress=progress)
        build_seconds = {k: round(v, 1) for k, v in summary.seconds.items()}
        logger.info("%s", summary.format())
    rel_dir = work / f"relevance-{tag}"
    derived = timed("derive_qrels", derive_relevance, catalog, n_text=args.text_queries, n_photo=args.photo_queries,
                    seed=args.seed, queries_dir=rel_dir)
    write_derived(derived, rel_dir)
    searcher = timed("open_searcher", open_searcher, index_dir, encoders)  # the build's models, not loaded twice
    relevance = relevance_for(searcher, rel_dir / "queries.jsonl", rel_dir / "qrels.txt", args.dataset)
    modes = resolve_modes(["bm25", "semantic", "visual", "fused-rrf", "fused-weighted"])
    all_report = timed("eval_all_modes", evaluate_modes, searcher, relevance, modes, work / "report-all",
                       baseline="bm25", progress=progress)
    config, tuned, test_report = timed("tune_and_test", tune_and_evaluate, searcher, relevance, work / "report-tuned",
                                       modes=modes, baseline="bm25", progress=progress)
    result = {"catalog": str(catalog_path), "products": searcher.index.n_products,
              "clip_trained": searcher.index.manifest.clip_trained, "limit": args.limit,
              "held_out_only": args.held_out, "steps_s": steps,
              "build_seconds": build_seconds, "queries": relevance.meta, "eval_all": _table(all_report),
              "eval_all_seconds": all_report["meta"]["eval_seconds"], "test": _table(test_report),
              "targets_test": test_report["targets"], "tuned": tuned.best.describe(),
              "tuned_train_score": tuned.best_score}
    (work / "benchmark.json").write_text(json.dumps(result, indent=2) + "\n")
    md = _markdown(result, test_report, all_report)
    (work / "benchmark.md").write_text(md)
    print(md)
    return 0


def _table(report: dict) -> dict[str, dict[str, float]]:
    return {name: {**{k: round(v, 4) for k, v in m["metrics"].items()}, "p50_ms": m["latency_ms"]["p50"],
                   "p95_ms": m["latency_ms"]["p95"], "qps": m["latency_ms"]["qps"]}
            for name, m in report["modes"].items()}


def _rows(table: dict, significance: dict, cols: list[str]) -> list[str]:
    lines = ["| mode | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for name, row in table.items():
        s = significance.get(name, {}).get("ndcg@10")
        mark = ("*" if s["delta"] > 0 else "↓") if s and s["significant"] else ""
        lines.append(f"| {name} | " + " | ".join(f"{row[c]}{mark if c == 'ndcg@10' else ''}" for c in cols) + " |")
    return lines


def _markdown(result: dict, test_report: dict, all_report: dict) -> str:
    cols = ["ndcg@10", "recall@10", "recall@100", "mrr", "map@100", "p50_ms", "p95_ms", "qps"]
    subset = ", held out of CLIP training" if result.get("held_out_only") else ""
    subset += ", seeded subset" if result["limit"] else ""
    lines = [f"# Fashion benchmark ({result['products']} products{subset}; "
             f"CLIP {'trained' if result['clip_trained'] else 'UNTRAINED'})", "",
             "Relevance set DERIVED from catalog attributes (not human labels).", "",
             "## Test split (fusion tuned on the train split)", ""]
    lines += _rows(result["test"], test_report["significance"], cols)
    t = result["targets_test"]
    lines += ["", f"`*` / `↓`: significantly better / worse than bm25 on ndcg@10 (Fisher randomisation, p < 0.05). "
              f"Tuned: {result['tuned']}.", "",
              f"Targets (test): fused `{t.get('best_fused')}` vs best single `{t.get('best_single')}`: "
              f"{t.get('fused_minus_single', 0):+.4f} ndcg@10, p={t.get('p_value')}; vs BM25 "
              f"{t.get('gain_over_bm25', 0):+.1%} (target +25%).", "",
              f"## All {all_report['meta']['queries']} queries, 5 modes", ""]
    lines += _rows(result["eval_all"], all_report["significance"], cols)
    lines += ["", "## Step times (s)", ""]
    lines += [f"- {k}: {v}" for k, v in result["steps_s"].items()]
    lines += [f"- index build stages: {result['build_seconds']}",
              f"- evaluating {all_report['meta']['queries']} queries x 5 modes: {result['eval_all_seconds']} s "
              f"(batch encoding {all_report['meta']['encode_ms_per_query']} ms/query amortised, plus every "
              "Searcher.search call; the rest of the eval_all_modes step is ranx scoring, significance and plots)", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
