"""The measuring half of the scale benchmark: write an index without embedding, build each configuration's
vector fields, and measure recall against exact search and latency per signal and per whole query.

Query encoding is not part of a query's latency here: the Searcher gets `PrecomputedEncoders`, which
look up vectors made beforehand (by the real text encoder, timed apart, or a stand-in; see scale.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil

from indexer.build import EmbeddedCatalog, write_index
from indexer.catalog import Catalog
from indexer.encoders import Encoders
from indexer.index_specs import VectorBuild
from indexer.loaded import LoadedIndex
from indexer.vector_store import FieldSpec, RowFilter, backend_names, create_store
from search.filters import Filters
from search.searcher import Searcher
from search.types import SearchRequest

logger = logging.getLogger(__name__)

FIELDS = ("text", "image")  # the vector fields a text query searches (semantic, visual); clip_text is shared
SIGNAL_OF_FIELD = {"text": "semantic", "image": "visual"}
K = 10


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, np.float64), q)) if len(values) else float("nan")


# -- encoders that look queries up --------------------------------------------------------------------
class _Precomputed:
    text_tower = "precomputed"  # the same on both: one text vector serves semantic and visual (shared tower)
    trained = True

    def __init__(self, name: str, dim: int, vectors: dict[str, np.ndarray]):
        self.name, self.dim, self.vectors, self.spec = name, dim, vectors, {}

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        try:
            return np.stack([self.vectors[t] for t in texts]).astype(np.float32)
        except KeyError as exc:
            raise KeyError(f"no precomputed vector for query {exc.args[0]!r}") from None

    def encode_images(self, images: Sequence[Any]) -> np.ndarray:
        raise NotImplementedError("the scale benchmark sends text queries only")


def precomputed_encoders(text_model: str, clip_model: str, dim: int, vectors: dict[str, np.ndarray]) -> Encoders:
    """Encoders named as the index's models whose query vectors are looked up (encoding costs ~0 ms)."""
    return Encoders(text=_Precomputed(text_model, dim, vectors), clip=_Precomputed(clip_model, dim, vectors))


# -- the index directory, written by the engine's own writer --------------------------------------------
def write_synthetic_index(synthetic: Any, out_dir: Path, encoders: Encoders) -> dict[str, Any]:
    """Write ``synthetic`` (a `SyntheticCatalog`) as an index directory with `write_index` (Flat fields,
    BM25, product store), without embedding anything; returns seconds and disk sizes."""
    catalog = Catalog(path=out_dir / "synthetic-catalog.jsonl", products=synthetic.products,  # type: ignore[arg-type]
                      sha256=synthetic.sha256)
    embedded = EmbeddedCatalog(catalog=catalog, text_vectors=synthetic.text_vectors,
                               clip_text_vectors=synthetic.text_vectors, image_vectors=synthetic.image_vectors,
                               image_rows=synthetic.image_rows, thumbnails=iter(()), image_failures=[],
                               shared_text_vectors=True)
    t0 = time.perf_counter()
    summary = write_index(embedded, out_dir, encoders, vector_build=VectorBuild(default=FieldSpec("Flat"), device="cpu"))
    version = (out_dir / "current").resolve()
    sizes = {p.name: _disk_bytes(p) for p in version.iterdir()}
    return {"seconds": time.perf_counter() - t0, "stages": summary.seconds, "bytes": sizes}


def _disk_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- configurations ---------------------------------------------------------------------------------------
@dataclass
class Config:
    """One way to index the vector fields: a backend and a factory + search parameters, with per-field
    overrides of the parameters (``field_params``, e.g. a lower nprobe for the text field)."""

    name: str
    factory: str
    params: dict[str, float] = field(default_factory=dict)
    backend: str = "faiss"
    sweep: tuple[str, tuple[float, ...]] | None = None  # a search parameter to sweep for the plot
    field_params: dict[str, dict[str, float]] = field(default_factory=dict)

    def params_of(self, field_name: str) -> dict[str, float]:
        return {**self.params, **self.field_params.get(field_name, {})}

    @property
    def spec(self) -> str:
        extra = "".join(f",{k}={v:g}" for k, v in self.params.items())
        per_field = "".join(f"; {f}:" + ",".join(f"{k}={v:g}" for k, v in p.items())
                            for f, p in self.field_params.items() if p)
        return f"{self.backend}:{self.factory}{extra}{per_field}"


# IVF: ~sqrt(n) lists (a power of two in [16, 1024]; --ivf-lists sets another count) and an nprobe per field.
# At 1M the text field's recall@10 plateaus by nprobe 32-48 (the SQ8 codes' own error: 0.966 at 32), while the image
# field needs 96 (0.964; 0.950 at 64): one nprobe of 128 for both scanned 4x / 1.3x more codes than needed.
# More lists were not measured at 1M: k-means for 4096 lists took over 10 min per field on the 2 busy cores.
MAX_IVF_LISTS = 1024
DEFAULT_IVF_NPROBE = {"text": 32.0, "image": 96.0}
# What issue #11's third round served at 1M: IVF1024,SQ8 at nprobe 128 on every field, and a selective filter's
# rows decoded one by one (`--reference-vectors` times whole queries that way too, side by side).
BEFORE_NPROBE = 128.0


