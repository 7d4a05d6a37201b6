"""Scale benchmark (#11 section 3): N synthetic products grown from the real fashion index, each vector
configuration measured side by side: build time, disk and RAM per product, recall@10 against exact,
p50/p95 per signal and per whole `Searcher` text query, with and without a 1%-selectivity filter, BM25
alone, peak RSS. Writes ``scale-N.md`` / ``.json`` / ``.png`` under ``--out``.

    .venv/bin/python benchmarks/scale.py --n 1000000 --partial       # the 1M proof (~45 min on 2 busy cores, 11 GB)
    .venv/bin/python benchmarks/scale.py --n 20000 --configs flat,hnsw

Nothing is embedded: the catalog and its vectors are grown from an index already built
(`--base-index`, default .prodsearch/build-rate/index: build one from the shared fashion catalog, README
"Fashion benchmark"); without one, from the fixture catalog with seeded vectors (say so in figures).
The index directory is written by the engine's writer (`write_index`, Flat fields), then each
configuration's fields are built from its vectors and searched through the same `Searcher`.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "benchmarks"):
    sys.path.insert(0, str(p))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import scale_harness as h  # noqa: E402
from scale_report import write_outputs  # noqa: E402
from synthetic_catalog import DEFAULT_BASE_INDEX, grow, load_base, make_queries, perturbed_query_vectors, pick_filter  # noqa: E402
from threadpoolctl import ThreadpoolController  # noqa: E402

from indexer.loaded import load_index  # noqa: E402
from search.config import SearchConfig  # noqa: E402
from search.filters import Filters  # noqa: E402
from search.searcher import Searcher  # noqa: E402
from search.types import SearchRequest  # noqa: E402

logger = logging.getLogger("scale")
DEFAULT_CONFIGS = "flat,hnsw,ivf-sq8,milvus-hnsw"


def encode_queries(texts: list[str], base_index: Path | None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The queries' vectors from the real text encoder, one at a time as served (timed: the encoding figure)."""
    from indexer.encoders import SentenceTransformerEncoder
    from indexer.index_dir import resolve_current
    from indexer.manifest import read_manifest
    from indexer.onnx_text import use_exported_for_queries

    encoder = SentenceTransformerEncoder()
    manifest = read_manifest(resolve_current(base_index)) if base_index else None
    onnx = use_exported_for_queries(encoder, manifest.embedding_cache if manifest else "")
    vectors, ms = {}, []
    for text in dict.fromkeys(texts):
        t0 = time.perf_counter()
        vectors[text] = encoder.encode_query(text)
        ms.append((time.perf_counter() - t0) * 1000)
    return vectors, {"p50_ms": h.pct(ms[3:], 50), "p95_ms": h.pct(ms[3:], 95), "backend": "onnx" if onnx else "torch"}


def add_rewritten_queries(searcher: Searcher, texts: list[str], vectors: dict[str, np.ndarray],
                          use_encoder: bool, base_index: Path | None) -> int:
    """Vectors for the texts the Searcher's signals search (query understanding rewrites a typed query:
    typos corrected, synonyms resolved), added to ``vectors``; without the encoder, a rewritten text
    takes its typed text's stand-in vector. Returns how many were added."""
    rewritten = {}
    for text in texts:
        searched = searcher.signal_text(SearchRequest(text=text))
        if searched is not None and searched not in vectors:
            rewritten.setdefault(searched, text)
    if use_encoder and rewritten:
        vectors.update(encode_queries(list(rewritten), base_index)[0])
    else:
        vectors.update({searched: vectors[typed] for searched, typed in rewritten.items()})
    return len(rewritten)


def satisfies(product: Any, filters: dict[str, Any]) -> bool:
    """Whether a hit passes the benchmark's filter (one brand or one attribute value)."""
    if "brand" in filters:
        return product.brand.lower() in {b.lower() for b in filters["brand"]}
    (name, values), = filters["attributes"].items()
    return product.attributes.get(name, "").lower() in {v.lower() for v in values}


