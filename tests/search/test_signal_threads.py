"""A request's signals run in parallel (`Searcher(signal_threads=N)`): the same response as one after the other, for
text, photo and "more like this" queries, filters and weights; the signals really overlap; each shared query
embedding is still made once; an error in any signal reaches the caller; a bad setting is refused."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from indexer.errors import ProdsearchError
from search.filters import Filters
from search.fusion import Run
from search.searcher import Searcher
from search.signal_threads import SIGNAL_THREADS_ENV, signal_threads_setting
from search.signals import QueryEncoder, Signal, registered
from search.types import SearchRequest


@pytest.fixture(scope="module")
def searchers(synthetic_index):
    from support import FakeClipEncoder, FakeTextEncoder

    from indexer.encoders import Encoders

    encoders = Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())
    one = Searcher.open(synthetic_index, encoders, signal_threads=1)
    four = Searcher.open(synthetic_index, encoders, signal_threads=4)
    yield one, four
    one.index.close()
    four.index.close()


def _requests(catalog_dir):
    photo = Image.open(catalog_dir.parent / "img" / "s000.png")
    texts = ["red shoes", "blue", "acme tshirt for men", "birch bag", "nothing matches this", "grene shoes"]
    out = [(SearchRequest(text=t, k=10), None) for t in texts]
    out += [(SearchRequest(text=t, k=5, offset=5, filters=Filters(brand=["Birch"])), None) for t in texts]
    out += [(SearchRequest(text="red shoes", k=10, weights={"semantic": 0}), None),
            (SearchRequest(text="red shoes", k=10, weights={"lexical": 0, "attributes": 0}), None),
            (SearchRequest(k=10), photo), (SearchRequest(text="red", k=10), photo),
            (SearchRequest(product_id="s000", k=10), None),
            (SearchRequest(product_id="s001", k=10, filters=Filters(category=["Footwear"])), None)]
    return out


def test_parallel_signals_answer_exactly_as_one_after_the_other(searchers, synthetic_catalog):
    one, four = searchers
    assert one._pool is None and four._pool is not None
    for request, image in _requests(synthetic_catalog):
        a = one.search(request, image).model_dump(exclude={"timings_ms"})
        b = four.search(request, image).model_dump(exclude={"timings_ms"})
        assert a == b, request
        runs_a, runs_b = one.retrieve(request, image), four.retrieve(request, image)
        assert list(runs_a) == list(runs_b)  # fusion adds signals in this order
        for name in runs_a:
            assert np.array_equal(runs_a[name].docs, runs_b[name].docs)
            assert np.array_equal(runs_a[name].scores, runs_b[name].scores)


def test_timings_name_every_signal_and_the_whole_retrieval(searchers):
    _, four = searchers
    timings = four.search(SearchRequest(text="red shoes", k=5)).timings_ms
    assert {"lexical", "semantic", "visual", "attributes", "signals", "total"} <= set(timings)
    assert timings["signals"] <= timings["total"]


def _meeting(barrier: threading.Barrier, patience: list[float] | None = None):
    """A signal waiting for another at ``barrier``, ``patience[0]`` seconds (read at each wait; default 10)."""
    def retrieve(ctx, query) -> Run:
        # raises BrokenBarrierError when the other signal never runs beside this one
        barrier.wait(timeout=patience[0] if patience else 10)
        return Run(np.array([0], np.int64), np.array([1.0]))
    return retrieve


def test_signals_overlap(searchers):
    one, four = searchers
    barrier, patience = threading.Barrier(2), [10.0]
    encoder = QueryEncoder("toy_text", "text", "the text", lambda ctx: ctx.text)
    first = Signal("meet_a", {"text": encoder}, "nothing", 1.0, "waits for meet_b", retrieve=_meeting(barrier, patience))
    second = Signal("meet_b", {"text": encoder}, "nothing", 1.0, "waits for meet_a", retrieve=_meeting(barrier, patience))
    with registered(first), registered(second):
        runs = four.retrieve(SearchRequest(text="red"))
        assert {"meet_a", "meet_b"} <= set(runs)
        barrier.reset()
        patience[0] = 0.5  # the one-thread case waits that long for nothing
        with pytest.raises(threading.BrokenBarrierError):  # one at a time: the first waits alone
            one.retrieve(SearchRequest(text="red", weights={"lexical": 0, "semantic": 0, "visual": 0,
                                                             "attributes": 0}))


def test_signals_take_one_thread_while_another_search_is_under_way(searchers):
    """`InFlight`: a busy server's requests already share its cores; only a request alone spreads its signals."""
    _, four = searchers
    inside, release = threading.Event(), threading.Event()

    def hold(ctx, query) -> Run:
        inside.set()
        release.wait(10)
        return Run(np.array([0], np.int64), np.array([1.0]))

    builtin_off = {"lexical": 0, "semantic": 0, "visual": 0, "attributes": 0}
    encoder = QueryEncoder("toy_text", "text", "the text", lambda ctx: ctx.text)
    barrier, patience = threading.Barrier(2), [0.5]  # the one-thread case waits that long for nothing
    signals = [Signal("holds", {"text": encoder}, "nothing", 1.0, "waits to be released", retrieve=hold),
               Signal("meet_a", {"text": encoder}, "nothing", 1.0, "meets meet_b", retrieve=_meeting(barrier, patience)),
               Signal("meet_b", {"text": encoder}, "nothing", 1.0, "meets meet_a", retrieve=_meeting(barrier, patience))]
    with registered(signals[0]), registered(signals[1]), registered(signals[2]):
        meet = SearchRequest(text="red", weights={**builtin_off, "holds": 0})
        busy = threading.Thread(target=four.search,
                                args=(SearchRequest(text="red", weights={**builtin_off, "meet_a": 0, "meet_b": 0}),))
        busy.start()
        try:
            assert inside.wait(10)
            with pytest.raises(threading.BrokenBarrierError):  # one after the other: meet_a waits alone
                four.search(meet)
        finally:
            release.set()
            busy.join(10)
        barrier.reset()
        patience[0] = 10  # alone: a slow machine may take a while to start the pool's thread
        assert four.search(meet).hits  # alone again: the two meet on two threads (no BrokenBarrierError)
        assert four._in_flight.count == 0


