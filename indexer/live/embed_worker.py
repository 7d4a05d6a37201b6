"""Live writes' model calls in a separate process at the lowest CPU priority, so searches preempt them.

Embedding a written product (MiniLM for its text, the CLIP image tower for its photo) costs tens of ms
of CPU on every core torch has; in the serving process it competes with searches for the cores and
the GIL, and searches wait (measured on 2 cores: p95 1.45x the same readers without a writer). Here
the models run in one worker process started with ``os.nice(19)``: the kernel gives a search's
thread the core whenever it wants it, and the worker holds no lock a search takes.

Only the model calls move: reading, hashing and decoding photos, the embedding cache, the log and the
live state stay in the server (`indexer.live.embed`). Vectors come back over a pipe, as the same
encoders compute them in process (the worker loads the server's models by their spec, checked by
identity at start). If the worker dies, the writes waiting on it fail with `EmbeddingWorkerError`
(nothing was logged, so nothing is lost: the client retries) and the next write starts a new worker.
"""

from __future__ import annotations

import functools
import logging
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embedding_cache import encoder_identity
from indexer.errors import ProdsearchError

logger = logging.getLogger(__name__)

WORKER_NICE = 19  # the lowest priority: any runnable search thread gets the core first
PARENT_CHECK_S = 1.0  # how often the worker looks whether the server still lives
WORKER_THREADS = 1  # torch threads: see `_start_worker`
CALL_TIMEOUT_S = 600.0  # one model call (a 1,000-photo batch is seconds; model loading at start is more)

_encoders: Any = None  # in the worker process: the loaded encoders


class EmbeddingWorkerError(ProdsearchError, RuntimeError):
    """The embedding worker could not embed (it died, or loaded other models); nothing was written."""


