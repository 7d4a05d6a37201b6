"""Benchmark: embedding one text query, side by side: torch, ONNX Runtime fp32 on 1 and 2 threads, int8 on 1, as served.

int8 is the served copy (quantized from the fused graph where the model has one: `onnx_text.fused_export`) and,
beside it, the plain export quantized the same way ("int8 unfused", made in a temporary folder), so the fusion's
gain is measured in the same run.

Single-query latency (p50/p95 over distinct short queries, no LRU hits) and throughput with
concurrent callers (threads sharing one encoder, as the API's thread pool does), measured
interleaved in one run so the figures are comparable on a shared machine; then the cosine of the int8
query vectors with the fp32 ones (``--queries``: an eval set's queries.jsonl, else the built-in list), the check
that goes with `serve --query-encoder int8`. Needs an index built with the ONNX backend (its embedding cache holds
the export; the int8 copy is made beside it once). Usage:

    .venv/bin/python benchmarks/query_encode.py --index .prodsearch/build-rate/index [--rounds 3] [--clients 8] \
        [--queries fixtures/relevance/queries.jsonl]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from signal_threads import query_texts  # noqa: E402  (benchmarks/, this script's folder)

from indexer.encoders import SentenceTransformerEncoder  # noqa: E402
from indexer.manifest import read_manifest  # noqa: E402
from indexer.onnx_text import OnnxTextBackend, _quantize, cpu_session, onnx_path  # noqa: E402

COLOURS = ["red", "navy blue", "black", "white", "green", "pink", "grey", "brown"]
KINDS = ["tshirt", "casual shoes", "watch", "kurta", "jeans", "handbag", "sunglasses", "track pants"]
EXTRAS = ["", "for men", "for women", "cotton", "for kids"]


def queries() -> list[str]:
    return [" ".join(filter(None, [c, k, e])) for c in COLOURS for k in KINDS for e in EXTRAS]


def single(forward, texts: list[str]) -> list[float]:
    times = []
    for text in texts:
        t0 = time.perf_counter()
        forward([text])
        times.append((time.perf_counter() - t0) * 1000)
    return times


def concurrent(forward, texts: list[str], clients: int) -> float:
    """Queries per second with ``clients`` threads calling ``forward`` one text at a time."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda t: forward([t]), texts))
    return len(texts) / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index built with the ONNX text backend")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per path")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--queries", type=Path, action="append", default=[],
                        help="queries.jsonl of a relevance set: the cosine of int8 vs fp32 vectors over its texts")
    args = parser.parse_args()
    cache = read_manifest(args.index).embedding_cache
    if not cache:
        print(f"{args.index} was built without an embedding cache: no ONNX export to measure", file=sys.stderr)
        return 1
    encoder = SentenceTransformerEncoder()
    paths = {"torch direct": encoder._forward}
    for threads in (1, 2):
        backend = OnnxTextBackend(encoder.model, encoder.cache_identity, Path(cache), threads=threads, export=False)
        paths[f"onnx {threads} thread{'s' if threads > 1 else ''}"] = backend.encode
    int8 = OnnxTextBackend(encoder.model, encoder.cache_identity, Path(cache), threads=1, export=False,
                           precision="int8")
    paths["onnx int8 1 thread"] = int8.encode
    scratch = Path(tempfile.mkdtemp(prefix="query-encode-"))
    paths["int8 unfused"] = unfused_int8(onnx_path(Path(cache), encoder.cache_identity), scratch, int8.features)
    served = SentenceTransformerEncoder(query_precision="fp32")
    if served.use_onnx_for_queries(Path(cache)):  # what a server does: all cores alone, one thread when concurrent
        paths["onnx as served"] = lambda texts: served.embed_query_uncached(texts[0])[None, :]
    texts = queries()
    for forward in paths.values():  # warm up
        single(forward, texts[:20])
    latency: dict[str, list[float]] = {name: [] for name in paths}
    qps: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, forward in paths.items():
            latency[name] += single(forward, texts)
            qps[name].append(concurrent(forward, texts, args.clients))
    print(f"{len(texts)} distinct queries x {args.rounds} rounds, interleaved; {args.clients} concurrent clients")
    print(f"{'path':<18} {'p50 ms':>8} {'p95 ms':>8} {'QPS':>8}")
    for name in paths:
        ms = np.asarray(latency[name])
        print(f"{name:<18} {np.percentile(ms, 50):8.2f} {np.percentile(ms, 95):8.2f} {np.median(qps[name]):8.1f}")
    fp32 = paths["onnx 1 thread"]
    sets = {"built-in queries": texts}
    for path in args.queries:
        sets[str(path)] = query_texts(path)
    print("\nint8 vs fp32 query vectors (cosine, one query per run as served)")
    for label, forward in (("int8", int8.encode), ("int8 unfused", paths["int8 unfused"])):
        for name, batch in sets.items():
            cos = np.array([float(unit(forward([t]))[0] @ unit(fp32([t]))[0]) for t in batch])
            print(f"  {label}, {name}: n={len(cos)}  min {cos.min():.4f}  p5 {np.percentile(cos, 5):.4f}  "
                  f"mean {cos.mean():.4f}")
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    return 0


def unfused_int8(export: Path, scratch: Path, features):  # type: ignore[no-untyped-def]
    """The plain export quantized as the served copy is, on one thread: what int8 queries ran before the fusion."""
    target = scratch / "unfused.int8.onnx"
    _quantize(export, target)
    session = cpu_session(target, threads=1)
    return lambda texts: session.run(None, features(texts))[0]


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


if __name__ == "__main__":
    raise SystemExit(main())
