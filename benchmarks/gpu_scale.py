"""GPU half of the scale benchmark (scripts/gpu-bench.sh): exact Flat and IVF on a CUDA device, batched
query throughput and recall@10 against exact, at N synthetic vectors made from a seed (no dataset needed).

The vectors are clustered like real embeddings (``faiss.contrib.datasets.SyntheticDataset``-style: a
seeded mixture of Gaussian clusters on the unit sphere), so IVF recall is meaningful. With faiss-gpu
it measures `GpuIndexFlatIP` and IVF (``IVF{nlist},Flat`` / ``,SQ8``) through `index_cpu_to_gpu`; when
faiss has no GPU (the device image carries PyTorch but no faiss-gpu) it measures the same two
algorithms written in PyTorch (exact matmul + top-k; an inverted file probing ``nprobe`` lists), and
says so in every row. Prints a Markdown table and writes JSON.

    python3 benchmarks/gpu_scale.py --n 1000000 --json-out $OUT/gpu-scale.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

K = 10


def synthetic_vectors(n: int, d: int, seed: int, stream: int = 0, clusters: int = 2000) -> np.ndarray:
    """Unit vectors around ``clusters`` centres drawn from ``seed`` (spread like product embeddings), float32,
    made in chunks; another ``stream`` gives other points (queries) around the same centres."""
    rng = np.random.default_rng([seed, 11])
    centres = rng.standard_normal((clusters, d), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, d), np.float32)
    for start in range(0, n, 1 << 17):
        stop = min(n, start + (1 << 17))
        r = np.random.default_rng([seed, 12, stream, start])
        block = centres[r.integers(0, clusters, stop - start)] + r.standard_normal((stop - start, d), dtype=np.float32) * 0.035
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    truth = truth[:len(found)]
    return float(np.mean([len(set(f[:K].tolist()) & set(t[:K].tolist())) / K for f, t in zip(found, truth, strict=True)]))


def timed_batches(search: Any, queries: np.ndarray, batch: int, repeats: int = 2) -> tuple[np.ndarray, float]:
    """The queries (at most 20 batches' worth, at least 1000) in batches of ``batch``; the best of ``repeats``
    passes after a warm-up -> (ids of the queries searched, QPS)."""
    queries = queries[:max(1000, 20 * batch)]
    search(queries[:batch])
    best, ids = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        ids = np.concatenate([search(queries[i:i + batch]) for i in range(0, len(queries), batch)])
        best = min(best, time.perf_counter() - t0)
    return ids, len(queries) / best


# -- faiss-gpu ----------------------------------------------------------------------------------------------
def faiss_gpu_runs(x: np.ndarray, queries: np.ndarray, args: argparse.Namespace) -> list[dict[str, Any]]:
    import faiss

    res = faiss.StandardGpuResources()
    rows = []
    t0 = time.perf_counter()
    flat = faiss.GpuIndexFlatIP(res, x.shape[1])
    flat.add(x)
    build = time.perf_counter() - t0
    truth = flat.search(queries, K)[1]
    for batch in args.batches:
        ids, qps = timed_batches(lambda q: flat.search(q, K)[1], queries, batch)
        rows.append({"config": "faiss-gpu Flat", "batch": batch, "qps": qps, "recall": recall(ids, truth), "build_s": build})
    for codec in ("Flat", "SQ8"):
        t0 = time.perf_counter()
        cpu = faiss.index_factory(x.shape[1], f"IVF{args.nlist},{codec}", faiss.METRIC_INNER_PRODUCT)
        index = faiss.index_cpu_to_gpu(res, 0, cpu)
        sample = np.random.default_rng(args.seed).choice(len(x), min(len(x), 64 * args.nlist), replace=False)
        index.train(x[np.sort(sample)])
        index.add(x)
        build = time.perf_counter() - t0
        for nprobe in args.nprobes:
            faiss.GpuParameterSpace().set_index_parameter(index, "nprobe", nprobe)
            for batch in args.batches:
                ids, qps = timed_batches(lambda q, ix=index: ix.search(q, K)[1], queries, batch)
                rows.append({"config": f"faiss-gpu IVF{args.nlist},{codec} nprobe={nprobe}", "batch": batch, "qps": qps,
                             "recall": recall(ids, truth), "build_s": build})
        del index
    return rows


# -- the same two algorithms in PyTorch (no faiss-gpu) ----------------------------------------------------------
def torch_runs(x: np.ndarray, queries: np.ndarray, args: argparse.Namespace) -> list[dict[str, Any]]:
    import torch

    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    rows = []
    t0 = time.perf_counter()
    half = torch.float16 if dev.type == "cuda" else torch.float32
    xs = torch.from_numpy(x).to(dev, half)
    sync()
    build = time.perf_counter() - t0

    def flat(q: np.ndarray) -> np.ndarray:
        scores = torch.from_numpy(q).to(dev, half) @ xs.T
        return scores.topk(K, dim=1).indices.cpu().numpy()

    truth = np.concatenate([flat(queries[i:i + 256]) for i in range(0, len(queries), 256)])
    for batch in args.batches:
        ids, qps = timed_batches(flat, queries, batch)
        rows.append({"config": f"torch Flat ({str(half).split('.')[-1]})", "batch": batch, "qps": qps,
                     "recall": recall(ids, truth), "build_s": build})
    t0 = time.perf_counter()
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    sample = xs[torch.randperm(len(xs), generator=gen, device=dev)[:64 * args.nlist]].float()
    centroids = sample[:args.nlist].clone()
    for _ in range(10):  # spherical k-means
        assign = (sample @ centroids.T).argmax(1)
        centroids = torch.zeros_like(centroids).index_add_(0, assign, sample)
        centroids /= centroids.norm(dim=1, keepdim=True).clamp_min(1e-6)
    lists = torch.cat([(xs[i:i + 262144].float() @ centroids.T).argmax(1) for i in range(0, len(xs), 262144)])
    order = torch.argsort(lists)
    sorted_x, counts = xs[order], torch.bincount(lists, minlength=args.nlist)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long, device=dev), counts.cumsum(0)])
    sync()
    build = time.perf_counter() - t0
    off = offsets.tolist()

    def ivf(q: np.ndarray, nprobe: int) -> np.ndarray:
        qs = torch.from_numpy(q).to(dev, half)
        probes = (qs.float() @ centroids.T).topk(nprobe, dim=1).indices
        best_s = torch.full((len(q), K), -1e4, device=dev)
        best_i = torch.full((len(q), K), -1, dtype=torch.long, device=dev)
        for lst in torch.unique(probes).tolist():
            who = (probes == lst).any(1).nonzero().squeeze(1)
            a, b = off[lst], off[lst + 1]
            if a == b:
                continue
            s = (qs[who] @ sorted_x[a:b].T).float()
            top = s.topk(min(K, b - a), dim=1)
            cand_s = torch.cat([best_s[who], top.values], 1)
            cand_i = torch.cat([best_i[who], order[a + top.indices]], 1)
            keep = cand_s.topk(K, dim=1).indices
            best_s[who], best_i[who] = cand_s.gather(1, keep), cand_i.gather(1, keep)
        return best_i.cpu().numpy()

    for nprobe in args.nprobes:
        for batch in args.batches:
            ids, qps = timed_batches(lambda q, p=nprobe: ivf(q, p), queries, batch)
            rows.append({"config": f"torch IVF{args.nlist},Flat nprobe={nprobe}", "batch": batch, "qps": qps,
                         "recall": recall(ids, truth), "build_s": build})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--nlist", type=int, default=4096)
    ap.add_argument("--nprobes", type=lambda s: [int(v) for v in s.split(",")], default=[16, 64])
    ap.add_argument("--batches", type=lambda s: [int(v) for v in s.split(",")], default=[1, 64, 1024])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--engine", choices=("auto", "faiss", "torch"), default="auto")
    ap.add_argument("--json-out", default=None)
    ap.add_argument("--device", default="cuda", help=argparse.SUPPRESS)  # cpu: check the torch path without a GPU
    args = ap.parse_args(argv)
    engine = args.engine
    if engine == "auto":
        try:
            import faiss
            engine = "faiss" if hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0 else "torch"
        except ImportError:
            engine = "torch"
    if engine == "torch":
        import torch
        if args.device == "cuda" and not torch.cuda.is_available():
            print("SKIP: no CUDA device (neither faiss-gpu nor torch sees a GPU)")
            return 0
    t0 = time.perf_counter()
    x = synthetic_vectors(args.n, args.d, args.seed)
    queries = synthetic_vectors(args.queries, args.d, args.seed, stream=1)
    made = time.perf_counter() - t0
    rows = (faiss_gpu_runs if engine == "faiss" else torch_runs)(x, queries, args)
    print(f"# GPU scale: {args.n:,} x {args.d} synthetic vectors (seed {args.seed}, made in {made:.0f} s), "
          f"{args.queries:,} queries, engine {engine}\n")
    print("| config | batch | QPS | recall@10 | build s |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['config']} | {r['batch']} | {r['qps']:,.0f} | {r['recall']:.3f} | {r['build_s']:.1f} |")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"n": args.n, "d": args.d, "queries": args.queries, "engine": engine, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