def _exit_with(parent: int) -> None:
    """Leave when the server process is gone (a kill -9 gives the worker no word): ``parent`` is no longer
    this process's parent once it died."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _start_worker(parent: int, factory: Callable[[], Any], nice: int, threads: int, onnx_cache: str | None) -> None:
    """In the worker: lower its priority first (every thread it starts inherits it), then load the models."""
    global _encoders
    threading.Thread(target=_exit_with, args=(parent,), name="exit-with-server", daemon=True).start()
    if nice:
        os.nice(nice)
    _encoders = _for_products(factory(), threads, onnx_cache)


def _for_products(encoders: Any, threads: int, onnx_cache: str | None) -> Any:
    """``encoders`` set up to embed products as the server does: on ``threads`` torch threads, a single product
    text by the build's fp32 ONNX export (under ``onnx_cache``) when the server has it. No query session is
    opened: the worker never embeds a query."""
    if "torch" in sys.modules:
        # One thread: a niced thread that a search preempts just pauses, while the threads of one torch op
        # that wait on a preempted sibling spin at its barrier. Measured on 2 cores at load 5-7 (other jobs):
        # one photo 5.2 ms on one thread vs 752 ms on two; 64 photos in batches of 32, 4.6-6.3 vs 5.8-18 ms
        # a photo; one text 7.6 vs 125 ms.
        import torch

        torch.set_num_threads(max(1, threads))
    if onnx_cache and hasattr(encoders.text, "use_onnx_for_documents"):
        encoders.text.use_onnx_for_documents(Path(onnx_cache))
    return encoders


def _identities() -> tuple[str, str]:
    return encoder_identity(_encoders.text), encoder_identity(_encoders.clip)


def _encode(role: str, kind: str, payload: Sequence[Any]) -> np.ndarray:
    encoder = _encoders.text if role == "text" else _encoders.clip
    out = encoder.encode_texts(payload) if kind == "texts" else encoder.encode_images(payload)
    return np.asarray(out, np.float32)


def _given(encoders: Any) -> Any:
    return encoders


def worker_factory(encoders: Any) -> Callable[[], Any] | None:
    """How a worker gets the same encoders as ``encoders``: the real models loaded again by their spec (on
    the CPU), or a picklable encoder object sent as it is (tests' fakes); None when neither (a GPU model:
    it does not compete for the cores; an encoder that cannot be rebuilt): then writes embed in process."""
    from indexer.encoders import OpenClipEncoder, SentenceTransformerEncoder, load_encoders

    text, clip = encoders.text, encoders.clip
    if isinstance(text, SentenceTransformerEncoder) or isinstance(clip, OpenClipEncoder):
        if not (isinstance(text, SentenceTransformerEncoder) and isinstance(clip, OpenClipEncoder)):
            return None
        if text.device != "cpu" or clip.device != "cpu":
            return None
        return functools.partial(load_encoders, text.spec["text_model"], clip.spec["clip_model"],
                                 clip.spec["clip_pretrained"], "cpu")
    try:
        pickle.dumps(encoders)
    except Exception:
        return None
    return functools.partial(_given, encoders)


class EmbeddingWorker:
    """One niced worker process running the encoders' model calls; restarted after it dies."""

    def __init__(self, encoders: Any, factory: Callable[[], Any], *, nice: int = WORKER_NICE,
                 threads: int = WORKER_THREADS, onnx_cache: str | None = None):
        self.local = encoders
        self._args = (os.getpid(), factory, nice, threads, onnx_cache)
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the worker and load its models in the background (the first write does not wait for it)."""
        self._current()

    def _current(self) -> tuple[ProcessPoolExecutor, Future]:
        with self._lock:
            if self._closed:
                raise EmbeddingWorkerError("the embedding worker is closed (the server is stopping)")
            if self._pool is None or self._ready is None:
                self._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_start_worker,
                                                 initargs=self._args)
                self._ready = self._pool.submit(_identities)
            return self._pool, self._ready

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken worker (the next call starts another)."""
        with self._lock:
            if self._pool is pool:
                self._pool, self._ready = None, None
        pool.shutdown(wait=False, cancel_futures=True)

    @property
    def state(self) -> str:
        """"starting" (models loading), "ready", "failed" (the next write starts another) or "stopped"."""
        ready = self._ready
        if self._closed or ready is None:
            return "stopped"
        if not ready.done():
            return "starting"
        return "failed" if ready.exception() is not None else "ready"

    @property
    def pid(self) -> int | None:
        """The worker process's id (None before it started)."""
        pool = self._pool
        processes = getattr(pool, "_processes", None) or {}
        return next(iter(processes), None)

    def encode(self, role: str, kind: str, payload: Sequence[Any]) -> np.ndarray:
        """``role`` ("text" or "clip") encoder's ``encode_texts`` / ``encode_images`` (``kind``) in the worker."""
        pool, ready = self._current()
        try:
            names = ready.result(timeout=CALL_TIMEOUT_S)
            expected = (encoder_identity(self.local.text), encoder_identity(self.local.clip))
            if tuple(names) != expected:
                self._discard(pool)
                raise EmbeddingWorkerError(f"the embedding worker loaded other models ({names}, expected "
                                           f"{expected}); nothing was written")
            try:
                future = pool.submit(_encode, role, kind, list(payload))
            except RuntimeError as exc:  # shut down meanwhile (another call found it broken)
                raise BrokenProcessPool(str(exc)) from None
            return future.result(timeout=CALL_TIMEOUT_S)
        except (BrokenProcessPool, TimeoutError) as exc:
            self._discard(pool)
            logger.error("the embedding worker failed (%s: %s); the next write starts a new one",
                         type(exc).__name__, exc)
            raise EmbeddingWorkerError(f"the embedding worker stopped ({type(exc).__name__}: {exc}); nothing was "
                                       f"written, send the write again") from None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool, self._ready = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()


class _WorkerEncoder:
    """An encoder whose model calls run in the worker; everything else (name, dim, identity) is the local one's."""

    def __init__(self, local: Any, worker: EmbeddingWorker, role: str):
        self._local, self._worker, self._role = local, worker, role

    def __getattr__(self, name: str) -> Any:
        return getattr(self._local, name)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return self._local.encode_texts([])
        return self._worker.encode(self._role, "texts", list(texts))

    def encode_images(self, images: Sequence[Any]) -> np.ndarray:
        if not images:
            return self._local.encode_images([])
        return self._worker.encode(self._role, "images", list(images))


def worker_encoders(encoders: Any, worker: EmbeddingWorker) -> Any:
    """``encoders`` with their model calls sent to ``worker`` (same type as `indexer.encoders.Encoders`)."""
    from indexer.encoders import Encoders

    return Encoders(text=_WorkerEncoder(encoders.text, worker, "text"),
                    clip=_WorkerEncoder(encoders.clip, worker, "clip"))
