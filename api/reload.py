"""Hot reload of the served index: open the configured directory again and swap the Searcher.

Requests take their Searcher once, through `api.deps.get_searcher`, so a request that started
before the swap finishes on the old one (which is freed when its last request ends) and every
request after it gets the new one. Reloads are serialised; a failed one leaves the old Searcher
in place. The encoders are reused: an index built with other models is refused (restart instead).
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from api.settings import Settings
from search.searcher import Searcher

logger = logging.getLogger(__name__)


_closing: weakref.WeakKeyDictionary[Searcher, weakref.finalize] = weakref.WeakKeyDictionary()
_closing_lock = threading.Lock()  # reloads, compactions and writes replace versions from their own threads


def close_when_unused(searcher: Searcher) -> None:
    """Close a replaced ``searcher`` (`Searcher.close`: its signal threads, its index's stores) once nothing
    uses it any more, at exit at the latest.

    A request that took it before the swap still holds it (a live snapshot's Searcher holds it as its
    ``base``) and finishes on it; it is closed when the last such holder lets go, which is also when the
    faiss path frees a replaced index. The close runs in a thread of its own (stopping a Milvus Lite server
    takes a while; the last holder may be a request, or a write holding the write lock), on a shallow copy
    of the Searcher (the same pool and index): the finalizer must not keep the Searcher itself alive.
    Asking twice closes once."""
    with _closing_lock:
        if searcher in _closing:
            return
        finalizer = weakref.finalize(searcher, _close_soon, copy.copy(searcher))
        finalizer.atexit = False  # `_close_at_exit` closes what is still held then, in order, before logging stops
        _closing[searcher] = finalizer


def close_replaced(previous: Searcher | None, current: Searcher) -> None:
    """`close_when_unused` the Searcher ``current`` replaced (none when it was nothing, or ``current`` itself)."""
    if previous is not None and previous is not current:
        close_when_unused(previous)


def _close_now(searcher: Searcher) -> None:
    try:
        searcher.close()
    except Exception:  # a failed close leaks what the old version held; serving goes on
        logger.exception("closing a replaced index version (%s) failed", searcher.index.directory)


def _close_soon(searcher: Searcher) -> None:
    try:
        threading.Thread(target=_close_now, args=(searcher,), name="prodsearch-close-version").start()
    except RuntimeError:  # no new threads at interpreter shutdown
        _close_now(searcher)


@atexit.register  # registered after logging's own shutdown hook, so it runs before it
def _close_at_exit() -> None:
    with _closing_lock:
        held = list(_closing.values())
    for finalizer in held:
        detached = finalizer.detach()
        if detached is not None:
            _close_now(detached[2][0])


class ReloadBusyError(RuntimeError):
    """Another reload is running."""


class ReloadFailedError(RuntimeError):
    """The index could not be opened; the previous one is still served. The message is one line."""


def index_version(directory: Path) -> str | None:
    """The version id of a versioned index directory (``DIR/current`` -> ``versions/<id>``), else None."""
    current = directory / "current"
    if current.is_symlink():
        return Path(os.readlink(current)).name
    if directory.parent.name == "versions":
        return directory.name
    return None


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class LoadedState:
    """What the operator sees of the served index (GET /admin/status)."""

    loaded_at: str
    version: str | None
    loaded_unix: float = 0.0
    reloads: int = 0
    last_reload_error: str | None = None
    last_reload_error_at: str | None = None


class IndexReloader:
    """Owns ``app.state.searcher``: installs the first Searcher and swaps in reloaded ones."""

    def __init__(self, state: Any, settings: Settings, on_reload: Callable[[str], None] | None = None):
        self._state = state  # the app's `State`; `searcher` is read by every request
        self._settings = settings
        self._lock = threading.Lock()
        self._on_reload = on_reload or (lambda result: None)  # "ok", "failed" or "busy" (for metrics)
        self.info: LoadedState | None = None
        # How a Searcher is served: one assignment, or the live service's (which replays the write log on top).
        self.publish: Callable[[Searcher], None] = self._assign

    def _assign(self, searcher: Searcher) -> None:
        previous = getattr(self._state, "searcher", None)
        self._state.searcher = searcher  # one attribute store: atomic for every reader
        close_replaced(previous, searcher)

    def install(self, searcher: Searcher) -> LoadedState:
        """Serve ``searcher`` from now on; the reload count and the last error carry over."""
        previous = self.info
        info = LoadedState(loaded_at=_now(), version=index_version(Path(searcher.index.directory)),
                           loaded_unix=time.time())
        if previous is not None:
            info.reloads = previous.reloads + 1
            info.last_reload_error, info.last_reload_error_at = previous.last_reload_error, previous.last_reload_error_at
        self.publish(searcher)  # one attribute store: atomic for every reader
        self.info = info
        return info

    def _open(self) -> Searcher:
        from api.app import load_searcher, with_understanding
        from search.config import load_search_config

        current: Searcher | None = getattr(self._state, "searcher", None)
        if current is None:
            return load_searcher(self._settings)
        s = self._settings
        return with_understanding(Searcher.open(s.index_dir, current.encoders,
                                                config=load_search_config(s.search_config)), s)

    def reload_blocking(self) -> Searcher:
        """Open the index again and swap it in; `ReloadBusyError` / `ReloadFailedError` otherwise."""
        if not self._lock.acquire(blocking=False):
            self._on_reload("busy")
            raise ReloadBusyError("a reload is already running")
        try:
            start = time.perf_counter()
            try:
                searcher = self._open()
            except Exception as exc:  # any failure: keep serving the old index, say why in one line
                reason = one_line(exc)
                logger.error("index reload from %s failed, still serving the previous index: %s",
                             self._settings.index_dir, reason, exc_info=True)
                if self.info is not None:
                    self.info.last_reload_error, self.info.last_reload_error_at = reason, _now()
                self._on_reload("failed")
                raise ReloadFailedError(reason) from exc
            info = self.install(searcher)
            self._on_reload("ok")
            logger.info("reloaded index %s (version %s, %d products) in %.2f s", self._settings.index_dir,
                        info.version, searcher.index.n_products, time.perf_counter() - start)
            return searcher
        finally:
            self._lock.release()

    async def reload(self) -> Searcher:
        """`reload_blocking` in a worker thread: the event loop keeps serving while the index loads."""
        return await run_in_threadpool(self.reload_blocking)


def install_sighup_reload(reloader: IndexReloader) -> bool:
    """Reload on SIGHUP (from the running event loop); False where the platform has no SIGHUP."""
    if not hasattr(signal, "SIGHUP"):
        return False
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task] = set()

    async def on_sighup() -> None:
        logger.info("SIGHUP: reloading the index")
        try:
            await reloader.reload()
        except (ReloadBusyError, ReloadFailedError) as exc:
            logger.warning("SIGHUP reload not done: %s", exc)

    def handler() -> None:
        task = loop.create_task(on_sighup())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    loop.add_signal_handler(signal.SIGHUP, handler)
    return True
