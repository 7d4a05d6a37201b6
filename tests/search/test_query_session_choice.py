"""Which ONNX session embeds a query: every core only when no other search is in flight (issue #11, CPU per request)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np

from indexer.encoders import SentenceTransformerEncoder


def _encoder_with_recording_sessions(used: list[str]) -> SentenceTransformerEncoder:
    """The query-side state of a served encoder, its two sessions replaced by recorders (no model needed)."""
    encoder = SentenceTransformerEncoder.__new__(SentenceTransformerEncoder)
    encoder._query_lock = threading.Lock()
    encoder._embedding_queries = 0
    encoder._searches = 0
    encoder._query_onnx_alone = SimpleNamespace(encode=lambda batch: (used.append("all cores"), np.ones((1, 4)))[1])
    encoder._query_onnx = SimpleNamespace(encode=lambda batch: (used.append("one thread"), np.ones((1, 4)))[1])
    return encoder


def test_every_core_only_for_the_only_search_in_flight():
    used: list[str] = []
    encoder = _encoder_with_recording_sessions(used)
    vector = encoder.embed_query_uncached("red dress")  # outside a search (eval, scripts): alone
    assert np.allclose(vector, 0.5) and used == ["all cores"]
    with encoder.answering():
        encoder.embed_query_uncached("red dress")
        assert used[-1] == "all cores"
        with encoder.answering():  # a second search, e.g. in its FAISS stage, while this one embeds
            encoder.embed_query_uncached("blue shirt")
            assert used[-1] == "one thread"
        encoder.embed_query_uncached("green cap")
        assert used[-1] == "all cores"
    assert encoder._searches == 0


def test_answering_is_released_when_the_search_fails():
    encoder = _encoder_with_recording_sessions([])
    try:
        with encoder.answering():
            raise ValueError("a bad query")
    except ValueError:
        pass
    assert encoder._searches == 0


def test_the_searcher_counts_its_search_in_flight(synthetic_searcher):
    from contextlib import contextmanager

    from search.types import SearchRequest

    entered, exited = [], []

    @contextmanager
    def answering():
        entered.append(1)
        yield
        exited.append(1)

    encoder = synthetic_searcher.encoders.text
    encoder.answering = answering
    try:
        hits = synthetic_searcher.search(SearchRequest(text="red shirt", k=5)).hits
    finally:
        del encoder.answering
    assert hits and entered == [1] and exited == [1]


def test_query_batcher_embeds_the_queries_that_arrived_meanwhile_together():
    from indexer.encoders import QueryBatcher

    batches, first_inside, release = [], threading.Event(), threading.Event()

    def embed_batch(texts):
        batches.append(list(texts))
        if len(batches) == 1:
            first_inside.set()
            release.wait(10)
        if "boom" in texts:
            raise ValueError("model failed")
        return np.array([[float(len(t)), float(t.count("a"))] for t in texts])

    batcher = QueryBatcher(embed_batch, max_batch=3)
    results, errors = {}, {}

    def ask(text):
        try:
            results[text] = batcher.embed(text)
        except ValueError as exc:
            errors[text] = str(exc)

    first = threading.Thread(target=ask, args=("alone",))
    first.start()
    assert first_inside.wait(10)  # a query alone is embedded at once, on its own
    waiting = [threading.Thread(target=ask, args=(t,)) for t in ("aa", "bbb", "cccc", "boom", "e")]
    for t in waiting:
        t.start()
    while len(batcher._pending) < 5:  # all five queued behind the running batch
        threading.Event().wait(0.005)
    release.set()
    for t in [first, *waiting]:
        t.join(10)
    assert batches[0] == ["alone"] and sorted(len(b) for b in batches[1:]) == [2, 3]  # 5 queued -> 3 + 2
    assert sorted(t for b in batches[1:] for t in b) == sorted(["aa", "bbb", "cccc", "boom", "e"])
    for text, vector in results.items():  # each caller gets its own query's vector
        assert vector.tolist() == [float(len(text)), float(text.count("a"))]
    boom_batch = next(b for b in batches if "boom" in b)
    assert set(errors) == set(boom_batch) and all(m == "model failed" for m in errors.values())
    assert set(results) | set(errors) == {"alone", "aa", "bbb", "cccc", "boom", "e"}
    assert not batcher._pending and not batcher._running


def test_query_batch_setting_reaches_the_encoder():
    from api.settings import Settings

    used: list[str] = []
    encoder = _encoder_with_recording_sessions(used)
    encoder.query_batch, encoder._batcher = 4, None
    vector = encoder.embed_query_uncached("red dress")
    assert np.allclose(vector, 0.5) and used == ["all cores"] and encoder._batcher.max_batch == 4
    assert Settings(query_batch=8).query_batch == 8 and Settings().query_batch == 1
