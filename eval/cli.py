"""`prodsearch eval build-qrels|run|tune|compare|load` (and `model` when `eval.model_eval` is present)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from eval.options import (
    OUT_MARKERS,
    check_out_file,
    check_out_folder,
    check_report_options,
    check_run_options,
    check_tune_options,
)

logger = logging.getLogger(__name__)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _index_options(parser: argparse.ArgumentParser) -> None:
    from indexer.cli import add_model_options

    parser.add_argument("--index", required=True, type=Path, help="index directory")
    parser.add_argument("--queries", required=True, type=Path, help="queries JSONL")
    parser.add_argument("--qrels", required=True, type=Path, help="TREC qrels (QID 0 DOC_ID GRADE)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--baseline", default=None, help="mode every other is tested against (default: the first)")
    parser.add_argument("--metrics", type=_csv, default=None, help="comma-separated ranx metrics")
    parser.add_argument("--images-root", type=Path, default=None,
                        help="also allow query photos from this folder (default: only inside the queries file's "
                             "folder and the folder of the catalog the index was built from)")
    add_model_options(parser, default=None)


def register(sub: argparse._SubParsersAction) -> None:
    from eval.modes import default_modes

    ev = sub.add_parser("eval", help="relevance evaluation, tuning, comparison and load runs")
    eval_sub = ev.add_subparsers(dest="eval_command", required=True, metavar="ACTION")

    bq = eval_sub.add_parser("build-qrels", help="derive a graded relevance set from catalog attributes")
    bq.add_argument("--catalog", required=True, type=Path)
    bq.add_argument("--out", required=True, type=Path, help="directory for queries.jsonl, qrels.txt, relevance.json")
    bq.add_argument("--text-queries", type=int, default=300, help="text queries (default 300)")
    bq.add_argument("--photo-queries", type=int, default=100, help="photo queries (default 100)")
    bq.add_argument("--phrasings", type=int, default=2, help="phrasings per attribute combination (default 2)")
    bq.add_argument("--min-support", type=int, default=3, help="least grade-2 products for a query (default 3)")
    bq.add_argument("--max-judged", type=int, default=1500, help="most judged products for a query (default 1500)")
    bq.add_argument("--test-fraction", type=float, default=0.5)
    bq.add_argument("--seed", type=int, default=13)
    bq.add_argument("--skip-invalid", action="store_true", help="ignore invalid catalog rows")
    bq.add_argument("--images-root", type=Path, default=None,
                    help="also take photo queries from this folder (default: only photos inside the catalog's "
                         "folder, as `index build` reads them)")
    bq.add_argument("--perturb", type=_csv, default=[],
                    help="also write shopper-phrased variants of the text queries: typos, synonyms (seeded by --seed; "
                         "the report sets each variant beside its clean query)")
    bq.add_argument("--synonyms", type=Path, action="append", default=[],
                    help="a shop synonyms file (Solr format) added to the shipped defaults for --perturb synonyms")
    bq.set_defaults(func=run_build_qrels)

    run = eval_sub.add_parser("run", help="evaluate modes on a relevance set: metrics, latency, significance")
    _index_options(run)
    run.add_argument("--modes", type=_csv, default=list(default_modes()),
                     help=f"comma-separated modes (default {','.join(default_modes())}; also bm25, tuned, config:PATH)")
    run.add_argument("--config", type=Path, default=None, help="search config for the `tuned` mode")
    run.add_argument("--split", default="all", choices=["all", "train", "test"])
    run.add_argument("--k", type=int, default=100, help="results per query (<= 100)")
    run.add_argument("--limit", type=int, default=None, help="only the first N queries")
    run.add_argument("--out", type=Path, default=Path("eval-report"), help="report directory (default eval-report)")
    run.set_defaults(func=run_eval)

    tune = eval_sub.add_parser("tune", help="tune fusion on the train split, report on test, write a config")
    _index_options(tune)
    tune.add_argument("--metric", default="ndcg@10", help="metric to maximise (ndcg@k, recall@k, mrr, map@k, ...)")
    tune.add_argument("--fusions", type=_csv, default=["rrf", "weighted"], help="fusion methods to search")
    tune.add_argument("--out", type=Path, default=Path("eval-tune"), help="report directory (default eval-tune)")
    tune.add_argument("--config-out", type=Path, default=None,
                      help="search config to write (default OUT/search_config.json); load it with "
                           "`prodsearch serve --config PATH`")
    tune.add_argument("--latency-budget-ms", type=float, default=None,
                      help="search with optuna for the best settings whose p95 Searcher.search latency fits this "
                           "budget (fusion, weights, candidate depth, ranker on/off); plots the Pareto front")
    tune.add_argument("--trials", type=int, default=40, help="optuna trials with --latency-budget-ms (default 40)")
    tune.add_argument("--ranker", type=Path, default=None,
                      help="a ranker.json (`eval train-ranker`) the budgeted search may turn on or off")
    tune.add_argument("--latency-queries", type=int, default=30,
                      help="train queries timed per trial with --latency-budget-ms (default 30)")
    tune.add_argument("--no-ann", action="store_true",
                      help="with --latency-budget-ms: leave the ANN search parameters (nprobe / efSearch per "
                           "approximate vector field) as the index records them instead of searching them too")
    tune.add_argument("--min-recall", type=float, default=None,
                      help="recall@10 floor for the ANN search parameters tried (default: the build's, 0.95)")
    tune.add_argument("--seed", type=int, default=13)
    tune.set_defaults(func=run_tune)

    tr = eval_sub.add_parser("train-ranker", help="train the learned second stage on the train split, report on test")
    _index_options(tr)
    tr.add_argument("--config", type=Path, default=None,
                    help="search config whose fusion feeds the ranker (default: the engine's defaults)")
    tr.add_argument("--depth", type=int, default=200, help="fused candidates the ranker re-orders (default 200)")
    tr.add_argument("--rounds", type=int, default=100,
                    help="boosting rounds (default 100; each adds to the ranker's latency)")
    tr.add_argument("--seed", type=int, default=13)
    tr.add_argument("--out", type=Path, default=Path("eval-ranker"),
                    help="directory for ranker.json, search_config.json (which uses it) and train_ranker.json")
    tr.set_defaults(func=run_train_ranker)

    cmp_ = eval_sub.add_parser("compare", help="compare reports: metric deltas with significance, latency deltas")
    cmp_.add_argument("reports", nargs="+", type=Path, help="report directories or report.json files (first = reference)")
    cmp_.add_argument("--mode", default=None, help="mode to compare (default: tuned, fused-rrf, ... shared by all)")
    cmp_.add_argument("--labels", type=_csv, default=None, help="comma-separated names for the reports")
    cmp_.add_argument("--out", type=Path, default=None, help="write compare.md and compare.json here")
    cmp_.set_defaults(func=run_compare)

    load = eval_sub.add_parser("load", help="HTTP load run against a live server on loopback")
    load.add_argument("--url", required=True,
                      help="server base URL on 127.0.0.1, [::1] or localhost (http://127.0.0.1:8000)")
    load.add_argument("--concurrency", type=int, default=4)
    load.add_argument("--duration", type=float, default=10.0, help="seconds (bound)")
    load.add_argument("--max-requests", type=int, default=1000, help="requests (bound)")
    load.add_argument("--queries", type=Path, default=None, help="queries JSONL whose texts to send")
    load.add_argument("--k", type=int, default=10)
    load.add_argument("--out", type=Path, default=None, help="write the summary JSON here")
    load.set_defaults(func=run_load_cmd)

    try:
        from eval.model_eval import add_model_command
    except ImportError:
        pass
    else:
        add_model_command(eval_sub)


def run_build_qrels(args: argparse.Namespace) -> int:
    from eval.derive import DeriveError, check_derive_options, derive_relevance, write_derived
    from eval.perturb import PERTURBATIONS, PerturbError, catalog_value_keys, catalog_words, load_shop_synonyms, perturb_queries
    from indexer.catalog import load_catalog

    unknown = sorted(set(args.perturb) - set(PERTURBATIONS))
    if unknown:  # before the catalog is read
        raise PerturbError(f"unknown --perturb {unknown}; valid: {', '.join(PERTURBATIONS)}")
    twice = sorted({p for p in args.perturb if args.perturb.count(p) > 1})
    if twice:  # each kind of variant gets one id per query: naming it twice wrote duplicate ids
        raise PerturbError(f"--perturb names {', '.join(twice)} more than once")
    check_derive_options(n_text=args.text_queries, n_photo=args.photo_queries, phrasings_per_combo=args.phrasings,
                         min_support=args.min_support, max_judged=args.max_judged, test_fraction=args.test_fraction)
    if args.images_root is not None and not args.images_root.is_dir():
        raise DeriveError(f"--images-root {args.images_root}: not a folder")
    check_out_folder("eval build-qrels", args.out, OUT_MARKERS["eval build-qrels"])
    catalog = load_catalog(args.catalog, skip_invalid=args.skip_invalid)
    catalog.images_root = args.images_root  # photo queries only from where `index build` reads photos
    derived = derive_relevance(catalog, n_text=args.text_queries, n_photo=args.photo_queries,
                               phrasings_per_combo=args.phrasings, min_support=args.min_support,
                               max_judged=args.max_judged, test_fraction=args.test_fraction, seed=args.seed,
                               queries_dir=args.out)
    if not derived.queries:  # nothing written: an empty set would only fail later, in eval run
        raise DeriveError(f"{args.catalog}: no query could be derived (no attribute combination has "
                          f"--min-support {args.min_support} grade-2 products and at most --max-judged "
                          f"{args.max_judged} judged ones, and no photo query qualified); nothing written")
    if args.perturb:
        variants = perturb_queries(derived.queries, args.perturb, args.seed,
                                   synonyms=lambda: load_shop_synonyms(args.synonyms,
                                                                       catalog_value_keys(catalog.products)),
                                   known_words=catalog_words(catalog.products))
        for v in variants:
            derived.qrels[v["id"]] = derived.qrels[v["of"]]
        derived.queries.extend(variants)
        derived.meta["perturbed"] = {k: sum(v["perturb"] == k for v in variants) for k in args.perturb}
    paths = write_derived(derived, args.out)
    m = derived.meta
    print(f"derived relevance set (attribute rule, not human labels): {m['text_queries']} text + "
          f"{m['photo_queries']} photo queries, splits {m['splits']}")
    if m.get("perturbed"):
        print("  perturbed variants of the text queries: " + ", ".join(f"{k} {n}" for k, n in m["perturbed"].items()))
    for p in paths:
        print(f"  wrote {p}")
    return 0


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The relevance set, validated against the index before any model loads; then the Searcher."""
    from eval.pipeline import photo_roots
    from eval.relevance import load_relevance
    from eval.runner import open_searcher
    from indexer.loaded import load_index

    index = load_index(args.index)
    relevance = load_relevance(args.queries, args.qrels, known_ids=index.store.row_of.keys(),
                               image_roots=photo_roots(index, args.images_root))
    return open_searcher(index, text_model=args.text_model, clip_model=args.clip_model,
                         clip_pretrained=args.clip_pretrained, device=args.device), relevance