def ivf_lists(n: int, cap: int = MAX_IVF_LISTS) -> int:
    """~sqrt(n) lists, a power of two in [16, cap] (k-means beyond 1024 lists costs many minutes on 2 cores)."""
    return int(min(cap, max(16, 2 ** round(np.log2(max(n, 1) ** 0.5)))))


def parse_nprobe(text: str | float | dict[str, float]) -> dict[str, float]:
    """``--ivf-nprobe``: one value for every field (``128``) or one per field (``text=48,image=128``)."""
    if isinstance(text, dict):
        return {f: float(v) for f, v in text.items()}
    text = str(text).strip()
    try:
        if "=" not in text:
            return dict.fromkeys(FIELDS, float(text))
        pairs = dict(part.split("=", 1) for part in text.split(","))
        out = {f.strip(): float(v) for f, v in pairs.items()}
    except ValueError:
        raise ValueError(f"--ivf-nprobe {text!r}: expected a number or FIELD=N,... (e.g. text=48,image=128)") from None
    unknown = set(out) - set(FIELDS)
    if unknown or any(v < 1 for v in out.values()):
        raise ValueError(f"--ivf-nprobe {text!r}: fields are {', '.join(FIELDS)}, each nprobe >= 1")
    return out


def default_configs(n: int, ivf_nprobe: str | float | dict[str, float] = "", ivf_list_count: int = 0) -> dict[str, Config]:
    nlist = ivf_list_count or ivf_lists(n)
    nprobe = {**DEFAULT_IVF_NPROBE, **(parse_nprobe(ivf_nprobe) if ivf_nprobe else {})}
    nprobe = {f: min(v, nlist) for f, v in nprobe.items()}
    return {
        "flat": Config("flat", "Flat"),
        "hnsw": Config("hnsw", "HNSW32", {"efSearch": 96}, sweep=("efSearch", (16, 32, 64, 96, 128, 256))),
        "ivf-sq8": Config("ivf-sq8", f"IVF{nlist},SQ8", {}, field_params={f: {"nprobe": v} for f, v in nprobe.items()},
                          sweep=("nprobe", (16, 32, 48, 64, 96, 128, 160))),
        "milvus-hnsw": Config("milvus-hnsw", "HNSW32", {"efConstruction": 80, "efSearch": 96}, backend="milvus"),
    }


def set_param(index: faiss.Index, name: str, value: float) -> None:
    faiss.ParameterSpace().set_index_parameter(index, name, float(value))


@dataclass
class BuiltField:
    """One field of a configuration's store: how to search it, and what it cost."""

    store: Any               # the `VectorStore` holding it
    name: str
    disk_bytes: int

    def search(self, queries: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return self.store.search(self.name, queries, k, None if mask is None else RowFilter(mask=mask))


@dataclass
class BuiltStore:
    store: Any
    fields: dict[str, BuiltField]
    seconds: float
    rss_delta_mb: float


def build_store(config: Config, vectors: dict[str, np.ndarray], scratch: Path, **options: Any) -> BuiltStore:
    """The configuration's fields as a `VectorStore` (`create_store`, as `write_index` makes it), saved
    under ``scratch`` to measure its size. ``options`` go to the backend (milvus: products, image_rows)."""
    names = backend_names()
    if config.backend not in names:
        raise NotAvailable(f"backend {config.backend!r} is not on this branch (have: {', '.join(names) or 'none'})")
    directory = scratch / config.name
    directory.mkdir()
    specs = {f: FieldSpec(config.factory, config.params_of(f)) for f in vectors}
    before = rss_mb()
    t0 = time.perf_counter()
    store = create_store(config.backend, vectors, specs, directory, device="cpu", build_id=f"scale_{config.name}",
                         **options)
    seconds = time.perf_counter() - t0
    record = store.save(directory)
    delta = rss_mb() - before
    files = record.get("files") or {}
    total = _disk_bytes(directory)
    disk = {f: _disk_bytes(directory / files[f]) if f in files else total // len(vectors) for f in vectors}
    return BuiltStore(store, {f: BuiltField(store, f, disk[f]) for f in vectors}, seconds, delta)


# -- measurements -----------------------------------------------------------------------------------------
def exact_topk(flat: BuiltField, queries: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
    """Exact top-k rows (a Flat field searched in one batch, the filter applied inside)."""
    return flat.search(queries, k, mask)[1]


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int = K) -> float:
    hits = [len(set(f[:k][f[:k] >= 0].tolist()) & set(t[:k][t[:k] >= 0].tolist())) / max(1, min(k, (t >= 0).sum()))
            for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits))


def field_recall_and_latency(built: BuiltField, queries: np.ndarray, truth: np.ndarray,
                             mask: np.ndarray | None, timed_queries: int) -> dict[str, float]:
    """recall@10 over every query (one at a time, as served) and latency of the first ``timed_queries``."""
    found = np.full((len(queries), K), -1, np.int64)
    ms: list[float] = []
    for i in range(len(queries)):
        t0 = time.perf_counter()
        _, I = built.search(queries[i:i + 1], K, mask)
        if i < timed_queries:
            ms.append((time.perf_counter() - t0) * 1000)
        found[i, :I.shape[1]] = I[0]
    return {"recall": recall_at_k(found, truth), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95)}


