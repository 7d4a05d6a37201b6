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