def run_eval(args: argparse.Namespace) -> int:
    from eval.metrics import DEFAULT_METRICS
    from eval.modes import resolve_modes
    from eval.pipeline import evaluate_modes
    from eval.report import render_markdown

    modes = resolve_modes(args.modes, args.config)
    check_run_options(args, [m.name for m in modes])
    check_out_folder("eval run", args.out, OUT_MARKERS["eval run"])
    searcher, relevance = _open(args)
    report = evaluate_modes(searcher, relevance, modes, args.out, baseline=args.baseline,
                            metrics=args.metrics or DEFAULT_METRICS, k=min(args.k, 100), split=args.split,
                            limit=args.limit, progress=not args.no_progress, plots=not args.no_plots)
    print(render_markdown(report))
    print(f"report written to {args.out}")
    return 0


def run_tune(args: argparse.Namespace) -> int:
    from eval.metrics import DEFAULT_METRICS
    from eval.pipeline import tune_and_evaluate
    from eval.report import render_markdown

    check_tune_options(args)
    check_out_folder("eval tune", args.out, OUT_MARKERS["eval tune"])
    if args.config_out is not None:
        check_out_file(args.config_out, "--config-out")
    if args.latency_budget_ms is not None:
        return _run_tune_budget(args)
    searcher, relevance = _open(args)
    config, result, report = tune_and_evaluate(
        searcher, relevance, args.out, metric=args.metric, config_out=args.config_out, fusions=args.fusions,
        baseline=args.baseline, progress=not args.no_progress, plots=not args.no_plots,
        metrics=args.metrics or DEFAULT_METRICS)
    print(render_markdown(report))
    print(f"tuned on train: {args.metric} {result.best_score:.4f} (equal-weight RRF {result.default_score:.4f}); "
          f"{result.best.describe()}")
    print(f"config written to {args.config_out or args.out / 'search_config.json'}; "
          f"serve it with `prodsearch serve --index {args.index} --config PATH`")
    return 0


