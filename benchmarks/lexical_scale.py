"""BM25 alone at scale (#11: p95 <= 20 ms at 1M products, and with a 1%-selectivity filter): the lexical
index's compiled scoring (`LexicalIndex.search`) against bm25s's own retrieval it replaced
(`LexicalIndex.reference_search`: numpy backend, a filter as a weight mask) and bm25s's numba backend,
on the same index, query by query in one run (the three interleaved, so machine load hits them alike).

    .venv/bin/python benchmarks/lexical_scale.py --n 1000000 --base-index /path/to/fashion/index   # ~4-9 min, 4.5 GB

Text only: the catalog is grown with `synthetic_catalog.grow(..., vectors=False)` (the same products as
benchmarks/scale.py, without vectors) from ``--base-index`` (default .prodsearch/build-rate/index; else the
fixture catalog, said in the output). Prints build time, RAM, p50/p95 (wall and thread CPU) per implementation
with and without the filter, the ratios, and top-10 agreement with the old implementation; ``--json`` writes
them too. ``--index DIR`` keeps the built index and reuses it on later runs; ``--baseline main`` also times that
git revision's LexicalIndex on the same arrays and counts bit-identical results.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "benchmarks"):
    sys.path.insert(0, str(p))

import numpy as np  # noqa: E402
import scale_harness as h  # noqa: E402
from synthetic_catalog import DEFAULT_BASE_INDEX, filter_mask, grow, load_base, make_queries, pick_filter  # noqa: E402

from indexer.catalog import product_text  # noqa: E402
from indexer.lexical import LexicalIndex, tokenize  # noqa: E402
from search.config import SearchConfig  # noqa: E402

logger = logging.getLogger("lexical_scale")
TOP = 10  # agreement is checked on the top 10


def bm25s_numba(index: LexicalIndex) -> Any:
    """A view of the same bm25s index with bm25s's numba backend (option (a) of #11), sharing its arrays."""
    retriever = copy.copy(index.retriever)
    retriever.backend = "numba"

    def search(query: str, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        ids = index.term_ids(query)
        if not len(ids):
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        mask = None if allowed is None else allowed.astype(np.float32)
        result = retriever.retrieve([ids.astype(np.int32).tolist()], k=min(k, index.n_docs), show_progress=False,
                                    weight_mask=mask, n_threads=1)
        scores = np.asarray(result.scores[0], np.float32)
        docs = np.asarray(result.documents[0], np.int64)
        return scores[scores > 0], docs[scores > 0]

    return search


def baseline_index(index: LexicalIndex, rev: str) -> Any:
    """The LexicalIndex of another revision (``git show REV:indexer/lexical*.py``, e.g. main's) over the same
    bm25s arrays: old code and new timed side by side in one process. Its files are copied to a temp folder
    (numba's cache goes there, never into another checkout)."""
    folder = Path(tempfile.mkdtemp(prefix="lexical-baseline-"))
    for name in ("lexical_kernels", "lexical"):
        source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:indexer/{name}.py"], capture_output=True,
                                text=True, check=True).stdout
        (folder / f"baseline_{name}.py").write_text(source)
    sys.path.insert(0, str(folder))
    try:
        kernels = importlib.import_module("baseline_lexical_kernels")
        module = importlib.import_module("baseline_lexical")
    finally:
        sys.path.remove(str(folder))
    module.kernels = kernels  # its kernels, not this checkout's
    baseline = module.LexicalIndex(index.retriever, index.n_docs)
    baseline.warm_up()
    return baseline


def agreement(new: tuple[np.ndarray, np.ndarray], old: tuple[np.ndarray, np.ndarray]) -> tuple[bool, float, float, bool]:
    """(top-10 scores equal within 1e-5 rank by rank, top-10 overlap, largest score difference over the
    top k, the same documents above the 10th score).

    Equal scores may come in another order (bm25s orders ties arbitrarily), so the overlap can be
    below 1 through ties at the 10th place; the last figure leaves those ties out."""
    (s1, d1), (s2, d2) = new, old
    order = np.argsort(-s2, kind="stable")
    s2, d2 = s2[order], d2[order]
    if len(s1) != len(s2):
        return False, 0.0, float("inf"), False
    if not len(s1):
        return True, 1.0, 0.0, True
    same = bool(np.allclose(s1[:TOP], s2[:TOP], rtol=0, atol=1e-5))
    overlap = len(set(d1[:TOP].tolist()) & set(d2[:TOP].tolist())) / min(TOP, len(s1))
    cut = min(s1[:TOP].min(), s2[:TOP].min()) + 1e-5
    above = set(d1[:TOP][s1[:TOP] > cut].tolist()) == set(d2[:TOP][s2[:TOP] > cut].tolist())
    return same, overlap, float(np.abs(s1 - s2).max()), above


