"""The signal registry: the built-ins as the engine always had them, and a toy signal registered for one test
that is retrieved, fused, weighted by name through the API and reported by an eval mode, then removed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from search import signals as registry
from search.fusion import Run
from search.signals import QueryEncoder, Signal, SignalError, registered
from search.types import SearchRequest

BUILTINS = ("lexical", "semantic", "visual", "image", "cross_modal", "attributes", "matched_product")
TEXT_ONLY_OFF = {"lexical": 0, "semantic": 0, "visual": 0, "attributes": 0}
TOY = "title_length"


def _query_length(ctx: registry.QueryContext) -> int:
    return len(ctx.text or "")


def _by_title_length(ctx: registry.QueryContext, length: int) -> Run:
    """Products whose title is as long as the query first (score = minus the difference), filters respected."""
    titles = np.array([len(p.title) for p in ctx.searcher.index.store.products])
    scores = -np.abs(titles - length).astype(np.float64)
    allowed = np.arange(len(titles)) if ctx.mask is None else np.flatnonzero(ctx.mask)
    best = allowed[np.lexsort((allowed, -scores[allowed]))][: ctx.depth]
    return Run(best.astype(np.int64), scores[best])


QUERY_LENGTH = QueryEncoder("query_length", "text", "the query's length in characters", _query_length)
TITLE_LENGTH = Signal(TOY, {"text": QUERY_LENGTH}, "product titles", 0.25,
                      "products whose title is as long as the query", retrieve=_by_title_length)


@pytest.fixture
def toy_signal():
    with registered(TITLE_LENGTH) as signal:
        yield signal
    assert TOY not in registry.signal_names()


def ids(response):
    return [h.product.id for h in response.hits]


# -- the built-ins ----------------------------------------------------------------------------------------
def test_builtin_signals_are_the_ones_the_engine_always_had():
    import search.config as config

    assert registry.signal_names() == BUILTINS == config.SIGNALS
    assert config.TEXT_SIGNALS == ("lexical", "semantic", "visual", "attributes")
    assert config.IMAGE_SIGNALS == ("image", "cross_modal", "matched_product")
    assert config.PRODUCT_SIGNALS == ("semantic", "image", "attributes")
    assert config.DEFAULT_WEIGHTS == config.SearchConfig().weights == {
        "lexical": 1.0, "semantic": 1.0, "visual": 1.0, "image": 1.0, "cross_modal": 0.25, "attributes": 6.0,
        "matched_product": 0.25}
    by_name = {s.name: s for s in registry.all_signals()}
    assert {n: s.searches for n, s in by_name.items()} == {
        "lexical": "lexical", "semantic": "text", "visual": "image", "image": "image", "cross_modal": "clip_text",
        "attributes": "catalog attribute values", "matched_product": "text"}
    assert {n: {k: e.name for k, e in s.queries.items()} for n, s in by_name.items()} == {
        "lexical": {"text": "query_text"}, "semantic": {"text": "text", "product": "stored_text"},
        "visual": {"text": "clip_text"}, "image": {"photo": "clip_image", "product": "stored_image"},
        "cross_modal": {"photo": "clip_image"}, "attributes": {"text": "understood", "product": "product_type"},
        "matched_product": {"photo": "matched_text"}}


def test_bad_declarations_are_refused():
    with pytest.raises(SignalError, match="already registered"):
        registry.register(Signal("lexical", {"text": QUERY_LENGTH}, "x", 1.0, "x"))
    with pytest.raises(SignalError, match="embeds text queries, not photo"):
        Signal("toy", {"photo": QUERY_LENGTH}, "x", 1.0, "x")
    with pytest.raises(SignalError, match="queries must map"):
        Signal("toy", {"sound": QUERY_LENGTH}, "x", 1.0, "x")  # type: ignore[dict-item]
    with pytest.raises(SignalError, match="default_weight"):
        Signal("toy", {"text": QUERY_LENGTH}, "x", float("nan"), "x")
    with pytest.raises(SignalError, match="letters, digits"):
        Signal("toy-signal", {"text": QUERY_LENGTH}, "x", 1.0, "x")
    other = QueryEncoder("text", "text", "another encoder named like the built-in one", _query_length)
    with pytest.raises(SignalError, match="already named 'text'"):
        registry.register(Signal("toy", {"text": other}, "x", 1.0, "x"))
    with pytest.raises(SignalError, match="no signal named"):
        registry.unregister("toy")
    assert registry.signal_names() == BUILTINS


def test_a_signal_searching_a_field_the_index_lacks_says_so(synthetic_searcher):
    from search.signals import CLIP_TEXT

    missing = Signal("colour_words", {"text": CLIP_TEXT}, "colour", 1.0, "a vector field this index was not built with")
    with registered(missing), pytest.raises(SignalError, match="vector field 'colour', which this index does not have"):
        synthetic_searcher.search(SearchRequest(text="red", weights=TEXT_ONLY_OFF))


# -- a toy signal through every layer ----------------------------------------------------------------------
def test_toy_signal_is_retrieved_and_fused(toy_signal, synthetic_searcher, synthetic_catalog):
    from search.config import SearchConfig

    assert SearchConfig().weights[TOY] == 0.25
    query = "red shoes"
    response = synthetic_searcher.search(SearchRequest(text=query, k=10))
    assert response.signals == ["lexical", "semantic", "visual", "attributes", TOY]
    assert TOY in response.timings_ms and any(TOY in h.signals for h in response.hits)

    alone = synthetic_searcher.search(SearchRequest(text=query, k=20, weights={**TEXT_ONLY_OFF, TOY: 1}))
    assert alone.signals == [TOY]
    gaps = [abs(len(h.product.title) - len(query)) for h in alone.hits]
    assert gaps == sorted(gaps) and [h.signals[TOY].score for h in alone.hits] == [-g for g in gaps]

    # fused: its weight moves products, by name, like any signal's
    lexical_only = synthetic_searcher.search(SearchRequest(text=query, k=10, fusion="weighted", weights={
        "semantic": 0, "visual": 0, "attributes": 0, TOY: 0}))
    toy_heavy = synthetic_searcher.search(SearchRequest(text=query, k=10, fusion="weighted", weights={
        "semantic": 0, "visual": 0, "attributes": 0, TOY: 1000}))
    assert lexical_only.signals == ["lexical"] and toy_heavy.signals == ["lexical", TOY]
    assert ids(lexical_only) != ids(toy_heavy)
    assert abs(len(toy_heavy.hits[0].product.title) - len(query)) == min(gaps)

    # it answers text only: a photo query does not run it, filters apply inside it
    photo = Image.open(synthetic_catalog.parent / "img" / "s000.png")
    assert TOY not in synthetic_searcher.search(SearchRequest(k=5), image=photo).signals
    from search.filters import Filters
    filtered = synthetic_searcher.search(SearchRequest(text=query, k=10, filters=Filters(brand=["Birch"]),
                                                       weights=TEXT_ONLY_OFF))
    assert filtered.signals == [TOY] and all(h.product.brand == "Birch" for h in filtered.hits)


def test_toy_signal_is_gone_once_unregistered(synthetic_searcher):
    with registered(TITLE_LENGTH):
        assert SearchRequest(text="x", weights={TOY: 1}).weights == {TOY: 1}
    with pytest.raises(ValidationError, match="unknown signal"):
        SearchRequest(text="x", weights={TOY: 1})
    assert synthetic_searcher.search(SearchRequest(text="red shoes")).signals == [
        "lexical", "semantic", "visual", "attributes"]


def test_toy_signal_through_the_api(client):
    only_toy = {"q": "red shoes", "k": 5, "weights": f"lexical:0,semantic:0,visual:0,attributes:0,{TOY}:1"}
    with registered(TITLE_LENGTH):
        r = client.get("/search", params=only_toy)
        assert r.status_code == 200, r.text
        assert r.json()["signals"] == [TOY] and all(TOY in h["signals"] for h in r.json()["hits"])
        listed = {s["name"]: s for s in client.get("/signals").json()["signals"]}
        assert list(listed) == [*BUILTINS, TOY]
        assert listed[TOY]["description"] == TITLE_LENGTH.description
        assert listed[TOY]["queries"] == {"text": "the query's length in characters"}
        assert listed["cross_modal"]["default_weight"] == 0.25 and listed["cross_modal"]["weight"] == 0.25
        schema = client.get("/openapi.json").json()
        described = [p["description"] for p in schema["paths"]["/search"]["get"]["parameters"] if p["name"] == "weights"]
        assert TOY in described[0] and "cross_modal" in described[0]
        assert TOY in schema["components"]["schemas"]["SearchBody"]["properties"]["weights"]["description"]
    r = client.get("/search", params=only_toy)
    assert r.status_code == 422 and "unknown signal" in r.text
    assert [s["name"] for s in client.get("/signals").json()["signals"]] == list(BUILTINS)


def test_toy_signal_gets_an_eval_mode(toy_signal, synthetic_index, synthetic_catalog, fake_encoders, tmp_path):
    from eval.derive import derive_relevance, write_derived
    from eval.modes import default_modes, resolve_modes, single_mode_names
    from eval.pipeline import evaluate_modes, relevance_for
    from eval.runner import open_searcher
    from indexer.catalog import load_catalog

    assert default_modes() == ("lexical", "semantic", "visual", "attributes", TOY, "fused-rrf",
                              "fused-weighted")
    assert TOY in single_mode_names()
    (mode,) = resolve_modes([TOY])
    assert mode.active_signals() == [TOY] and "title is as long as the query" in mode.description
    assert TOY in resolve_modes(["fused-rrf"])[0].active_signals()

    derived = derive_relevance(load_catalog(synthetic_catalog), n_text=8, n_photo=2, min_support=2, seed=1,
                               queries_dir=tmp_path)
    write_derived(derived, tmp_path)
    searcher = open_searcher(synthetic_index, fake_encoders)
    relevance = relevance_for(searcher, tmp_path / "queries.jsonl", tmp_path / "qrels.txt")
    report = evaluate_modes(searcher, relevance, resolve_modes(["lexical", TOY, "fused-weighted"]), None,
                            progress=False, plots=False)
    toy = report["modes"][TOY]
    assert toy["config"]["weights"][TOY] == 1.0 and toy["config"]["weights"]["lexical"] == 0.0
    kinds = report["meta"]["queries_by_kind"]
    assert toy["answered"] == kinds["text"] > 0 and toy["unanswered"] == kinds["image"] > 0  # text queries only
    assert 0 <= toy["metrics"]["ndcg@10"] <= 1 and toy["by_kind"]["text"]["n"] == kinds["text"]
    assert report["targets"]["best_single"] in ("lexical", TOY)
