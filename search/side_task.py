"""Work of one request that needs no signal's run (the relevant set's count, `search.relevant.understood_count`),
run beside the signals on the Searcher's signal pool instead of after fusion, where it added to every query's time
(~5 ms p95 at 1M products)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

T = TypeVar("T")


class SideTask(Generic[T]):
    """One call, queued on a pool behind the request's signals (`queue`), taken back by the request's own thread when
    that is free first (`run_here_if_queued`) or when the result is asked for and no pool thread has started it
    (`result`), else waited for. Its error is raised by `result`, as a signal's is by the Searcher. It never outlives
    the request: the Searcher calls `settle` in a ``finally``."""

    def __init__(self, call: Callable[[], T]):
        self._call = call
        self._future: Future[T] | None = None
        self._ran = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def queue(self, pool: ThreadPoolExecutor | None) -> None:
        """Queue it on ``pool`` (None: it runs in the caller's thread when its result is asked for)."""
        if pool is not None and self._future is None and not self._ran:
            self._future = pool.submit(self._call)

    def run_here_if_queued(self) -> None:
        """Run it in this thread now unless a pool thread has already started it."""
        if self._future is not None and self._future.cancel():
            self._future = None
            self._run()

    def result(self) -> T:
        """Its value (run here now unless a pool thread has started it, then waited for), or its error raised."""
        self.run_here_if_queued()
        if self._future is not None:
            return self._future.result()
        if not self._ran:
            self._run()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def settle(self) -> None:
        """Make sure it no longer runs when this returns: cancelled if still queued, else waited for (its error, if
        any, is not raised here: an earlier error of the request is the one its caller sees)."""
        if self._future is not None and not self._future.cancel():
            wait([self._future])

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # raised by `result`, in the request's thread
            self._error = exc
        finally:
            self._ran = True
