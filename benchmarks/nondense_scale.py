"""The non-dense costs of a whole `Searcher` text query at scale (#11): understanding, lexical (BM25), attributes,
fusion, paging and the relevant-set count (`total`), with the dense searches stubbed out, old code and new side by
side in one process, interleaved query by query; the pages and totals must be identical (it stops at the first
difference). Light: no vectors are drawn or indexed (~3.5 GB at 1M products).

    .venv/bin/python benchmarks/nondense_scale.py --n 1000000 --base-index /tmp/br3/index --old main

``--old REV``: the `search` package as it is at git revision REV (read with `git show`, loaded under another
package name, `search_old`), the "old" variant; without it only this checkout runs (with ``--profile``, under
cProfile). The catalog is `synthetic_catalog.grow(..., vectors=False)` (the products of benchmarks/scale.py),
its BM25 index built in process. The dense fields are a stub (`StubVectors`) returning a seeded run per query
and field (the same for both variants), so `semantic` / `visual` timings here mean nothing; fusion still sees
three full runs. Prints p50/p95 of each stage and of the whole query less the dense stages, per variant and the
old/new ratio, with and without the 1% filter of benchmarks/scale.py.

``--allow-tie-differences``: for a new version that changes, on purpose, which of the rows exactly tied at the
candidate depth the `attributes` run keeps (the first by row since the compiled walk stops early; REV chose
arbitrarily with `np.argpartition`). A third variant, "old (REV), ties by row", is REV's `search` package with that
one `np.argpartition` replaced by the row order (an exact `np.lexsort` of the same rows), run on every query but not
timed. What is checked then: the new answers (page ids, scores, total, pageable) equal that variant's exactly, and
the totals equal REV's as it is; the answers that differ from REV's as it is (pages, or `pageable`: the fused
candidates' count, as the kept rows change; only through that tie choice) are counted and printed, not refused.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "benchmarks"):
    sys.path.insert(0, str(p))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from scale_harness import pct, precomputed_encoders  # noqa: E402
from synthetic_catalog import DEFAULT_BASE_INDEX, grow, load_base, make_queries, pick_filter  # noqa: E402

from indexer.catalog import product_text  # noqa: E402
from indexer.index_dir import resolve_current  # noqa: E402
from indexer.lexical import LexicalIndex  # noqa: E402
from indexer.loaded import LoadedIndex  # noqa: E402
from indexer.manifest import read_manifest  # noqa: E402
from search.config import SearchConfig  # noqa: E402
from search.filters import Filters  # noqa: E402
from search.signal_threads import DEFAULT_SIGNAL_THREADS, SIGNAL_THREADS_ENV  # noqa: E402
from search.types import SearchRequest  # noqa: E402

DENSE = ("semantic", "visual", "encode")  # stages stubbed here (measured by benchmarks/scale.py)
K = 10
SLOWEST = ("attributes", "lexical", "total_estimate")  # stages whose slowest queries are printed
TIES_SUFFIX = ", ties by row"
TIES_VARIANT = "old ({})" + TIES_SUFFIX  # --allow-tie-differences: answers checked, not timed


class StubVectors:
    """A vector store answering every search with a seeded run (``key`` set per query by the benchmark) of the
    allowed rows, scores descending: the dense signals' runs without their cost."""

    def __init__(self, n: int, dim: int):
        self.n, self.dim, self.key = n, dim, 0

    def count(self, field_name: str) -> int:
        return self.n

    def search(self, field_name: str, queries: np.ndarray, k: int, allowed: Any = None) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.key, len(field_name)])
        if allowed is None or allowed.mask is None:
            rows = np.unique(rng.integers(0, self.n, 2 * k))
        else:
            ok = np.flatnonzero(allowed.mask)
            rows = np.unique(ok[rng.integers(0, len(ok), 2 * k)]) if len(ok) else ok
        rows = rng.permutation(rows)[:k]
        scores = np.sort(rng.random(len(rows)).astype(np.float32))[::-1]
        out_rows = np.full((1, k), -1, np.int64)
        out_scores = np.full((1, k), -np.inf, np.float32)
        out_rows[0, :len(rows)], out_scores[0, :len(rows)] = rows, scores
        return out_scores, out_rows

    def vectors(self, field_name: str, rows: np.ndarray) -> np.ndarray:
        return np.zeros((len(rows), self.dim), np.float32)

    def close(self) -> None:
        pass


