"""`eval run`: every query of a relevance set through `Searcher.search`, once per mode.

Query embeddings are computed once, in batches, before any mode runs (`indexer.encoder_cache`);
the Searcher then gets them from the cache, so the latency measured per query is the
Searcher's own work (filters, retrieval, fusion, building hits) and the amortised batch
encoding time is reported beside it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from tqdm import tqdm

from eval.modes import Mode
from eval.relevance import Query
from indexer.encoder_cache import cached_encoders
from indexer.encoders import Encoders, shared_text_tower
from indexer.errors import InvalidQueryError, ProdsearchError
from indexer.images import ImageFailure, read_image
from search.searcher import Searcher
from search.signals import QueryEncoder, QueryKind, get_signal, query_encoders, signals_for
from search.types import MAX_K, SearchRequest

logger = logging.getLogger(__name__)


@dataclass
class ModeRun:
    """One mode's answers: ranked product ids per query, and the Searcher's latency per answered query."""

    mode: Mode
    ranked: dict[str, list[str]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)


def load_query_images(queries: Sequence[Query]) -> dict[str, Image.Image]:
    """Decode every query photo once (RGB), as `prodsearch query --image` does (`indexer.images.read_image`):
    byte and pixel caps checked before decoding, so a decompression bomb is refused, not decoded."""
    images = {}
    for q in queries:
        if q.image is not None:
            image = read_image(str(q.image))
            if isinstance(image, ImageFailure):
                raise ProdsearchError(f"query {q.id}: cannot use image {q.image}: {image.reason}")
            images[q.id] = image
    return images


def query_rewrites(searcher: Searcher, queries: Sequence[Query]) -> list[str]:
    """The texts the signals search instead of the queries' typed ones (`search.understanding`), to prime."""
    return [r for q in queries if q.text and (r := searcher.understanding.parse(q.text).text)]


def prime_encoders(encoders: Encoders, queries: Sequence[Query], images: dict[str, Image.Image],
                   modes: Sequence[Mode], rewrites: Sequence[str] = ()) -> dict[str, float]:
    """Batch-encode every query text (and ``rewrites``, the texts query understanding makes of them) and photo the
    modes' signals need (`search.signals`); seconds per encoder."""
    texts = list(dict.fromkeys([*(q.text for q in queries if q.text), *rewrites]))
    inputs: dict[str, list[Any]] = {"text": texts, "photo": list(images.values())}
    needed: dict[str, QueryEncoder] = {}
    for mode in modes:
        used = query_encoders([get_signal(s) for s in mode.active_signals()])
        for name, encoder in used.items():
            # The Searcher reuses the text vector for `visual` when the towers are shared and `semantic` runs too;
            # a mode with `visual` but not `semantic` still needs the CLIP text embeddings.
            if encoder.reuses in used and shared_text_tower(encoders):
                continue
            needed.setdefault(name, encoder)
    seconds = {}
    for name, encoder in query_encoders().items():  # registry order
        if name in needed and encoder.prime is not None and inputs.get(encoder.kind):
            seconds[name] = encoder.prime(encoders, inputs[encoder.kind])
    return seconds


def request_for(query: Query, mode: Mode | None, k: int) -> SearchRequest:
    overrides = mode.request_overrides() if mode else {}
    return SearchRequest(text=query.text, product_id=query.product_id, k=k, filters=query.filters, **overrides)


def can_serve(mode: Mode, query: Query) -> bool:
    """Whether any of the mode's signals can use this kind of query (a photo cannot go through BM25)."""
    active = set(mode.active_signals())
    given: tuple[tuple[QueryKind, object], ...] = (("text", query.text), ("photo", query.image),
                                                    ("product", query.product_id))
    return any(active & {s.name for s in signals_for(kind)} for kind, present in given if present)


