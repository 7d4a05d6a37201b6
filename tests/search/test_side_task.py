"""`SideTask`: work of a request run beside its signals on the signal pool, taken back by the request's thread when
free first, its error raised by `result`, and never running on after `settle`."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from search.side_task import SideTask


@pytest.fixture
def pool():
    with ThreadPoolExecutor(1) as p:
        yield p


def test_without_a_pool_it_runs_when_asked(pool):
    calls = []
    task = SideTask(lambda: calls.append(threading.current_thread()) or 7)
    task.queue(None)
    assert not calls
    assert task.result() == 7 and task.result() == 7 and calls == [threading.current_thread()]
    task.settle()


def test_queued_behind_busy_signals_it_runs_in_the_requests_thread(pool):
    release = threading.Event()
    pool.submit(release.wait, 10)  # the one worker is busy (a signal)
    threads = []
    task = SideTask(lambda: threads.append(threading.current_thread()) or 3)
    task.queue(pool)
    task.run_here_if_queued()
    assert threads == [threading.current_thread()]
    release.set()
    assert task.result() == 3 and len(threads) == 1


def test_started_in_the_pool_it_is_waited_for(pool):
    started, finished = threading.Event(), threading.Event()

    def slow():
        started.set()
        time.sleep(0.2)
        finished.set()
        return 1

    task = SideTask(slow)
    task.queue(pool)
    assert started.wait(10)
    task.run_here_if_queued()  # too late: a pool thread runs it
    task.settle()
    assert finished.is_set()
    assert task.result() == 1


def test_settle_cancels_it_when_still_queued(pool):
    release = threading.Event()
    pool.submit(release.wait, 10)
    calls = []
    task = SideTask(lambda: calls.append(1))
    task.queue(pool)
    task.settle()
    release.set()
    pool.shutdown(wait=True)
    assert not calls


@pytest.mark.parametrize("queued", [False, True])
def test_its_error_is_raised_by_result(pool, queued):
    def broken():
        raise ValueError("broke")

    task = SideTask(broken)
    task.queue(pool if queued else None)
    task.settle()  # never raises
    with pytest.raises(ValueError, match="broke"):
        task.result()
