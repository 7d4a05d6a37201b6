"""Filtered dense search on an IVF,SQ8 field at scale: ways to score exactly the rows a selective filter allows,
timed side by side (interleaved query by query, FAISS and BLAS on one thread as the Searcher runs them).

The ways (each returns the top k of the allowed rows; all but ``faiss-nprobe`` exactly those of the decoded vectors):
- ``decode``: the rows' codes gathered from the row-ordered table, one ``sa_decode``, a matmul (the path before
  `indexer.sq8_scoring`; `vector_index.exact_search_decoded`);
- ``sq8``: `search_vectors`, the engine's way: inner products on the uint8 codes (`indexer.sq8_scoring`) under
  `EXACT_FILTER_FRACTION` of allowed rows; above it (not exact) the IVF search at nprobe x min(8, 1 / share);
- ``faiss-all``: the IVF's own scan of every list (nprobe = nlist) skipping rows outside an ``IDSelectorBitmap``;
- ``faiss-lists``: the same scan over only the lists holding allowed rows (``search_preassigned``);
- ``faiss-nprobe``: the approximate filtered IVF search at the field's own nprobe (not exact; for reference), and
  with ``--widen 2,4,8`` at that nprobe times each.
Recall@10 is against exact search over the float vectors the codes were made from; ``same`` is the share of
queries whose top-k rows equal ``decode``'s.

Vectors are grown from a built index (default /tmp/br3/index, its real 384-d text and photo vectors) as
benchmarks/synthetic_catalog.py grows them (a random parent's vector plus noise), one field at a time and in
chunks (1M x 384 float32 is 1.5 GB: only the codes and the float vectors of the filters' rows are kept).
Filters are one attribute value of the parent product (so the allowed rows cluster as real filters do), the
value whose share is nearest each ``--shares`` target. Unfiltered, ``faiss`` (the field's nprobe) is timed too.

    PYTHONPATH=. python benchmarks/filtered_dense.py --n 1000000 --queries 200
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic_catalog import _unit, load_base
from indexer.ivf_codes import row_codes
from indexer.vector_index import exact_search_decoded, search_vectors, use_single_thread_search

logger = logging.getLogger("filtered_dense")
CHUNK = 65536
NOISE = 0.25
NPROBE = {"text": 32, "image": 96}
Search = Callable[[np.ndarray, np.ndarray | None, int], tuple[np.ndarray, np.ndarray]]  # (query, mask, k) -> D, I


def grown_chunks(base_vectors: np.ndarray, parent: np.ndarray, seed: int):
    """``(start, unit float32 block)`` of ``base_vectors[parent] + noise``, CHUNK rows at a time."""
    d = base_vectors.shape[1]
    for c, start in enumerate(range(0, len(parent), CHUNK)):
        rng = np.random.default_rng([seed, 7, c])
        block = base_vectors[parent[start:start + CHUNK]]
        block = block + rng.standard_normal(block.shape, dtype=np.float32) * np.float32(NOISE / np.sqrt(d))
        yield start, _unit(block)


def build_field(base_vectors: np.ndarray, parent: np.ndarray, keep: np.ndarray, nlist: int, seed: int,
                cache: Path | None) -> tuple[faiss.Index, np.ndarray]:
    """IVF{nlist},SQ8 (inner product) over the grown vectors, and the float vectors of rows ``keep`` (sorted)."""
    d = base_vectors.shape[1]
    kept = np.empty((len(keep), d), np.float32)
    index = faiss.read_index(str(cache)) if cache is not None and cache.exists() else None
    if index is None:
        index = faiss.index_factory(d, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        train = np.concatenate([b for _, b in grown_chunks(base_vectors, parent[-2 * CHUNK:], seed + 1)])
        t0 = time.perf_counter()
        index.train(train)
        logger.info("trained %d lists on %d rows in %.0f s", nlist, len(train), time.perf_counter() - t0)
    fill = index.ntotal == 0
    for start, block in grown_chunks(base_vectors, parent, seed):
        if fill:
            index.add(block)
        lo, hi = np.searchsorted(keep, [start, start + len(block)])
        kept[lo:hi] = block[keep[lo:hi] - start]
    if fill and cache is not None:
        faiss.write_index(index, str(cache))
    faiss.extract_index_ivf(index).make_direct_map()
    return index, kept


def pick_masks(base: Any, parent: np.ndarray, shares: list[float]) -> dict[float, tuple[str, np.ndarray]]:
    """For each target share, the parent attribute value whose share of rows is nearest it, and its mask."""
    weight = np.bincount(parent, minlength=len(base.products))
    counts: dict[tuple[str, str], int] = {}
    for row, w in enumerate(weight.tolist()):
        for name, value in base.products[row].attributes.items():
            counts[(name, value)] = counts.get((name, value), 0) + w
    out = {}
    for share in shares:
        (name, value), _ = min(counts.items(), key=lambda kv: (abs(kv[1] / len(parent) - share), kv[0]))
        holds = np.array([p.attributes.get(name) == value for p in base.products], bool)
        out[share] = (f"{name}={value}", holds[parent])
    return out


def faiss_all(index: faiss.Index) -> Search:
    ivf = faiss.extract_index_ivf(index)

    def search(q: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        bitmap = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        return index.search(q, k, params=faiss.SearchParametersIVF(sel=sel, nprobe=ivf.nlist))
    return search


def faiss_lists(index: faiss.Index, table: np.ndarray, coarse: int) -> Search:
    """The IVF scan over only the lists holding an allowed row (their <q, centroid> computed here)."""
    ivf = faiss.extract_index_ivf(index)
    centroids = ivf.quantizer.reconstruct_n(0, ivf.nlist)
    weights = (256 ** np.arange(coarse)).astype(np.int64)

    def search(q: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        lists = np.unique(table[np.flatnonzero(mask), :coarse].astype(np.int64) @ weights)
        Iq = np.ascontiguousarray(np.broadcast_to(lists, (len(q), len(lists))))
        Dq = np.ascontiguousarray((q @ centroids[lists].T).astype(np.float32))
        bitmap = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        D = np.empty((len(q), k), np.float32)
        I = np.empty((len(q), k), np.int64)
        params = faiss.SearchParametersIVF(sel=sel, nprobe=len(lists))  # the Python wrapper refuses params
        ivf.search_preassigned_c(len(q), faiss.swig_ptr(q), k, faiss.swig_ptr(Iq), faiss.swig_ptr(Dq),
                                 faiss.swig_ptr(D), faiss.swig_ptr(I), False, params)
        return D, I
    return search


def faiss_nprobe(index: faiss.Index, nprobe: int) -> Search:
    def search(q: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        bitmap = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        return index.search(q, k, params=faiss.SearchParametersIVF(sel=sel, nprobe=nprobe))
    return search


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[:10].tolist()) & set(t[:10].tolist())) / max(1, min(10, len(t)))
                          for f, t in zip(found, truth, strict=True)]))


def time_ways(ways: dict[str, Search], queries: np.ndarray, mask: np.ndarray | None, k: int,
              truth: np.ndarray | None) -> dict[str, dict[str, float]]:
    """Each way on each query in turn (interleaved); p50/p95 ms, recall@10 and same-as-first-way share. A way gets
    the mask, as `search_vectors` does: finding the allowed rows (``flatnonzero``, ~0.4 ms at 1M) is part of its time."""
    ms: dict[str, list[float]] = {w: [] for w in ways}
    found: dict[str, list[np.ndarray]] = {w: [] for w in ways}
    scores: dict[str, list[np.ndarray]] = {w: [] for w in ways}
    for i in range(len(queries)):
        q = queries[i:i + 1]
        for name, way in ways.items():
            t0 = time.perf_counter()
            D, I = way(q, mask, k)
            ms[name].append((time.perf_counter() - t0) * 1000)
            found[name].append(I[0])
            scores[name].append(D[0])
    first = next(iter(ways))
    out = {}
    for name in ways:
        same = np.mean([np.array_equal(a, b) for a, b in zip(found[name], found[first], strict=True)])
        # Where the rows differ from the first way's, do the sorted scores differ by more than float rounding?
        gap = max(float(np.max(np.abs(a - b), initial=0.0)) for a, b in zip(scores[name], scores[first], strict=True))
        out[name] = {"min_ms": min(ms[name]), "p50_ms": pct(ms[name], 50), "p95_ms": pct(ms[name], 95),
                     "same_as_" + first: float(same), "max_score_gap": gap}
        if truth is not None:
            out[name]["recall@10"] = recall_at_10(np.stack(found[name]), truth)
    return out


def run_field(field: str, base: Any, args: argparse.Namespace) -> dict[str, Any]:
    vectors = base.text_vectors if field == "text" else base.image_vectors
    rng = np.random.default_rng([args.seed, 1])
    parent_of_vector = rng.integers(0, len(vectors), args.n)
    parent_product = parent_of_vector if field == "text" else base.image_rows[parent_of_vector]
    masks = pick_masks(base, parent_product, args.shares)
    query_rows = np.sort(rng.choice(args.n, args.queries, replace=False))
    keep = np.unique(np.concatenate([query_rows, *(np.flatnonzero(m) for _, m in masks.values())]))
    cache = Path(args.cache) / f"{field}-{args.n}-{args.nlist}-{args.seed}.faiss" if args.cache else None
    t0 = time.perf_counter()
    index, kept = build_field(vectors, parent_of_vector, keep, args.nlist, args.seed, cache)
    build_s = time.perf_counter() - t0
    codes = row_codes(index)
    if codes is None or codes.scorer is None:
        raise SystemExit("no row codes / SQ8 scorer for this index")
    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = NPROBE.get(field, 32)
    q = kept[np.searchsorted(keep, query_rows)]
    q = _unit(q + np.random.default_rng([args.seed, 3]).standard_normal(q.shape, dtype=np.float32)
              * np.float32(0.5 / np.sqrt(q.shape[1])))
    coarse = int(ivf.coarse_code_size())
    ways: dict[str, Search] = {
        "decode": lambda q, m, k: exact_search_decoded(index, q, k, np.flatnonzero(m), codes),
        "sq8": lambda q, m, k: search_vectors(index, q, k, m, codes=codes),
        "faiss-all": faiss_all(index),
        "faiss-lists": faiss_lists(index, codes.table, coarse),
        "faiss-nprobe": faiss_nprobe(index, ivf.nprobe),
        **{f"faiss-nprobe-x{m}": faiss_nprobe(index, min(ivf.nlist, ivf.nprobe * m)) for m in args.widen},
    }
    result: dict[str, Any] = {"field": field, "n": args.n, "d": index.d, "nlist": ivf.nlist, "nprobe": ivf.nprobe,
                              "build_s": round(build_s, 1), "filters": {}}
    for label, mask in masks.values():
        allowed = np.flatnonzero(mask)
        sub = kept[np.searchsorted(keep, allowed)]
        truth = allowed[np.argsort(-(q @ sub.T), axis=1, kind="stable")[:, :10]]
        for k in args.k:
            load = os.getloadavg()[0]
            res = time_ways(ways, q, mask, k, truth)
            key = f"{label} ({len(allowed)} rows, {len(allowed) / args.n:.2%}) k={k}"
            result["filters"][key] = {"load": load, **res}
            logger.info("%s %s: %s", field, key, json.dumps(res))
    for k in args.k:
        unfiltered = {"faiss": lambda q, m, k: index.search(q, k)}
        result[f"unfiltered k={k}"] = time_ways(unfiltered, q, None, k, None)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--base-index", type=Path, default=Path("/tmp/br3/index"))
    ap.add_argument("--fields", default="text,image")
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--shares", default="0.001,0.01,0.05,0.1", help="target filter shares, comma-separated")
    ap.add_argument("--k", default="10,300", help="depths, comma-separated (the Searcher asks 300)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default="", help="a folder to keep the built IVF files in (reused when there)")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    ap.add_argument("--widen", default="", help="also the approximate search at nprobe x each of these (e.g. 2,4,8): "
                    "the recall a filter above EXACT_FILTER_FRACTION gets (the engine widens by min(8, 1/share))")
    args = ap.parse_args(argv)
    args.shares = [float(s) for s in args.shares.split(",")]
    args.k = [int(s) for s in args.k.split(",")]
    args.widen = [int(s) for s in args.widen.split(",") if s]
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = parse_args(argv)
    use_single_thread_search()
    base = load_base(args.base_index, fallback=True, seed=args.seed)
    report = {"uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), "fields": []}
    for field in args.fields.split(","):
        report["fields"].append(run_field(field, base, args))
    report["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    report["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)  # KiB on Linux
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