@contextmanager
def mode_settings(searcher: Searcher, mode: Mode) -> Iterator[Searcher]:
    """The Searcher with the mode's engine-side settings (its ranker or none, its candidate depth, its ANN search
    parameters) for a block."""
    from eval.tune_ann import using_search_params
    from search.ranker import load_ranker

    saved = searcher.config, searcher.ranker
    if mode.candidate_depth is not None:
        searcher.config = searcher.config.model_copy(update={"candidate_depth": mode.candidate_depth})
    searcher.ranker = None
    if mode.ranker is not None:
        from pathlib import Path

        key = (mode.ranker, Path(mode.ranker).stat().st_mtime_ns if Path(mode.ranker).is_file() else 0)
        if key not in _rankers:
            _rankers[key] = load_ranker(mode.ranker)
        searcher.ranker = _rankers[key]
    try:
        with using_search_params(searcher.index.vector_store, mode.search_params):
            yield searcher
    finally:
        searcher.config, searcher.ranker = saved


_rankers: dict[tuple[str, int], Any] = {}  # ranker files loaded by `mode_settings`, by path and mtime


def run_mode(searcher: Searcher, mode: Mode, queries: Sequence[Query], images: dict[str, Image.Image],
             k: int = MAX_K, bar: tqdm | None = None) -> ModeRun:
    """Send every query through `searcher.search` with the mode's settings; unanswerable queries rank nothing."""
    with mode_settings(searcher, mode):
        return _run_mode(searcher, mode, queries, images, k, bar)


def _run_mode(searcher: Searcher, mode: Mode, queries: Sequence[Query], images: dict[str, Image.Image],
              k: int, bar: tqdm | None) -> ModeRun:
    result = ModeRun(mode)
    k = max(1, min(k, searcher.index.n_products, searcher.config.candidate_depth))
    for query in queries:
        response = None
        if can_serve(mode, query):  # a mode with no signal for the query's kind ranks nothing, silently
            start = time.perf_counter()
            try:
                response = searcher.search(request_for(query, mode, k), images.get(query.id))
            except InvalidQueryError as exc:
                logger.warning("mode %s, query %s: %s (ranked as empty)", mode.name, query.id, exc)
            else:
                result.latencies_ms.append((time.perf_counter() - start) * 1000)
        if response is None:
            result.ranked[query.id] = []
            result.unanswered.append(query.id)
        else:
            result.ranked[query.id] = [h.product.id for h in response.hits]
        if bar is not None:
            bar.update(1)
    return result


@dataclass
class EvalRun:
    runs: dict[str, ModeRun]
    encode_seconds: dict[str, float]
    n_queries: int
    k: int
    seconds: float


def run_modes(searcher: Searcher, modes: Sequence[Mode], queries: Sequence[Query], *, k: int = MAX_K,
              progress: bool = True, warmup: int = 3) -> EvalRun:
    """Prime the encoder cache, warm up, then run each mode over every query."""
    start = time.perf_counter()
    searcher.encoders = cached_encoders(searcher.encoders)  # idempotent
    images = load_query_images(queries)
    encode_seconds = prime_encoders(searcher.encoders, queries, images, modes, query_rewrites(searcher, queries))
    logger.info("encoded %d queries in batch: %s", len(queries),
                ", ".join(f"{name} {s:.2f}s" for name, s in encode_seconds.items()) or "nothing to encode")
    for mode in modes:  # first calls pay one-off costs (allocations, caches); keep them out of the timings
        run_mode(searcher, mode, list(queries)[:warmup], images, k)
    runs = {}
    with tqdm(total=len(queries) * len(modes), desc="evaluating", unit="query", disable=not progress,
              dynamic_ncols=True) as bar:
        for mode in modes:
            bar.set_postfix_str(mode.name)
            runs[mode.name] = run_mode(searcher, mode, queries, images, k, bar)
    misses = searcher.encoders.text.misses + searcher.encoders.clip.misses  # type: ignore[attr-defined]
    if misses:
        logger.warning("%d query embeddings were computed during timing (cache misses)", misses)
    return EvalRun(runs, encode_seconds, len(queries), k, time.perf_counter() - start)


def open_searcher(index: Any, encoders: Encoders | None = None, config: Any = None, **models: str | None) -> Searcher:
    """`Searcher.open` (index directory or loaded index; ``models``: text_model, clip_model, clip_pretrained,
    device overrides), with memoising encoders, which `prime_encoders` needs."""
    searcher = Searcher.open(index, encoders, config, **models)
    searcher.encoders = cached_encoders(searcher.encoders)
    return searcher
