"""The `attributes` signal and the relevant-set count at scale, old (numpy over the holders) and new (compiled, over
the named values' posting lists) side by side in one process, query by query: the runs and masks must be identical
(it stops at the first difference); prints p50/p95 of each and their ratio. No index is built: the synthetic
catalog (benchmarks/synthetic_catalog.py) is grown without vectors and query understanding built over it.

    .venv/bin/python benchmarks/scale_attributes.py --n 1000000 --base-index /tmp/br3/index

The lexical run the tie-break reads is a stand-in (seeded: `--lexical` holders of the query's values with
random BM25-like scores, so ties and misses both happen): it is the same input to both versions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "benchmarks"):
    sys.path.insert(0, str(p))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from synthetic_catalog import DEFAULT_BASE_INDEX, filter_mask, grow, load_base, make_queries, pick_filter  # noqa: E402

from search.attribute_scoring import reference_retrieve_attributes, retrieve_attributes  # noqa: E402
from search.fusion import Run  # noqa: E402
from search.understanding import QueryUnderstanding  # noqa: E402


def _ctx(qu: QueryUnderstanding, n: int, depth: int, mask: np.ndarray | None, text: str, lexical: Run) -> SimpleNamespace:
    searcher = SimpleNamespace(understanding=qu, index=SimpleNamespace(n_products=n))
    return SimpleNamespace(searcher=searcher, depth=depth, mask=mask, text=text, search_lexical=lambda _t: lexical)


def _lexical(qu: QueryUnderstanding, parsed, n: int, size: int, rng: np.random.Generator) -> Run:
    holders = np.unique(np.concatenate([qu._holders(m) for g in parsed.groups for m in g.matches]))
    pool = np.concatenate([rng.choice(holders, min(len(holders), size // 2 + 1), replace=False),
                           rng.integers(0, n, size // 2)])
    docs = np.unique(pool)[:size].astype(np.int64)
    scores = np.round(rng.random(len(docs)) * 20, 1)  # rounded: equal BM25 scores happen
    order = np.lexsort((docs, -scores))
    return Run(docs[order], scores[order])


def pct(v: list[float], q: float) -> float:
    return float(np.percentile(v, q)) if v else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--base-index", type=Path, default=DEFAULT_BASE_INDEX)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--depth", type=int, default=300)
    ap.add_argument("--lexical", type=int, default=300, help="rows in the stand-in lexical run (default 300)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    catalog = grow(load_base(args.base_index, seed=args.seed), args.n, args.seed, vectors=False)
    qu = QueryUnderstanding.build(catalog.products)  # type: ignore[arg-type]
    flt, share = pick_filter(catalog, 0.01)
    masks = {"plain": None, "1% filter": filter_mask(catalog, flt)}
    texts = [t for t, _ in make_queries(catalog, args.queries, args.seed)]
    qu.top_scored(qu.parse(texts[0]), args.n, None, args.depth)  # postings and kernels ready before timing
    print(f"{args.n:,} products grown from {catalog.base.source} in {time.perf_counter() - t0:.0f} s; "
          f"filter {flt} ({masks['1% filter'].mean():.2%}); {len(texts)} queries, depth {args.depth}")
    rng = np.random.default_rng(args.seed)
    for kind, mask in masks.items():
        times: dict[str, list[float]] = {k: [] for k in ("attributes_old", "attributes_new", "mask_old", "mask_new")}
        compared = 0
        for text in texts:
            parsed = qu.parse(text)
            if not parsed:
                continue
            lexical = _lexical(qu, parsed, args.n, args.lexical, rng)
            for timed in (False, True):
                a = time.perf_counter()
                old = reference_retrieve_attributes(_ctx(qu, args.n, args.depth, mask, text, lexical), parsed)
                b = time.perf_counter()
                new = retrieve_attributes(_ctx(qu, args.n, args.depth, mask, text, lexical), parsed)
                c = time.perf_counter()
                m_old = qu.reference_matching_mask(parsed, n=args.n)
                d = time.perf_counter()
                m_new = qu.matching_mask(parsed, n=args.n)
                e = time.perf_counter()
                if not (np.array_equal(old.docs, new.docs) and np.array_equal(old.scores, new.scores)):
                    raise SystemExit(f"attributes runs differ for {text!r} ({kind})")
                if not np.array_equal(m_old, m_new):
                    raise SystemExit(f"matching masks differ for {text!r}")
                if timed:
                    for key, ms in zip(times, (b - a, c - b, d - c, e - d), strict=True):
                        times[key].append(ms * 1e3)
                    compared += 1
        print(f"{kind}: {compared} queries, runs and masks identical; load average {os.getloadavg()[0]:.1f}")
        for what in ("attributes", "mask"):
            o, nw = times[f"{what}_old"], times[f"{what}_new"]
            print(f"  {what:10s} old p50 {pct(o, 50):7.3f} p95 {pct(o, 95):7.3f} ms | new p50 {pct(nw, 50):7.3f} "
                  f"p95 {pct(nw, 95):7.3f} ms | old/new p50 {pct(o, 50) / pct(nw, 50):5.1f}x p95 "
                  f"{pct(o, 95) / pct(nw, 95):5.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
