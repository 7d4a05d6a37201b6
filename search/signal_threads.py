"""The threads one request's signals run on (`Searcher(signal_threads=N)`), kept apart from the Searcher's retrieval
and fusion: the setting, the pool, the count of searches in flight that decides whether a request may use it, the
order signals are taken in, and running them over this thread and the pool's until none is left."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from indexer.errors import ProdsearchError
from indexer.vector_index import use_single_thread_search

if TYPE_CHECKING:
    from search.side_task import SideTask
    from search.signals import QueryEncoder

J = TypeVar("J")
R = TypeVar("R")

_this_thread = threading.local()
SIGNAL_THREADS_ENV = "PRODSEARCH_SIGNAL_THREADS"  # the default of `Searcher(signal_threads=...)`
# A request alone on the Searcher takes both cores of a 2-core machine; under concurrent requests each keeps to one
# thread anyway (`InFlight`). 44k fashion index, new text queries (benchmarks/signal_threads.py): p50 6.71 -> 5.23 ms.
DEFAULT_SIGNAL_THREADS = 2


def signal_threads_setting(value: int | None = None) -> int:
    """Threads a Searcher runs one request's signals on: ``value``, else $PRODSEARCH_SIGNAL_THREADS, else 2."""
    if value is None:
        raw = os.environ.get(SIGNAL_THREADS_ENV, "").strip()
        try:
            value = int(raw) if raw else DEFAULT_SIGNAL_THREADS
        except ValueError:
            raise ProdsearchError(f"${SIGNAL_THREADS_ENV}={raw!r}: expected a whole number of threads") from None
    if not 1 <= value <= 64:
        raise ProdsearchError(f"signal threads: expected 1 to 64, got {value}")
    return value


def single_thread_search_here() -> None:
    """`use_single_thread_search` for the calling thread, once per thread. libgomp keeps the OpenMP thread
    count per thread: set in the thread that opened the Searcher, it left the server's threadpool threads
    (which answer the requests) searching FAISS on every core, with OpenMP's spinning workers."""
    if not getattr(_this_thread, "single_thread_search", False):
        use_single_thread_search()
        _this_thread.single_thread_search = True


class InFlight:
    """How many searches a Searcher (and its copies) is answering now. A request's signals take the signal threads
    only while it is the only one: a busy server's cores are already shared by its requests, and handing each
    request's signals between threads then costs CPU (8 concurrent clients at 44k, every request on 2 signal
    threads: 151 QPS against 181 on one)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    @contextmanager
    def one(self) -> Iterator[None]:
        with self._lock:
            self.count += 1
        try:
            yield
        finally:
            with self._lock:
                self.count -= 1


def parallel_order(names: list[str], plan: dict[str, list[tuple[int, QueryEncoder]]]) -> list[str]:
    """The order threads take a request's signals in: those whose query reuses another's embedding (the `visual`
    signal's CLIP text vector is the text encoder's, for a shared tower) last, so that the thread embedding the query
    starts at once and the other thread runs the signals needing no embedding meanwhile, then waits for it."""
    planned = {encoder.name for tries in plan.values() for _, encoder in tries}

    def reuses(name: str) -> bool:
        return any(encoder.reuses in planned for _, encoder in plan[name])

    return sorted(names, key=reuses)  # stable: the registry's order otherwise


def signal_pool(threads: int) -> ThreadPoolExecutor | None:
    """The pool a request's other signals run on (the calling thread runs one itself: one thread fewer)."""
    if threads <= 1:
        return None
    return ThreadPoolExecutor(threads - 1, thread_name_prefix="signals", initializer=single_thread_search_here)


def run_on_threads(pool: ThreadPoolExecutor, threads: int, jobs: list[J], run: Callable[[J], R],
                   side: SideTask[Any] | None = None) -> list[R]:
    """``run`` over ``jobs``: this thread and up to ``threads - 1`` of ``pool``'s each take the next job not yet
    started, until none is left. ``side`` is queued on the pool behind them and run by this thread if it is free
    first. Every job started has finished on return (none may outlive the request); the first error is raised then,
    and once this thread's job fails no other job starts."""
    pending, taking = deque(jobs), threading.Lock()

    def take_jobs() -> list[R]:
        ran = []
        while True:
            with taking:
                if not pending:
                    return ran
                job = pending.popleft()
            ran.append(run(job))

    futures = [pool.submit(take_jobs) for _ in range(min(threads, len(jobs)) - 1)]
    if side is not None:
        side.queue(pool)
    first_error: BaseException | None = None
    try:
        done = take_jobs()
        if side is not None:
            side.run_here_if_queued()  # this thread is free before the pool: it counts
    except BaseException as exc:
        first_error, done = exc, []
        with taking:
            pending.clear()  # the request fails: start no other job
    for future in futures:  # wait for every job: none may outlive the request
        try:
            done += future.result()
        except BaseException as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return done
