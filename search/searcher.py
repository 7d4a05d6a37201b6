"""The Searcher: query -> retrieve per signal -> fuse -> page. Used by the API and the eval suite.

The signals (each a run of product rows, best first) are declared in `search.signals`: which
query kinds each answers, how its query is embedded, what it searches. A product id ("more like
this") is left out of its own results.
"""

from __future__ import annotations

import copy
import logging
import time
from contextlib import nullcontext
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.catalog import Product
from indexer.encoders import Encoders, load_encoders_for_index, shared_text_tower
from indexer.errors import InvalidQueryError, ProdsearchError
from indexer.loaded import LoadedIndex, load_index
from indexer.manifest import check_manifest
from indexer.onnx_text import use_exported_for_queries
from indexer.vector_index import use_single_thread_search
from search import exact_photo, negation, price_phrases, value_inference
from search.config import SearchConfig, apply_search_params
from search.facets import FacetIndex
from search.filters import FilterIndex
from search.fusion import Run, fuse
from search.ranker import ProductWords, QueryInfo, Ranker, load_ranker
from search.relevant import fused_count, understood_count
from search.side_task import SideTask
from search.signal_threads import (
    InFlight,
    parallel_order,
    run_on_threads,
    signal_pool,
    signal_threads_setting,
    single_thread_search_here,
)
from search.signals import QUERY_KINDS, QueryContext, QueryEncoder, Signal, all_signals, signals_for
from search.synonyms import Synonyms
from search.timing import timed as _timed
from search.types import Hit, PriceBounds, SearchRequest, SearchResponse, SignalHit
from search.understanding import ATTRIBUTES_SIGNAL, QueryUnderstanding, search_text

logger = logging.getLogger(__name__)


class ProductNotFoundError(ProdsearchError, KeyError):
    """No product with that id in the index."""

    def __str__(self) -> str:
        return f"no product with id {self.args[0]!r}"


def _collapse(rows: np.ndarray, scores: np.ndarray) -> Run:
    """Keep each product's best entry (runs over photos can name a product several times)."""
    valid = rows >= 0
    rows, scores = rows[valid], scores[valid]
    _, first = np.unique(rows, return_index=True)
    first.sort()
    return Run(rows[first].astype(np.int64), scores[first].astype(np.float64))


def _ranks_of(docs: np.ndarray, run: Run) -> dict[int, tuple[int, float]]:
    """Each of ``docs`` found in ``run``: its 1-based rank and score there (a vectorised scan of the run,
    instead of a dict over every candidate: only a page's few products are looked up)."""
    at = np.flatnonzero(np.isin(run.docs, docs))
    return {int(d): (int(i) + 1, float(s)) for d, i, s in zip(run.docs[at].tolist(), at.tolist(),
                                                           run.scores[at].tolist(), strict=True)}