def sweep(built: BuiltField, config: Config, queries: np.ndarray, truth: np.ndarray,
          timed_queries: int) -> list[dict[str, float]]:
    """recall@10 and latency at each value of the config's sweep parameter (then its own value again)."""
    if config.sweep is None or not hasattr(built.store, "faiss_index"):
        return []
    index = built.store.faiss_index(built.name)
    name, values = config.sweep
    if name == "nprobe":  # no more lists than the index has
        values = tuple(v for v in values if v <= faiss.extract_index_ivf(index).nlist)
    points = []
    for value in values:
        set_param(index, name, value)
        points.append({name: value, **field_recall_and_latency(built, queries, truth, None, timed_queries)})
    set_param(index, name, config.params_of(built.name)[name])
    return points


@contextlib.contextmanager
def per_row_decoding(store: Any, nprobe: float | None = None) -> Iterator[None]:
    """Within: the faiss store scores a selective filter's rows by decoding them one by one
    (`reconstruct_batch`), as before `indexer.ivf_codes`, and with ``nprobe`` every IVF field searches that many
    lists (the settings before per-field nprobe): old/new figures side by side in one run. Benchmarks only."""
    codes = getattr(store, "_codes", None)
    if codes is None:
        yield
        return
    saved = dict(codes)
    ivfs = {f: faiss.extract_index_ivf(store.faiss_index(f)) for f in store.fields()
            if "IVF" in store.spec(f).factory} if nprobe else {}
    probes = {f: ivf.nprobe for f, ivf in ivfs.items()}
    codes.clear()
    for ivf in ivfs.values():
        ivf.nprobe = int(nprobe)  # type: ignore[arg-type]
    try:
        yield
    finally:
        codes.update(saved)
        for f, ivf in ivfs.items():
            ivf.nprobe = probes[f]


def install_store(loaded: LoadedIndex, store: Any) -> Any:
    """Make the loaded index (and so its Searcher) search ``store``; returns the store it had."""
    previous, loaded.vector_store = loaded.vector_store, store
    return previous


def searcher_latency(searcher: Searcher, texts: Sequence[str], filters: Filters | None,
                     warmup: int = 5) -> dict[str, Any]:
    """Whole text queries through `Searcher.search` (3 signals, fusion, paging: every other query asks
    for page 2): p50/p95 per stage and of the total without query encoding; fused results kept for checks."""
    return searchers_latency({"": (searcher, contextlib.nullcontext)}, texts, filters, warmup)[""]


def searchers_latency(searchers: dict[str, tuple[Searcher, Callable[[], Any]]], texts: Sequence[str],
                      filters: Filters | None, warmup: int = 5) -> dict[str, dict[str, Any]]:
    """`searcher_latency` for several Searchers, interleaved query by query (each query goes to every Searcher in
    turn, each inside its context), so that they are compared under the same machine load."""
    for text in texts[:warmup]:
        for searcher, context in searchers.values():
            with context():
                searcher.search(SearchRequest(text=text, k=K, filters=filters))
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in searchers}
    totals: dict[str, list[float]] = {name: [] for name in searchers}
    pages: dict[str, list[list[str]]] = {name: [] for name in searchers}
    for i, text in enumerate(texts):
        for name, (searcher, context) in searchers.items():
            with context():
                response = searcher.search(SearchRequest(text=text, k=K, offset=K * (i % 2), filters=filters))
            timings = response.timings_ms
            encode = sum(v for k, v in timings.items() if k.startswith("encode"))
            totals[name].append(timings["total"] - encode)
            for stage, value in timings.items():
                stages[name].setdefault(stage, []).append(value)
            pages[name].append([h.product.id for h in response.hits])
    return {name: {"total": {"p50_ms": pct(totals[name], 50), "p95_ms": pct(totals[name], 95)},
                   "stages": {s: {"p50_ms": pct(v, 50), "p95_ms": pct(v, 95)} for s, v in stages[name].items()
                              if not s.startswith("encode") and s != "total"},
                   "_pages": pages[name]} for name in searchers}


def scratch_dir(parent: Path | None) -> tempfile.TemporaryDirectory:
    parent = parent or Path(os.environ.get("TMPDIR", "/tmp"))
    parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix="prodsearch-scale-", dir=parent)


class NotAvailable(Exception):
    """A configuration this checkout cannot build (its backend is not here yet)."""


def flat_vectors(index: faiss.Index) -> np.ndarray:
    """The vectors of a Flat index as a view (no copy of a GB-sized array); do not write to it."""
    flat = faiss.downcast_index(index)
    if not isinstance(flat, faiss.IndexFlat):
        raise TypeError(f"expected a Flat index, got {type(flat).__name__}")
    view = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
    return view