def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    base = load_base(args.base_index, fallback=not args.no_fallback, seed=args.seed)
    synthetic = grow(base, args.n, args.seed, vectors=False)
    saved = args.index is not None and (args.index / "n_docs.txt").exists()
    texts = [] if saved else [product_text(p) for p in synthetic.products]
    generate_s = time.perf_counter() - t0
    queries = [t for t, _ in make_queries(synthetic, args.queries, args.seed)]
    filters, share_est = pick_filter(synthetic, args.filter_share)
    mask = filter_mask(synthetic, filters)
    logger.info("grew %d texts from %s in %.0f s; filter %s on %.2f%% of rows", args.n, base.source, generate_s, filters,
                100 * mask.mean())
    gc.collect()
    rss_before = h.rss_mb()
    build_s = disk = 0.0
    if saved:  # reuse a saved 1M index: only the catalog (queries, filter) is grown again
        del texts
        tokens = float("nan")
    else:
        t0 = time.perf_counter()
        built = LexicalIndex.build(texts)
        build_s = time.perf_counter() - t0
        step = max(1, args.n // 10_000)
        tokens = sum(len(tokenize(t)) for t in texts[::step]) / len(texts[::step])
        del texts
    gc.collect()
    rss_built = h.rss_mb()
    with h.scratch_dir(args.work) as scratch_name:
        directory = args.index if args.index is not None else Path(scratch_name) / "lexical"
        if not saved:
            directory.mkdir(parents=True, exist_ok=True)
            built.save(directory)
            del built
        disk = sum(f.stat().st_size for f in directory.iterdir())
        gc.collect()
        t0 = time.perf_counter()
        index = LexicalIndex.load(directory)  # bm25s's load, then the kernels' warm-up
        load_s = time.perf_counter() - t0
        if index.n_docs != args.n:
            raise SystemExit(f"{directory} holds {index.n_docs:,} products, not --n {args.n:,}")
    matrix = sum(np.asarray(index.retriever.scores[k]).nbytes for k in ("data", "indices", "indptr"))
    impls = {"new": index.search, "old": index.reference_search, "bm25s-numba": bm25s_numba(index)}
    if args.baseline:
        impls = {"new": index.search, args.baseline: baseline_index(index, args.baseline).search,
                 **{name: fn for name, fn in impls.items() if name != "new"}}
    if args.skip_numba:
        del impls["bm25s-numba"]
    if args.skip_bm25s:
        del impls["old"]
    t0 = time.perf_counter()
    impls.get("bm25s-numba", lambda *a: None)("warm up", 10, None)  # its JIT compile, apart from the timings
    numba_compile_s = time.perf_counter() - t0
    timings: dict[str, dict[str, list[float]]] = {name: {"plain": [], "filtered": []} for name in impls}
    # the thread's CPU time too: on a shared machine, wall time also counts the waits for a core
    cpu: dict[str, dict[str, list[float]]] = {name: {"plain": [], "filtered": []} for name in impls}
    agree: dict[str, list[tuple[bool, float, float, bool]]] = {"plain": [], "filtered": []}
    identical = {"plain": 0, "filtered": 0}  # new == the baseline revision's: scores and rows, exactly
    for kind, allowed in (("plain", None), ("filtered", mask)):
        for i, query in enumerate([*queries[: args.warmup], *queries]):
            results = {}
            names = list(impls) if i % 2 == 0 else list(impls)[::-1]  # alternate who goes first
            for name in names:
                started, started_cpu = time.perf_counter(), time.thread_time()
                results[name] = impls[name](query, args.depth, allowed)
                if i >= args.warmup:
                    timings[name][kind].append((time.perf_counter() - started) * 1000)
                    cpu[name][kind].append((time.thread_time() - started_cpu) * 1000)
            if i >= args.warmup:
                if allowed is not None and len(results["new"][1]) and not allowed[results["new"][1]].all():
                    raise AssertionError(f"the new path returned a row the filter refuses ({query!r})")
                if args.baseline:
                    (s1, d1), (s2, d2) = results["new"], results[args.baseline]
                    if np.array_equal(s1, s2) and np.array_equal(d1, d2):
                        identical[kind] += 1
                    else:
                        logger.error("new and %s differ on %r (%s)", args.baseline, query, kind)
                if "old" in results:
                    agree[kind].append(agreement(results["new"], results["old"]))
    latency = {name: {kind: {"p50_ms": h.pct(ms, 50), "p95_ms": h.pct(ms, 95), "mean_ms": float(np.mean(ms)),
                             "cpu_p50_ms": h.pct(cpu[name][kind], 50), "cpu_p95_ms": h.pct(cpu[name][kind], 95)}
                      for kind, ms in per.items()} for name, per in timings.items()}
    return {
        "n": args.n, "base": base.source, "seed": args.seed, "queries": len(queries), "depth": args.depth,
        "filter": filters, "filter_share": float(mask.mean()), "filter_share_estimate": share_est,
        "generate_s": generate_s, "build_s": build_s, "load_and_warm_up_s": load_s, "bm25s_numba_compile_s": numba_compile_s,
        "avg_tokens": tokens, "rss_mb": {"before_build": rss_before, "after_build": rss_built, "peak": h.peak_rss_mb()},
        "matrix_mb": matrix / 2**20, "disk_mb": disk / 2**20, "latency": latency,
        "baseline": args.baseline,
        "identical_to_baseline": {kind: n / len(queries) for kind, n in identical.items()} if args.baseline else {},
        "agreement": {kind: {"top10_scores_equal": float(np.mean([a[0] for a in rows])),
                             "top10_overlap": float(np.mean([a[1] for a in rows])),
                             "max_score_diff": float(max(a[2] for a in rows)),
                             "same_docs_above_10th_score": float(np.mean([a[3] for a in rows]))}
                      for kind, rows in agree.items() if rows},
        "load_avg": os.getloadavg(),
    }


def report(r: dict[str, Any]) -> str:
    lat = r["latency"]
    lines = [f"BM25 at {r['n']:,} products (base: {r['base']}); {r['queries']} queries, depth {r['depth']}; "
             f"filter {r['filter']} = {100 * r['filter_share']:.2f}% of rows; load average {r['load_avg'][0]:.1f}",
             f"texts grown in {r['generate_s']:.0f} s ({r['avg_tokens']:.1f} tokens each); build {r['build_s']:.1f} s; "
             f"save+load+warm-up {r['load_and_warm_up_s']:.1f} s; "
             f"bm25s-numba first-call compile {r['bm25s_numba_compile_s']:.1f} s",
             f"RSS {r['rss_mb']['before_build']:.0f} MB before build, {r['rss_mb']['after_build']:.0f} MB after, "
             f"peak {r['rss_mb']['peak']:.0f} MB; matrix {r['matrix_mb']:.0f} MB in memory, {r['disk_mb']:.0f} MB on disk",
             "", "| implementation | p50 ms | p95 ms | 1% filter p50 ms | 1% filter p95 ms | CPU p50 / p95 ms | "
             "1% filter CPU p50 / p95 ms |", "|---|---|---|---|---|---|---|"]
    for name, per in lat.items():
        pl, fi = per["plain"], per["filtered"]
        lines.append(f"| {name} | {pl['p50_ms']:.2f} | {pl['p95_ms']:.2f} | {fi['p50_ms']:.2f} | {fi['p95_ms']:.2f} | "
                     f"{pl['cpu_p50_ms']:.2f} / {pl['cpu_p95_ms']:.2f} | {fi['cpu_p50_ms']:.2f} / {fi['cpu_p95_ms']:.2f} |")
    for name in lat:
        if name != "new":
            lines.append(f"- {name} / new, p95: {lat[name]['plain']['p95_ms'] / lat['new']['plain']['p95_ms']:.1f}x plain, "
                         f"{lat[name]['filtered']['p95_ms'] / lat['new']['filtered']['p95_ms']:.1f}x filtered")
    for kind, share in r["identical_to_baseline"].items():
        lines.append(f"- new vs {r['baseline']}, {kind}: the same rows, float32 scores (bit for bit) and order in "
                     f"{100 * share:.1f}% of queries")
    for kind, a in r["agreement"].items():
        lines.append(f"- new vs old, {kind}: top-10 scores equal in {100 * a['top10_scores_equal']:.1f}% of queries, "
                     f"top-10 overlap {a['top10_overlap']:.4f} (the same documents above the 10th score in "
                     f"{100 * a['same_docs_above_10th_score']:.1f}%: the rest is the order of tied scores), "
                     f"largest score difference over the top {r['depth']} {a['max_score_diff']:.2e}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="products (default 1,000,000)")
    ap.add_argument("--base-index", type=Path, default=DEFAULT_BASE_INDEX, help="a built index to grow from (read only)")
    ap.add_argument("--no-fallback", action="store_true", help="fail rather than grow from the fixture catalog")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--queries", type=int, default=200, help="timed queries per implementation and filter setting")
    ap.add_argument("--warmup", type=int, default=10, help="untimed queries first")
    ap.add_argument("--depth", type=int, default=SearchConfig().candidate_depth, help="k, as the Searcher asks")
    ap.add_argument("--filter-share", type=float, default=0.01, help="the filter's target selectivity")
    ap.add_argument("--baseline", default=None, metavar="REV",
                    help="also time this git revision's LexicalIndex (e.g. main), checking results are identical")
    ap.add_argument("--skip-bm25s", action="store_true", help="leave bm25s's own retrieval (numpy, ~200 ms) out")
    ap.add_argument("--skip-numba", action="store_true", help="leave bm25s's numba backend out")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder for the saved index (default: a temp dir)")
    ap.add_argument("--index", type=Path, default=None,
                    help="keep the built lexical index here and reuse it on later runs (same --n, --seed, --base-index)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    result = run(args)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