def test_a_shared_embedding_is_made_once(searchers):
    _, four = searchers
    calls = []
    lock = threading.Lock()

    def embed(ctx):
        with lock:
            calls.append(1)
        return ctx.text

    encoder = QueryEncoder("counted", "text", "counted", embed)
    signals = [Signal(f"uses_{i}", {"text": encoder}, "nothing", 1.0, "counts",
                      retrieve=lambda ctx, q: Run(np.array([0], np.int64), np.array([1.0]))) for i in range(3)]
    with registered(signals[0]), registered(signals[1]), registered(signals[2]):
        for _ in range(20):
            four.retrieve(SearchRequest(text="red"))
    assert len(calls) == 20


def test_an_error_in_a_parallel_signal_reaches_the_caller(searchers):
    _, four = searchers

    def broken(ctx, query):
        raise RuntimeError("signal broke")

    with registered(Signal("broken", {"text": QueryEncoder("b", "text", "b", lambda ctx: 1)}, "nothing", 1.0,
                           "raises", retrieve=broken)), pytest.raises(RuntimeError, match="signal broke"):
        four.search(SearchRequest(text="red shoes"))
    assert four.search(SearchRequest(text="red shoes")).hits  # the pool still answers


def test_the_setting(monkeypatch):
    monkeypatch.delenv(SIGNAL_THREADS_ENV, raising=False)
    assert signal_threads_setting() == 2
    monkeypatch.setenv(SIGNAL_THREADS_ENV, "3")
    assert signal_threads_setting() == 3 and signal_threads_setting(2) == 2
    for bad in ("two", "0", "1000"):
        monkeypatch.setenv(SIGNAL_THREADS_ENV, bad)
        with pytest.raises(ProdsearchError, match=SIGNAL_THREADS_ENV if bad == "two" else "signal threads"):
            signal_threads_setting()