def measure_config(config: h.Config, loaded: Any, searcher: Searcher, flat: h.BuiltStore, queries: np.ndarray,
                   texts: list[str], truth: dict, masks: dict, filters: Filters, args: argparse.Namespace,
                   scratch: Path, products: Any) -> dict[str, Any]:
    """Build one configuration's store, measure each field, then whole queries through the Searcher on it."""
    logger.info("config %s (%s): building", config.name, config.spec)
    faiss.omp_set_num_threads(args.build_threads)
    if config.backend == "milvus" and args.n > args.milvus_max_n:
        raise h.NotAvailable(f"Milvus Lite inserts and indexes ~300 vectors/s here (README, milvus backend): "
                             f"{args.n:,} products x 2 fields would take hours; measured up to --milvus-max-n "
                             f"{args.milvus_max_n:,}")
    if config.name == "flat":
        built = flat
    else:
        vectors = {f: h.flat_vectors(flat.store.faiss_index(f)) for f in h.FIELDS}
        built = h.build_store(config, vectors, scratch, products=products, image_rows=loaded.image_rows)
    out: dict[str, Any] = {"spec": config.spec, "build_seconds": built.seconds, "rss_delta_mb": built.rss_delta_mb,
                           "fields": {}}
    faiss.omp_set_num_threads(1)  # queries are measured as served: one at a time, one thread (use_single_thread_search)
    for f, b in built.fields.items():
        logger.info("config %s: recall and latency of %s", config.name, f)
        out["fields"][f] = {"disk_bytes": b.disk_bytes, "recall": {
            kind: h.field_recall_and_latency(b, queries, truth[f][kind], masks[f][kind], args.timed)
            for kind in ("plain", "filtered")}, "sweep": h.sweep(b, config, queries, truth[f]["plain"], args.timed)}
        stats = built.store.stats().get(f, {}) if hasattr(built.store, "stats") else {}
        out["fields"][f]["ram_bytes"] = stats.get("bytes", 0) + stats.get("row_codes_bytes", 0)
        if stats.get("row_codes_bytes"):  # the filtered search as before row codes, timed in turn with it
            with h.per_row_decoding(built.store):
                out["fields"][f]["recall"]["filtered_per_row"] = h.field_recall_and_latency(
                    b, queries, truth[f]["filtered"], masks[f]["filtered"], args.timed)
    previous = h.install_store(loaded, built.store)
    try:
        logger.info("config %s: whole queries", config.name)
        out["query"], out["query_variants"] = {}, {}
        variants = query_variants(searcher, args)
        for kind, flt in (("plain", None), ("filtered", filters)):
            measured = h.searchers_latency(variants, texts[:args.timed], flt)
            first = None
            for label, q in measured.items():
                pages = q.pop("_pages")
                first = pages if first is None else first
                if flt is not None:
                    q["hits_violating_filter"] = sum(not satisfies(searcher.product(pid), args.filter)
                                                     for page in pages for pid in page)
                q["empty_pages"] = sum(not p for p in pages)
                q["pages_as_first_variant"] = pages == first
                out["query_variants"].setdefault(label, {})[kind] = q
        out["query"] = next(iter(out["query_variants"].values()))
    finally:
        h.install_store(loaded, previous)
        if built is not flat:
            built.store.close()
    del built
    gc.collect()
    out["rss_after_mb"] = h.rss_mb()
    return out