class ZeroVectors(dict):
    """Query vectors looked up by text: zeros for any text (the stub ignores them)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def __missing__(self, key: str) -> np.ndarray:
        return np.zeros(self.dim, np.float32)


ARBITRARY_TIES = "np.argpartition(-final, ctx.depth - 1)[:ctx.depth]"  # REV's `_ranked`: any of the exactly tied rows
TIES_BY_ROW = "np.lexsort((rows, -final))[:ctx.depth]"  # the same rows' first `depth` by final score, then row


def old_package(rev: str, into: Path, package: str = "search_old", ties_by_row: bool = False) -> str:
    """The `search` package at git revision ``rev`` written under ``into`` as ``package`` (its imports of
    `search` re-pointed), importable; returns the package name. ``ties_by_row``: its `attributes` run keeps the
    first rows by row among those exactly tied at the depth (`ARBITRARY_TIES` -> `TIES_BY_ROW`)."""
    files = subprocess.run(["git", "-C", str(REPO), "ls-tree", "-r", "--name-only", rev, "search"], check=True,
                           capture_output=True, text=True).stdout.split()
    for name in files:
        data = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:{name}"], check=True, capture_output=True).stdout
        target = into / (package + name[len("search"):])
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".py"):
            text = re.sub(r"^(\s*)(from|import) search(?=[\s.])", rf"\1\2 {package}", data.decode(), flags=re.M)
            if ties_by_row and name == "search/attribute_scoring.py":
                if text.count(ARBITRARY_TIES) != 1:
                    raise SystemExit(f"--allow-tie-differences: {rev}:{name} does not hold {ARBITRARY_TIES!r} once")
                text = text.replace(ARBITRARY_TIES, TIES_BY_ROW)
            data = text.encode()
        target.write_bytes(data)
    if str(into) not in sys.path:
        sys.path.insert(0, str(into))
    return package


def build_searchers(args: argparse.Namespace, old_dir: Path | None) -> tuple[dict[str, Any], Any, Any, list[str]]:
    t0 = time.perf_counter()
    catalog = grow(load_base(args.base_index, seed=args.seed), args.n, args.seed, vectors=False)
    products = catalog.products
    cache = args.lexical_cache / f"n{args.n}-seed{args.seed}" if args.lexical_cache else None
    if cache is not None and (cache / "n_docs.txt").exists():
        lexical = LexicalIndex.load(cache)
    else:
        lexical = LexicalIndex.build([product_text(p) for p in products])
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            lexical.save(cache)
    print(f"{args.n:,} products grown from {catalog.base.source}, BM25 built, in {time.perf_counter() - t0:.0f} s; "
          f"RSS {psutil.Process().memory_info().rss / 2**30:.2f} GB", flush=True)
    manifest = read_manifest(resolve_current(args.base_index)).model_copy(update={"embedding_cache": ""})
    stub = StubVectors(args.n, manifest.text_dim)
    store = _Store(products)
    loaded = LoadedIndex(directory=Path("."), manifest=manifest, vector_store=stub,  # type: ignore[arg-type]
                         vector_fields={"text": "text", "clip_text": "text", "image": "image"},
                         image_rows=np.arange(args.n, dtype=np.int64), lexical=lexical, store=store)  # type: ignore[arg-type]
    encoders = precomputed_encoders(manifest.text_model, manifest.clip_model, manifest.text_dim,
                                    ZeroVectors(manifest.text_dim))
    variants: dict[str, Any] = {}
    threads = args.signal_threads
    if old_dir is not None:
        packages = [("search_old", False, f"old ({args.old})")]
        if args.allow_tie_differences:
            packages.append(("search_old_ties", True, TIES_VARIANT.format(args.old)))
        for name, ties_by_row, label in packages:
            package = old_package(args.old, old_dir, name, ties_by_row)
            old = importlib.import_module(f"{package}.searcher")
            old_config = importlib.import_module(f"{package}.config").SearchConfig(candidate_depth=args.depth)
            variants[label] = (old.Searcher(loaded, encoders, old_config, signal_threads=threads),
                               importlib.import_module(f"{package}.filters").Filters,
                               importlib.import_module(f"{package}.types").SearchRequest)
    from search.searcher import Searcher

    variants["new"] = (Searcher(loaded, encoders, SearchConfig(candidate_depth=args.depth), signal_threads=threads),
                       Filters, SearchRequest)
    t1 = time.perf_counter()
    for label, (searcher, _, _) in variants.items():
        if label.endswith(TIES_SUFFIX):  # the same catalog state as REV's (its kernels are untouched): shared
            searcher.__dict__["understanding"] = variants[f"old ({args.old})"][0].understanding
        searcher.understanding  # noqa: B018 - built now, not in the first query
    print(f"query understanding built in {time.perf_counter() - t1:.0f} s", flush=True)
    flt, _ = pick_filter(catalog, 0.01)
    texts = [t for t, _ in make_queries(catalog, args.queries, args.seed)]
    return variants, stub, flt, texts


class _Store:
    """The product store's read side over the grown products (no sqlite, no thumbnails)."""

    def __init__(self, products: Any):
        self.products = products
        self.has_thumbnail = np.zeros(len(products), bool)
        self.row_of: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.products)


