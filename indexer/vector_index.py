"""FAISS indexes over L2-normalised float32 vectors: build (with ParameterSpace parameters), filtered search, disk.

Functions take ``(n, d)`` float32 arrays and return ``(nq, k)`` ``D``/``I``
arrays, as faiss does; missing results are ``I == -1``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from indexer.errors import IndexError_, InvalidArrayError
from indexer.ivf_codes import RowCodes, decode_rows, ivf_of

logger = logging.getLogger(__name__)

DEFAULT_FACTORY = "Flat"
# Below this fraction of allowed rows, a filtered search scores the allowed rows exactly
# instead of asking an approximate index to skip most of its graph or lists.
EXACT_FILTER_FRACTION = 0.05
# Above it, an IVF field's filtered search probes nprobe x min(this, 1 / the allowed share) lists: only the share of a
# probed list's rows that the filter allows are candidates, so the plain nprobe finds too few near ones. Measured at
# 1M rows (IVF1024,SQ8; filters on one attribute value; lead's notes, 2026-12-01): at a 5% filter the text field's
# recall@10 was 0.53 at nprobe 32 and 0.91 at x8; the image field's 0.89 at nprobe 96 and 0.98 at x8.
FILTER_NPROBE_WIDEN_MAX = 8
# Build and search parameters `faiss.ParameterSpace` sets, by the name index specs use.
KNOWN_PARAMS = ("efSearch", "efConstruction", "nprobe", "quantizer_efSearch", "max_codes", "ht", "k_factor")


def use_single_thread_search() -> None:
    """Run FAISS searches on one OpenMP thread, and numpy's BLAS (the exact scoring of a selective filter's rows)
    on one thread.

    Measured here (benchmarks/faiss_threads.py): one query against 44k vectors takes
    ~5x longer on 2 threads than on 1 on a busy 2-core machine, since thread start-up
    and contention dominate. The same for BLAS: one query against 10k allowed rows (a 1% filter at 1M)
    took 19 ms on OpenBLAS's 2 threads and 1.5 ms on one, on a busy 2-core machine. A server answers one
    query per call and gets its parallelism from concurrent requests, so the Searcher calls this. Global
    to the process.
    """
    faiss.omp_set_num_threads(1)
    threadpool_limits(1, user_api="blas")


def check_vectors(x: np.ndarray, dim: int | None = None, what: str = "vectors") -> np.ndarray:
    """Return ``x`` as C-contiguous float32 (n, d), or raise `InvalidArrayError` naming the problem."""
    if not isinstance(x, np.ndarray):
        raise InvalidArrayError(f"{what}: expected a numpy array, got {type(x).__name__}")
    if x.ndim != 2:
        raise InvalidArrayError(f"{what}: expected shape (n, d), got {x.shape}; use x.reshape(1, -1) for one vector")
    if x.dtype != np.float32:
        raise InvalidArrayError(f"{what}: expected float32, got {x.dtype}; use x.astype(np.float32)")
    if dim is not None and x.shape[1] != dim:
        raise InvalidArrayError(f"{what}: expected dimension {dim}, got {x.shape[1]}; was it built with another model?")
    return np.ascontiguousarray(x)


def check_factory(factory: str, dim: int = 8) -> None:
    """Raise `IndexError_` now, before any embedding work, if FAISS cannot parse the factory string."""
    try:
        faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise IndexError_(f"invalid FAISS factory string {factory!r}: {str(exc).strip().splitlines()[-1]}") from exc


def apply_params(index: faiss.Index, params: Mapping[str, float], what: str = "index") -> None:
    """Set ``params`` (efSearch, nprobe, ...) through `faiss.ParameterSpace`; one the index lacks is an error."""
    space = faiss.ParameterSpace()
    for name, value in params.items():
        if name not in KNOWN_PARAMS:
            raise IndexError_(f"{what}: unknown parameter {name!r}; known: {', '.join(KNOWN_PARAMS)}")
        try:
            space.set_index_parameter(index, name, float(value))
        except RuntimeError:
            raise IndexError_(f"{what}: parameter {name}={value:g} does not apply to this index type "
                              f"({type(faiss.downcast_index(index)).__name__})") from None


def build_vector_index(vectors: np.ndarray, factory: str = DEFAULT_FACTORY,
                       params: Mapping[str, float] | None = None) -> faiss.Index:
    """An inner-product index of the given FAISS factory string (Flat, HNSW32, IVF64,Flat, ...), with
    ``params`` (efConstruction, efSearch, nprobe, ...) set before it is trained and filled."""
    vectors = check_vectors(vectors)
    n, dim = vectors.shape
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise IndexError_(f"invalid FAISS factory string {factory!r}: {str(exc).splitlines()[-1]}") from exc
    if params:
        apply_params(index, params, f"factory {factory!r}")
    if not index.is_trained:
        if n == 0:
            raise IndexError_(f"factory {factory!r} needs training vectors, and there are none")
        nlist = getattr(faiss.extract_index_ivf(index), "nlist", 0) if "IVF" in factory else 0
        if nlist and n < nlist:
            raise IndexError_(f"factory {factory!r} needs at least {nlist} vectors to train, got {n}; use fewer lists")
        if "ht" not in (params or {}):  # `ht`: the spec asks for polysemous search, which needs it
            without_polysemous_training(index)
        index.train(vectors)
    if n:
        index.add(vectors)
    ivf = ivf_of(index)
    if ivf is not None:
        ivf.make_direct_map()  # lets a selective filter score its few rows exactly
    return index


def without_polysemous_training(index: faiss.Index) -> None:
    """Turn off FAISS's polysemous training of PQ codebooks (on by default for `PQ` and `IVF...,PQ` factories). It
    reorders each codebook so that Hamming distances between codes follow the real ones, for polysemous search (a
    spec's ``ht``), and changes no distance; but it took ~10 s per field whatever the catalog's size (IVF16,PQ8 over
    2,000 32-d vectors, 2 cores: 9.4 s, without it 0.24 s). A spec without ``ht`` never searches that way."""
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexPreTransform):
        inner = faiss.downcast_index(inner.index)
    for part in (inner, ivf_of(index)):
        if part is not None and hasattr(part, "do_polysemous_training"):
            part.do_polysemous_training = False


def _search_params(index: faiss.Index, k: int, selector: faiss.IDSelector | None = None,
                   allowed_share: float = 1.0) -> faiss.SearchParameters | None:
    """Parameters of the index's own type (IVF and HNSW refuse the base type), keeping its settings.

    An HNSW search keeps only efSearch candidates, and FAISS does not widen that to k: asked for
    1000 hits with efSearch=128 it returned ~540 on the 44k index (recall@1000 0.41). So efSearch is
    raised to k for deep searches (the Searcher asks candidate_depth hits per signal). An IVF search with a selector
    allowing ``allowed_share`` of the rows probes more lists (`FILTER_NPROBE_WIDEN_MAX`)."""
    ivf = ivf_of(index)
    if ivf is not None:
        if selector is None:
            return None
        widen = min(FILTER_NPROBE_WIDEN_MAX, 1.0 / max(allowed_share, 1e-9))
        # rounded down: a mask without one row ("more like this") keeps the field's own nprobe
        return faiss.SearchParametersIVF(sel=selector, nprobe=max(ivf.nprobe, min(ivf.nlist, int(ivf.nprobe * widen))))
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        if selector is None and k <= hnsw.efSearch:
            return None
        params = faiss.SearchParametersHNSW(efSearch=max(hnsw.efSearch, k))
        if selector is not None:
            params.sel = selector
        return params
    return None if selector is None else faiss.SearchParameters(sel=selector)


def _exact_search(index: faiss.Index, queries: np.ndarray, k: int, rows: np.ndarray,
                  codes: RowCodes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of ``rows`` scored exactly: on the row-ordered codes when they cover the index (`RowCodes.scores`:
    an IVF,SQ8 field's inner products straight from its uint8 codes), else as `exact_search_decoded`."""
    rows = rows.astype(np.int64)
    if codes is not None and len(codes) == index.ntotal and codes.scorer is not None:
        return top_k_of_rows(codes.scores(queries, rows), rows, k)
    return exact_search_decoded(index, queries, k, rows, codes)


def exact_search_decoded(index: faiss.Index, queries: np.ndarray, k: int, rows: np.ndarray,
                         codes: RowCodes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of ``rows`` scored against their decoded vectors (`decode_rows`): the reference the faster paths
    of `_exact_search` must agree with (tests and benchmarks/filtered_dense.py)."""
    rows = rows.astype(np.int64)
    return exact_over_rows(queries, decode_rows(index, rows, codes), rows, k)


def exact_over_rows(queries: np.ndarray, vectors: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of a few ``rows`` (their ``vectors`` given) scored exactly: ``(D, I)`` padded to k with -inf / -1."""
    return top_k_of_rows(queries @ vectors.T, rows, k)


def top_k_of_rows(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of ``scores`` ``(nq, len(rows))`` per query, best first, ties in the order of ``rows`` (as a
    stable sort of ``-scores`` gives them), padded to k with -inf / -1.

    Selects with ``argpartition`` and sorts only the k kept: 0.1 ms instead of 0.6 ms for the full sort of
    a 1% filter's 10k rows at 1M."""
    nq, m = scores.shape
    kk = min(k, m)
    D = np.full((nq, k), -np.inf, dtype=np.float32)
    I = np.full((nq, k), -1, dtype=np.int64)
    for qi in range(nq):
        top = _top_positions(scores[qi], kk)
        D[qi, :kk] = scores[qi, top]
        I[qi, :kk] = rows[top]
    return D, I


def kth_largest(values: np.ndarray, k: int) -> float:
    """The ``k``-th largest of ``values`` (1 <= k <= len), partitioned from the front on the negated values: numpy's
    introselect asked for a place near the end of ~35k values in a few tiers (the `attributes` signal's sums of
    confidences, plus tie-break bonuses) took ~5 ms, 20x its time on the same values asked from the front
    (`benchmarks/understanding_latency.py`: "casual jumpsuit" spent 6 ms there)."""
    return float(-np.partition(-values, k - 1)[k - 1])


def _top_positions(scores: np.ndarray, kk: int) -> np.ndarray:
    """Positions of the kk best scores, best first, ties by position: ``argsort(-scores, stable)[:kk]``."""
    m = len(scores)
    if kk <= 0:
        return np.zeros(0, np.int64)
    if 4 * kk >= m:
        return np.argsort(-scores, kind="stable")[:kk]
    cut = kth_largest(scores, kk)
    above = np.flatnonzero(scores > cut)
    tied = np.flatnonzero(scores == cut)[: kk - len(above)]  # the first rows holding the cut score
    keep = np.concatenate([above, tied])
    return keep[np.argsort(-scores[keep], kind="stable")]


def search_vectors(index: faiss.Index, queries: np.ndarray, k: int,
                   allowed: np.ndarray | None = None,
                   gpu_index: faiss.Index | None = None,
                   codes: RowCodes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k by inner product, restricted to rows where ``allowed`` (bool, one per row) is True.

    The filter is applied inside the search (a FAISS ``IDSelectorBitmap``, or exact
    scoring of the allowed rows when they are few), so k hits come back whenever k
    rows are allowed. ``codes`` (an IVF index's codes in row order, `indexer.ivf_codes`)
    decodes those few rows in one call instead of one by one, or for IVF,SQ8 scores them on
    their codes; the scores are the same (to float rounding).
    """
    queries = check_vectors(queries, index.d, "queries")
    k = min(k, index.ntotal) if index.ntotal else 0
    if k <= 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    if allowed is None:
        params = None if gpu_index is not None else _search_params(index, k)
        return (gpu_index or index).search(queries, k) if params is None else index.search(queries, k, params=params)
    if allowed.shape != (index.ntotal,) or allowed.dtype != np.bool_:
        raise InvalidArrayError(f"allowed: expected bool array of shape ({index.ntotal},), got {allowed.dtype} {allowed.shape}")
    rows = np.flatnonzero(allowed)
    if len(rows) == 0:
        return np.full((len(queries), 0), -np.inf, np.float32), np.full((len(queries), 0), -1, np.int64)
    if len(rows) <= max(k, EXACT_FILTER_FRACTION * index.ntotal):
        try:
            return _exact_search(index, queries, k, rows, codes)
        except RuntimeError:  # index without reconstruct (e.g. IVF without a direct map)
            pass
    bitmap = np.packbits(allowed, bitorder="little")
    selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
    return index.search(queries, k, params=_search_params(index, k, selector, len(rows) / index.ntotal))


def exact_knn(queries: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product of ``queries`` against ``vectors`` (blocked, without building an index)."""
    queries, vectors = check_vectors(queries, what="queries"), check_vectors(vectors, queries.shape[1])
    k = min(k, len(vectors))
    if k <= 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    return faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)


def save_vector_index(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_vector_index(path: Path) -> faiss.Index:
    if not path.is_file():
        raise IndexError_(f"missing FAISS file {path}; rebuild the index")
    return faiss.read_index(str(path))