def query_variants(searcher: Searcher, args: argparse.Namespace) -> dict[str, tuple[Searcher, Any]]:
    """The Searchers whole queries are timed with, interleaved query by query (the first is the configuration's
    figure): one per ``--signal-threads`` value, and with ``--reference-attributes`` the code before issue #11's
    third round (numpy attribute scoring and relevant-set mask, signals one after the other, numpy's BLAS on
    every core), for old/new ratios measured side by side."""
    out: dict[str, tuple[Searcher, Any]] = {}
    for threads in (int(t) for t in str(args.signal_threads).split(",")):
        out[f"signal threads {threads}"] = (searcher.with_signal_threads(threads), contextlib.nullcontext)
    if args.reference_vectors:
        out[f"before (nprobe {h.BEFORE_NPROBE:g} on every field, filtered rows decoded one by one)"] = (
            searcher.with_signal_threads(int(str(args.signal_threads).split(",")[0])),
            lambda: h.per_row_decoding(searcher.index.vector_store, h.BEFORE_NPROBE))
    if args.reference_attributes:
        reference = searcher.with_signal_threads(1)
        reference.understanding = copy.copy(searcher.understanding)  # a cached property: this copy only
        reference.understanding.compiled = False
        blas = ThreadpoolController()
        out["before (numpy attributes, 1 signal thread, BLAS on every core)"] = (
            reference, lambda: blas.limit(limits=os.cpu_count(), user_api="blas"))
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    t_start = time.perf_counter()
    base = load_base(args.base_index, fallback=not args.no_fallback, seed=args.seed)
    synthetic = grow(base, args.n, args.seed)
    logger.info("grew %d products (%d images) from %s", args.n, len(synthetic.image_rows), base.source)
    query_rows = make_queries(synthetic, args.queries, args.seed)
    texts = [t for t, _ in query_rows]
    real_base = base.text_model.startswith("sentence-transformers")
    use_encoder = args.query_vectors == "encoder" or (args.query_vectors == "auto" and real_base)
    if use_encoder:
        vectors, encode = encode_queries(texts, args.base_index)
        source = f"real text encoder ({encode['backend']})"
    else:
        qv = perturbed_query_vectors(synthetic, [r for _, r in query_rows], args.seed)
        vectors, encode = dict(zip(texts, qv, strict=True)), {}
        source = "stand-in: source product's vector + noise (no encoder)"
    queries = np.stack([vectors[t] for t in texts]).astype(np.float32)
    args.filter, share_est = pick_filter(synthetic, args.filter_share)
    encoders = h.precomputed_encoders(base.text_model, base.clip_model, queries.shape[1], vectors)
    with h.scratch_dir(args.work) as scratch_name:
        scratch = Path(scratch_name)
        index_dir = scratch / "index"
        logger.info("writing the index directory with write_index (Flat) under %s", index_dir)
        write = h.write_synthetic_index(synthetic, index_dir, encoders)
        n_images, base_desc, products = len(synthetic.image_rows), base.source, synthetic.products
        del synthetic  # the loaded index holds the vectors from here on
        gc.collect()
        loaded = load_index(index_dir, verify_checksums=False)
        searcher = Searcher(loaded, encoders, SearchConfig(candidate_depth=args.depth))
        added = add_rewritten_queries(searcher, texts, vectors, use_encoder, args.base_index)
        logger.info("%d of %d queries are searched rewritten by query understanding", added, len(texts))
        faiss.omp_set_num_threads(args.build_threads)  # the Searcher set 1 for queries; builds and truth use all
        filters = Filters(**args.filter)
        mask = searcher.filter_index.mask(filters)
        flat_bytes = {f: write["bytes"].get(f"{f}.faiss", 0) for f in h.FIELDS}
        flat = h.BuiltStore(loaded.vector_store, {f: h.BuiltField(loaded.vector_store, f, flat_bytes[f]) for f in h.FIELDS},
                            write["stages"].get("vector_index", float("nan")), float("nan"))
        masks = {"text": {"plain": None, "filtered": mask}, "image": {"plain": None, "filtered": mask[loaded.image_rows]}}
        truth = {f: {k: h.exact_topk(flat.fields[f], queries, h.K, m) for k, m in masks[f].items()} for f in h.FIELDS}
        faiss.omp_set_num_threads(1)
        bm25 = {}
        for kind, m in (("plain", None), ("filtered", mask)):
            ms = []
            for text in texts[:args.timed]:
                t0 = time.perf_counter()
                loaded.lexical.search(text, args.depth, m)
                ms.append((time.perf_counter() - t0) * 1000)
            bm25[kind] = {"p50_ms": h.pct(ms, 50), "p95_ms": h.pct(ms, 95)}
        try:
            configs = h.default_configs(args.n, args.ivf_nprobe, args.ivf_lists)
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
        results: dict[str, Any] = {}

        def summary() -> dict[str, Any]:
            return {"n": args.n, "seed": args.seed, "images": n_images, "base": base_desc, "depth": args.depth,
                    "queries": len(texts), "timed": min(args.timed, len(texts)), "query_vectors": source,
                    "encode": encode, "filter": args.filter, "filter_share": float(mask.mean()),
                    "filter_share_estimate": share_est, "write": write, "bm25": bm25, "configs": dict(results),
                    "peak_rss_mb": h.peak_rss_mb(), "seconds": time.perf_counter() - t_start, "machine": machine()}
        for name in args.configs.split(","):
            if name not in configs:
                raise SystemExit(f"unknown configuration {name!r}; valid: {', '.join(configs)}")
            try:
                results[name] = measure_config(configs[name], loaded, searcher, flat, queries, texts, truth, masks,
                                               filters, args, scratch, products)
            except h.NotAvailable as exc:
                logger.warning("config %s not measured: %s", name, exc)
                results[name] = {"spec": configs[name].spec, "error": str(exc)}
            except Exception as exc:  # one configuration failing must not lose the others' figures
                logger.exception("config %s failed", name)
                results[name] = {"spec": configs[name].spec, "error": f"failed: {type(exc).__name__}: {exc}"}
            logger.info("config %s done; rss %.0f MB, peak %.0f MB", name, h.rss_mb(), h.peak_rss_mb())
            if args.partial:  # figures so far, in case a long run is stopped
                write_outputs(summary(), args.out)
        loaded.close()
        return summary()