def test_a_signal_reading_another_signals_run_waits_for_it(searchers, synthetic_catalog):
    """A signal declared `after` another (`matched_product` reads the `image` run) runs once that run is made, also
    in parallel: without it, it asked before the image search had finished and was skipped."""
    from search.exact_photo import _IMAGE_RUN

    one, four = searchers
    photo = Image.open(synthetic_catalog.parent / "img" / "s000.png")
    encoder = QueryEncoder("image_run_top", "photo", "the image run's best product",
                           lambda ctx: None if ctx.embedded(_IMAGE_RUN) is None else ctx.embedded(_IMAGE_RUN).docs[:1])
    reader = Signal("reads_image", {"photo": encoder}, "nothing", 1.0, "the image run's top product", eval_mode=None,
                    retrieve=lambda ctx, top: Run(top.astype(np.int64), np.ones(len(top))), after=("image",))
    with registered(reader):
        for _ in range(10):  # a race shows up as a missing run in some of the tries
            runs_one, runs_four = one.retrieve(SearchRequest(k=10), photo), four.retrieve(SearchRequest(k=10), photo)
            assert "reads_image" in runs_one and list(runs_four) == list(runs_one)
            assert runs_four["reads_image"].docs.tolist() == runs_one["image"].docs[:1].tolist()


def test_the_total_is_counted_beside_the_signals(searchers, monkeypatch):
    """The understood `total` (`understood_count`) runs while the signals do (one meets it), and gives the same
    total as one thread counting it after fusion."""
    import search.searcher as searcher_module

    one, four = searchers
    request = SearchRequest(text="acme tshirt for men", k=5)
    want = one.search(request).total
    barrier = threading.Barrier(2)
    count = searcher_module.understood_count

    def meeting_count(*args, **kwargs):
        barrier.wait(timeout=10)
        return count(*args, **kwargs)

    monkeypatch.setattr(searcher_module, "understood_count", meeting_count)
    encoder = QueryEncoder("toy_text", "text", "the text", lambda ctx: ctx.text)
    with registered(Signal("meets_count", {"text": encoder}, "nothing", 1.0, "waits for the count",
                           retrieve=_meeting(barrier))):
        response = four.search(request)
    assert response.total == want and "total_count" in response.timings_ms


@pytest.mark.parametrize("which", [0, 1])
def test_an_error_in_the_total_reaches_the_caller(searchers, monkeypatch, which):
    import search.searcher as searcher_module

    searcher = searchers[which]

    def broken(*args, **kwargs):
        raise RuntimeError("count broke")

    with monkeypatch.context() as m:
        m.setattr(searcher_module, "understood_count", broken)
        with pytest.raises(RuntimeError, match="count broke"):
            searcher.search(SearchRequest(text="red shoes"))
    assert searcher.search(SearchRequest(text="red shoes")).hits  # the pool still answers


def test_the_total_does_not_outlive_a_failed_request(searchers, monkeypatch):
    """A signal fails while the total is being counted: the request raises the signal's error only once the count
    has finished (nothing of the request runs on after it)."""
    import time

    import search.searcher as searcher_module

    _, four = searchers
    started, finished = threading.Event(), threading.Event()

    def slow_count(*args, **kwargs):
        started.set()
        time.sleep(0.3)
        finished.set()
        return 0

    def broken(ctx, query):
        started.wait(timeout=10)
        raise RuntimeError("signal broke")

    monkeypatch.setattr(searcher_module, "understood_count", slow_count)
    with registered(Signal("broken", {"text": QueryEncoder("b", "text", "b", lambda ctx: 1)}, "nothing", 1.0,
                           "raises", retrieve=broken)), pytest.raises(RuntimeError, match="signal broke"):
        four.search(SearchRequest(text="red shoes"))
    assert started.is_set() and finished.is_set()