def run_train_ranker(args: argparse.Namespace) -> int:
    from eval.train_ranker import render_summary, train_and_evaluate
    from search.config import load_search_config
    from search.ranker import RankerError

    if args.depth < 2 or args.rounds < 1:
        raise RankerError("--depth must be at least 2 and --rounds at least 1")
    check_report_options(args, [])  # (--baseline and --metrics play no part here)
    check_out_folder("eval train-ranker", args.out, OUT_MARKERS["eval train-ranker"])
    config = load_search_config(args.config)
    searcher, relevance = _open(args)
    searcher.config = config.model_copy(update={"ranker": None})
    searcher.ranker = None
    result = train_and_evaluate(searcher, relevance, args.out, depth=args.depth, rounds=args.rounds, seed=args.seed,
                                progress=not args.no_progress)
    print(render_summary(result.summary))
    print(f"model written to {result.model_path}; config using it: {result.config_path} "
          f"(`prodsearch serve --index {args.index} --config {result.config_path}`)")
    return 0


def _run_tune_budget(args: argparse.Namespace) -> int:
    from eval.metrics import DEFAULT_METRICS
    from eval.pipeline import tune_budget_and_evaluate
    from eval.report import render_markdown

    searcher, relevance = _open(args)
    config, summary, report = tune_budget_and_evaluate(
        searcher, relevance, args.out, args.latency_budget_ms, metric=args.metric, config_out=args.config_out,
        trials=args.trials, ranker_path=args.ranker, latency_queries=args.latency_queries, seed=args.seed,
        baseline=args.baseline, progress=not args.no_progress, plots=not args.no_plots,
        metrics=args.metrics or DEFAULT_METRICS, tune_ann=not args.no_ann, min_recall=args.min_recall)
    if report is not None:
        print(render_markdown(report))
    best = summary["best"]
    print(f"{summary['trials']} trials; best within {args.latency_budget_ms:g} ms p95: {args.metric} "
          f"{best['quality']:.4f} on train at p95 {best['p95_ms']:.2f} ms ({len(summary['pareto_front'])} on the "
          f"Pareto front, plotted in {args.out / 'pareto.png'})")
    print(f"config written to {summary['config']}; serve it with `prodsearch serve --index {args.index} --config PATH`")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from eval.compare import compare_reports, render_compare

    if args.out is not None:
        check_out_folder("eval compare", args.out, OUT_MARKERS["eval compare"])
    result = compare_reports(args.reports, mode=args.mode, labels=args.labels)
    text = render_compare(result)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "compare.md").write_text(text)
        (args.out / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    return 0


def run_load_cmd(args: argparse.Namespace) -> int:
    from eval.load import DEFAULT_QUERIES, run_load
    from eval.relevance import load_queries

    if args.out is not None:
        check_out_file(args.out, "--out")
    texts = DEFAULT_QUERIES
    if args.queries:
        texts = tuple(q.text for q in load_queries(args.queries, check_images=False) if q.text) or DEFAULT_QUERIES
    result = run_load(args.url, concurrency=args.concurrency, duration=args.duration,
                      max_requests=args.max_requests, queries=texts, k=args.k)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result.summary(), indent=2) + "\n")
    print(result.format())
    return 0 if result.ok else 1