def machine() -> str:
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs, load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the end, "
            f"{platform.python_version()}, faiss {faiss.__version__}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000, help="products to grow (default 20000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--base-index", type=Path, default=DEFAULT_BASE_INDEX,
                    help="index built from the fashion catalog to grow from (default: the one benchmarks/build_rate.py leaves)")
    ap.add_argument("--no-fallback", action="store_true", help="fail when --base-index is absent")
    ap.add_argument("--configs", default=DEFAULT_CONFIGS, help=f"comma-separated (default {DEFAULT_CONFIGS})")
    ap.add_argument("--queries", type=int, default=300, help="queries for recall (default 300)")
    ap.add_argument("--timed", type=int, default=200, help="of which timed one by one (default 200)")
    ap.add_argument("--depth", type=int, default=SearchConfig().candidate_depth, help="Searcher candidate depth")
    ap.add_argument("--ivf-lists", type=int, default=0,
                    help=f"lists of the ivf-sq8 configuration (default ~sqrt(n), at most {h.MAX_IVF_LISTS})")
    ap.add_argument("--ivf-nprobe", default="",
                    help="nprobe of the ivf-sq8 configuration, one value or per field: text=32,image=96 (default "
                         + ",".join(f"{f}={v:g}" for f, v in h.DEFAULT_IVF_NPROBE.items()) + ")")
    ap.add_argument("--reference-vectors", action="store_true",
                    help=f"also time whole queries as before per-field nprobe and row codes (nprobe {h.BEFORE_NPROBE:g} on every "
                         "IVF field, a filter's rows decoded one by one): old vs new, side by side")
    ap.add_argument("--signal-threads", default="1",
                    help="comma-separated Searcher signal_threads values to time whole queries with (default 1)")
    ap.add_argument("--reference-attributes", action="store_true",
                    help="also time whole queries with the numpy attribute scoring (old vs new, side by side)")
    ap.add_argument("--filter-share", type=float, default=0.01, help="selectivity of the filter (default 0.01)")
    ap.add_argument("--query-vectors", choices=("auto", "encoder", "perturbed"), default="auto")
    ap.add_argument("--milvus-max-n", type=int, default=50_000,
                    help="largest N the Milvus Lite row is measured at (default 50000: it indexes ~300 vectors/s)")
    ap.add_argument("--build-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, default=None, help="scratch parent for the index (default $TMPDIR)")
    ap.add_argument("--out", type=Path, default=REPO / ".prodsearch" / "scale")
    ap.add_argument("--partial", action="store_true", help="rewrite the outputs after each configuration")
    args = ap.parse_args(argv)
    try:
        h.parse_nprobe(args.ivf_nprobe or "1")  # a bad value fails now, not after growing the catalog
    except ValueError as exc:
        ap.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    result = run(args)
    paths = write_outputs(result, args.out)
    print((paths["md"]).read_text())
    print("written:", ", ".join(str(p) for p in paths.values()))
    print(json.dumps({"seconds": round(result["seconds"], 1), "peak_rss_gb": round(result["peak_rss_mb"] / 1024, 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