def run(variants: dict[str, Any], stub: StubVectors, flt: dict | None, texts: list[str], warmup: int,
        profile: cProfile.Profile | None) -> dict[str, dict[str, list[float]]]:
    """Every query through every variant in turn (pages alternate 1 and 2); stage timings per variant."""
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in variants if not name.endswith(TIES_SUFFIX)}
    slowest: dict[tuple[str, str], list[tuple[float, str]]] = {}
    tie_differences = 0
    for i, text in enumerate(texts):
        answers = {}
        for name, (searcher, filters_cls, request_cls) in variants.items():
            stub.key = i
            request = request_cls(text=text, k=K, offset=K * (i % 2),
                                  filters=None if flt is None else filters_cls(**flt))
            if profile is not None and i >= warmup:
                profile.enable()
            response = searcher.search(request)
            if profile is not None:
                profile.disable()
            answers[name] = ([h.product.id for h in response.hits], [h.score for h in response.hits],
                             response.total, response.pageable)
            if i < warmup or name not in stages:
                continue
            timings = response.timings_ms
            for stage, ms in timings.items():
                stages[name].setdefault(stage, []).append(ms)
            rest = timings["total"] - sum(v for k, v in timings.items() if k.startswith(DENSE))
            stages[name].setdefault("non-dense", []).append(rest)
            for stage in SLOWEST:
                slowest.setdefault((name, stage), []).append((timings.get(stage, 0.0), text))
        first = next(iter(answers.values()))
        ties = next((a for name, a in answers.items() if name.endswith(TIES_SUFFIX)), None)
        for name, answer in answers.items():
            if ties is None and answer != first:
                raise SystemExit(f"{name} answers {text!r} differently: {answer} vs {first}")
            if ties is not None and name == "new" and answer != ties:
                raise SystemExit(f"new answers {text!r} unlike the old ties-by-row variant: {answer} vs {ties}")
            if ties is not None and answer[2] != first[2]:  # the total: no tie choice changes it
                raise SystemExit(f"{name} counts {text!r} differently: total {answer[2]} vs {first[2]}")
        if ties is not None and answers["new"] != first:
            tie_differences += 1
    if any(name.endswith(TIES_SUFFIX) for name in variants):
        print(f"  {tie_differences} of {len(texts)} pages differ from the old one only by which exactly tied rows "
              "the attributes run keeps (new = old with ties by row, exactly; totals equal)")
    for (name, stage), seen in slowest.items():
        worst = sorted(seen, reverse=True)[:3]
        print(f"  slowest {stage} ({name}): " + "; ".join(f"{ms:.1f} ms {text!r}" for ms, text in worst))
    return stages