class Searcher:
    """Answers `SearchRequest`s against one loaded index with one pair of encoders."""

    def __init__(self, index: LoadedIndex, encoders: Encoders, config: SearchConfig | None = None,
                 signal_threads: int | None = None):
        """``signal_threads``: run one request's signals (and their query encoders) on this many threads at once
        (FAISS, numba and onnxruntime release the GIL) while it is the only request under way (`InFlight`); 1 runs
        them one after the other. Default: $PRODSEARCH_SIGNAL_THREADS, else 2."""
        check_manifest(index.manifest, text_model=encoders.text.name, text_dim=encoders.text.dim,
                       clip_model=encoders.clip.name, clip_dim=encoders.clip.dim)
        self.index = index
        self.encoders = encoders
        self.config = config or SearchConfig()
        apply_search_params(index.vector_store, self.config.search_params)  # ANN parameters the config sets (tuned)
        self.filter_index = FilterIndex(index.store.products)
        self._shared_text_tower = shared_text_tower(encoders)
        use_exported_for_queries(encoders.text, index.manifest.embedding_cache)
        use_single_thread_search()
        # A product with several photos can fill several of a photo search's slots; search deep enough.
        counts = np.bincount(index.image_rows) if len(index.image_rows) else np.ones(1, np.int64)
        self._images_per_product = int(max(1, counts.max()))
        self.ranker: Ranker | None = load_ranker(self.config.ranker) if self.config.ranker else None
        self.synonyms: Synonyms | None = None  # None: the shipped defaults (set before `understanding` is built)
        self.signal_threads = signal_threads_setting(signal_threads)
        self._pool = signal_pool(self.signal_threads)
        self._in_flight = InFlight()

    @classmethod
    def open(cls, index: str | Path | LoadedIndex, encoders: Encoders | None = None,
             config: SearchConfig | None = None, *, text_model: str | None = None, clip_model: str | None = None,
             clip_pretrained: str | None = None, device: str | None = None,
             signal_threads: int | None = None) -> Searcher:
        """A Searcher over an index (directory or loaded) with ``encoders``, or else the ones its manifest
        names, each overridable (a mismatch with the index is an error)."""
        if not isinstance(index, LoadedIndex):
            index = load_index(index, device=device)
        if encoders is None:
            encoders = load_encoders_for_index(index.manifest.model_specs, text_model, clip_model, clip_pretrained,
                                               device)
        return cls(index, encoders, config, signal_threads)

    def with_signal_threads(self, signal_threads: int) -> Searcher:
        """This Searcher (the same index, encoders, config and built state) with its own signal thread pool."""
        other = copy.copy(self)
        other.signal_threads = signal_threads_setting(signal_threads)
        other._pool = signal_pool(other.signal_threads)
        return other

    def close(self) -> None:
        """Stop this Searcher's signal threads and close its index (vector and product stores). Only once no search
        uses it: whoever replaces a served Searcher calls it then (`api.reload.close_when_unused`). A LiveSearcher
        shares its base's and is not closed."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        self.index.close()

    @cached_property
    def facet_index(self) -> FacetIndex:
        """Facet codes per product, built on first use (by `GET /facets`)."""
        return FacetIndex(self.index.store.products)

    @cached_property
    def exact_photo_calibration(self) -> exact_photo.Calibration | None:
        """The exact-photo rule's numbers, calibrated on the index's product photos on first use."""
        return exact_photo.calibrate_index(self)

    def exact_photo_rule(self) -> tuple[float, float | None, float | None]:
        return exact_photo.rule(self.config, lambda: self.exact_photo_calibration)

    @cached_property
    def _ranker_inputs(self) -> tuple[ProductWords, np.ndarray]:
        has_photo = np.bincount(self.index.image_rows, minlength=self.index.n_products) > 0
        return ProductWords(self.index.store.products), has_photo

    def signal_text(self, request: SearchRequest) -> str | None:
        """The text the signals search: the typed query rewritten by query understanding (typos corrected,
        synonyms resolved) unless the `attributes` signal, and with it understanding, is off."""
        weights = {**self.config.weights, **(request.weights or {})}
        if request.text is None or weights.get(ATTRIBUTES_SIGNAL, 1.0) <= 0:
            return request.text
        return search_text(self.understanding, request.text)

    def second_stage(self, request: SearchRequest, image: Image.Image | None, runs: dict[str, Run],
                     fused: Run) -> Run:
        """The learned re-ranking of the fused top N (when a ranker is set), then an exact photo match first."""
        if self.ranker is not None:
            words, has_photo = self._ranker_inputs
            query = QueryInfo(self.signal_text(request), image is not None, request.product_id is not None)
            fused = self.ranker.rerank(runs, fused, query, words, has_photo, self.config.ranker_depth)
        if image is not None and self.config.exact_photo_first:
            row = exact_photo.exact_match(runs.get(exact_photo.SIGNAL), *self.exact_photo_rule())
            if row is not None:
                fused = exact_photo.promote(fused, row)
        return fused

    @cached_property
    def understanding(self) -> QueryUnderstanding:
        """The catalog's vocabulary and synonyms (query understanding), built on first use."""
        understanding = QueryUnderstanding.build(self.index.store.products, self.synonyms)
        understanding.prepare()
        if value_inference.enabled():  # off by default: see `search.value_inference`
            understanding.infer_with(self.encoders.text.encode_texts)
        return understanding

    # -- lookups ---------------------------------------------------------------------------------
    def row_of(self, product_id: str) -> int:
        try:
            return self.index.store.row_of[product_id]
        except KeyError:
            raise ProductNotFoundError(product_id) from None

    def product(self, product_id: str) -> Product:
        return self.index.store.products[self.row_of(product_id)]

    def thumbnail(self, product_id: str) -> tuple[str, bytes] | None:
        return self.index.store.thumbnail(self.row_of(product_id))

    # -- retrieval --------------------------------------------------------------------------------
    def _dense(self, name: str, query: np.ndarray, depth: int, mask: np.ndarray | None,
               filters: dict | None = None, exclude: int | None = None) -> Run:
        """``mask`` (product rows) is what counts; ``filters`` and ``exclude`` are what it was made of."""
        if name == "image":
            allowed = None if mask is None else mask[self.index.image_rows]
            k = min(depth * self._images_per_product, self.index.vector_count(name))
            photos = () if exclude is None else tuple(np.flatnonzero(self.index.image_rows == exclude).tolist())
            D, I = self.index.search_vectors(name, query, k, allowed, filters=filters, exclude_rows=photos)
            rows = np.where(I[0] >= 0, self.index.image_rows[np.maximum(I[0], 0)], -1)
            run = _collapse(rows, D[0])
            return Run(run.docs[:depth], run.scores[:depth])
        D, I = self.index.search_vectors(name, query, depth, mask, filters=filters,
                                         exclude_rows=() if exclude is None else (exclude,))
        return _collapse(I[0], D[0])

    def _product_vectors(self, row: int) -> tuple[np.ndarray, np.ndarray | None]:
        text_vec = self.index.stored_vectors("text", np.array([row]))
        image_ids = np.flatnonzero(self.index.image_rows == row)
        image_vec = self.index.stored_vectors("image", image_ids[:1]) if len(image_ids) else None
        return text_vec, image_vec

    def retrieve(self, request: SearchRequest, image: Image.Image | None = None,
                 timings: dict[str, float] | None = None) -> dict[str, Run]:
        """One run per active signal (a signal with weight 0 is not computed), for each kind of query given
        in `QUERY_KINDS` order and each registered signal answering it (`search.signals`), once per signal."""
        timings = {} if timings is None else timings
        with _timed(timings, "filter"):
            allowed = self.filter_index.mask(request.filters)
        return self._retrieve(request, image, timings, allowed)

    def _retrieve(self, request: SearchRequest, image: Image.Image | None, timings: dict[str, float],
                  allowed: np.ndarray | None, side: SideTask | None = None) -> dict[str, Run]:
        """`retrieve` with the filters' mask made by the caller (``allowed``: not written to). ``side``: work needing
        no signal's run, queued on the signal pool behind the signals and run by this thread if it is free first
        (the caller asks for its result and settles it)."""
        single_thread_search_here()
        weights = {**self.config.weights, **(request.weights or {})}
        if request.text is None and image is None and request.product_id is None:
            raise InvalidQueryError("give a text query, an image, or a product_id")
        depth = min(self.config.candidate_depth, self.index.n_products)
        mask = allowed
        exclude = None
        if request.product_id is not None:
            exclude = self.row_of(request.product_id)
            mask = np.ones(self.index.n_products, bool) if mask is None else mask.copy()
            mask[exclude] = False
        filters = None if request.filters is None or request.filters.is_empty() else request.filters.model_dump()
        with _timed(timings, "understand"):
            text = self.signal_text(request)
        ctx = QueryContext(self, text, image, exclude, depth, mask, timings, filters=filters, typed_text=request.text)
        plan: dict[str, list[tuple[int, QueryEncoder]]] = {}  # signal -> (kind's place, its encoder) to try in order
        for at, kind in enumerate(QUERY_KINDS):
            if ctx.has(kind):
                for signal in signals_for(kind):
                    if weights.get(signal.name, 1.0) > 0:
                        plan.setdefault(signal.name, []).append((at, signal.queries[kind]))
        ctx.plan([encoder for tries in plan.values() for _, encoder in tries])
        signals = {s.name: s for s in all_signals() if s.name in plan}
        waiting = [name for name in plan if set(signals[name].after) & set(plan)]  # read others' runs: run last
        pool = self._pool if self._in_flight.count <= 1 else None  # other searches under way: one thread
        with _timed(timings, "signals"):
            if pool is None or len(plan) - len(waiting) < 2:
                if side is not None:
                    side.queue(pool)
                done = [self._run_signal(ctx, signals[name], plan[name]) for name in plan if name not in waiting]
            else:  # this thread and the pool's each take the next signal not yet started, until none is left
                names = parallel_order([name for name in plan if name not in waiting], plan)
                done = run_on_threads(pool, self.signal_threads, names,
                                      lambda name: self._run_signal(ctx, signals[name], plan[name]), side)
            done += [self._run_signal(ctx, signals[name], plan[name]) for name in waiting]
        # In the order the one-at-a-time loop ran them: by query kind, then registry order (fusion adds in this order).
        ran = [d for d in done if d is not None]
        registry = {name: i for i, name in enumerate(signals)}
        runs = {name: run for name, _, run in sorted(ran, key=lambda d: (d[1], registry[d[0]]))}
        if not runs:
            raise InvalidQueryError("every signal this query could use has weight 0")
        return runs

    def _run_signal(self, ctx: QueryContext, signal: Signal, tries: list[tuple[int, QueryEncoder]]
                    ) -> tuple[str, int, Run] | None:
        """``signal``'s run for the first of its query kinds this request has a query for (timed under its name)."""
        single_thread_search_here()
        for at, encoder in tries:
            query = ctx.query(encoder)
            if query is None:  # e.g. "more like this" for a product without a photo
                continue
            with _timed(ctx.timings, signal.name):
                return signal.name, at, signal.run(ctx, query)
        return None

    def search(self, request: SearchRequest, image: Image.Image | None = None) -> SearchResponse:
        """Retrieve, fuse and page; page n+1 continues page n with no duplicates or gaps."""
        asked, price, excluded = self.with_limits_from_text(request)
        with getattr(self.encoders.text, "answering", nullcontext)(), self._in_flight.one():  # how busy it is
            response = self._search(asked, image)
        if price is None and not excluded:
            return response
        searched = response.searched or (asked.text if asked.text != request.text else None)  # limit words out
        understood = {name: value for name, value in response.understood.items()  # "not black" alone: no Black
                      if value not in excluded.get(name, ())}
        return response.model_copy(update={"price_from_text": price, "excluded_from_text": excluded,
                                           "searched": searched, "understood": understood})

    def with_limits_from_text(self, request: SearchRequest
                              ) -> tuple[SearchRequest, PriceBounds | None, dict[str, list[str]]]:
        """``request`` with the limits its words state as its filters, and those words out of its text: a price
        ("under 1000", `search.price_phrases`) and values it rules out ("not black", `search.negation`); each off
        with `SearchConfig.price_from_text` / `exclusions_from_text`."""
        price, excluded = None, {}
        if self.config.price_from_text:
            request, price = price_phrases.with_price_from_text(request, self.filter_index.price_range)
        if self.config.exclusions_from_text:
            request, excluded = negation.with_exclusions_from_text(request, self.understanding.parse)
        return request, price, excluded

    def _search(self, request: SearchRequest, image: Image.Image | None) -> SearchResponse:
        timings: dict[str, float] = {}
        t_start = time.perf_counter()
        with _timed(timings, "filter"):
            allowed = self.filter_index.mask(request.filters)
        side = SideTask(lambda: self._understood_count(request, image is not None, allowed, timings))
        try:
            return self._search_with(request, image, timings, t_start, allowed, side)
        finally:
            side.settle()  # nothing of the request runs on after it

    def _understood_count(self, request: SearchRequest, has_image: bool, allowed: np.ndarray | None,
                          timings: dict[str, float]) -> int | None:
        with _timed(timings, "total_count"):
            return understood_count(self, request, has_image, allowed)

    def _search_with(self, request: SearchRequest, image: Image.Image | None, timings: dict[str, float],
                     t_start: float, allowed: np.ndarray | None, side: SideTask[int | None]) -> SearchResponse:
        """`_search` once the filter mask is made; ``side``: the understood `total`, counted beside the signals."""
        runs = self._retrieve(request, image, timings, allowed, side)
        depth = min(self.config.candidate_depth, self.index.n_products)
        if request.offset + request.k > depth:
            raise InvalidQueryError(f"offset + k = {request.offset + request.k} is beyond the {depth} candidates "
                                    "each query ranks; ask for an earlier page")
        weights = {**self.config.weights, **(request.weights or {})}
        fusion = request.fusion or self.config.fusion
        with _timed(timings, "fuse"):
            fused = fuse(runs, method=fusion, weights=weights,
                         rrf_k=self.config.rrf_k if request.rrf_k is None else request.rrf_k,
                         norm=request.norm or self.config.norm)
        with _timed(timings, "rerank"):  # the fused scores stay for the total (relative to the best fused score)
            ordered = self.second_stage(request, image, runs, fused)
        with _timed(timings, "fetch"):
            page = slice(request.offset, request.offset + request.k)
            page_docs = ordered.docs[page]
            found = {name: _ranks_of(page_docs, run) for name, run in runs.items()}
            hits = []
            for doc, score in zip(page_docs.tolist(), ordered.scores[page].tolist(), strict=True):
                signals = {name: SignalHit(rank=ranks[doc][0], score=ranks[doc][1])
                           for name, ranks in found.items() if doc in ranks}
                hits.append(Hit(product=self.index.store.products[doc], score=score, signals=signals,
                                has_image=bool(self.index.store.has_thumbnail[doc])))
        with _timed(timings, "total_estimate"):  # the count's wait (counted beside the signals), else the fused count
            count = side.result()
            total = count if count is not None else fused_count(self, fused)
            understood = self.understanding.parse(request.text).understood() if request.text else {}
            rewritten = self.signal_text(request)
        timings["total"] = (time.perf_counter() - t_start) * 1000
        return SearchResponse(hits=hits, total=total, pageable=len(ordered),
                              understood=understood, searched=rewritten if rewritten != request.text else None,
                              k=request.k, offset=request.offset, fusion=fusion,
                              signals=list(runs), timings_ms={k: round(v, 3) for k, v in timings.items()})