def report(kind: str, stages: dict[str, dict[str, list[float]]]) -> None:
    names = list(stages)
    print(f"\n{kind} (load average {os.getloadavg()[0]:.1f}); ms p50 / p95" + ("; ratio old/new" if len(names) > 1 else ""))
    keys = [k for k in stages[names[-1]] if not k.startswith(DENSE)]
    for key in sorted(keys, key=lambda k: (k in ("non-dense", "total"), k)):
        cells = []
        for name in names:
            v = stages[name].get(key, [])
            cells.append(f"{name} {pct(v, 50):7.3f} / {pct(v, 95):7.3f}" if v else f"{name} -")
        if len(names) > 1 and stages[names[0]].get(key) and stages[names[-1]].get(key):
            o, nw = stages[names[0]][key], stages[names[-1]][key]
            cells.append(f"x{pct(o, 50) / max(pct(nw, 50), 1e-9):.2f} / x{pct(o, 95) / max(pct(nw, 95), 1e-9):.2f}")
        print(f"  {key:16s} " + " | ".join(cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--base-index", type=Path, default=DEFAULT_BASE_INDEX)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--depth", type=int, default=SearchConfig().candidate_depth)
    ap.add_argument("--lexical-cache", type=Path, help="keep the BM25 index built here and reuse it next time "
                    "(~6 min at 1M on busy cores); same --n, --seed and base index only")
    ap.add_argument("--old", help="git revision whose `search` package is the old variant (e.g. main)")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile's top N functions (new only)")
    ap.add_argument("--allow-tie-differences", action="store_true",
                    help="accept pages differing from --old's only by which exactly tied rows the attributes run keeps: "
                         "checked against --old with ties ordered by row (see the module docstring)")
    ap.add_argument("--signal-threads", help="each Searcher's signal threads, or several comma-separated (one pass "
                    f"each, the same built Searchers; default: ${SIGNAL_THREADS_ENV}, else {DEFAULT_SIGNAL_THREADS})")
    args = ap.parse_args(argv)
    thread_counts = [int(t) for t in args.signal_threads.split(",")] if args.signal_threads else [None]
    args.signal_threads = thread_counts[0]
    with tempfile.TemporaryDirectory(prefix="nondense-old-") as tmp:
        variants, stub, flt, texts = build_searchers(args, Path(tmp) if args.old else None)
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:
            variants = {"new": variants["new"]}
        print(f"{len(texts)} queries, depth {args.depth}; filter {flt}; variants interleaved: {', '.join(variants)}")
        for threads in thread_counts:
            these = variants if threads in (None, args.signal_threads) else {
                label: (searcher.with_signal_threads(threads), *rest) for label, (searcher, *rest) in variants.items()}
            for kind, f in (("plain", None), ("1% filter", flt)):
                label = kind if threads is None else f"{kind}, {threads} signal thread(s)"
                report(label, run(these, stub, f, texts, args.warmup, profile))
                same = "pages, scores, totals identical across variants" if not args.allow_tie_differences else (
                    "new identical to the old ties-by-row variant; totals identical to the old")
                print(f"  {same}" if len(these) > 1 else "", flush=True)
        print(f"peak RSS {psutil.Process().memory_info().rss / 2**30:.2f} GB (now)")
        if profile is not None:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
