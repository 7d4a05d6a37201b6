"""Price bounds typed into the query ("shoes under 1000"): what `search.price_phrases` reads, and the Searcher,
facets and API applying them as the price filter. The synthetic catalog (tests/support.py) prices its 72 products
between 10 and 54 USD."""

from __future__ import annotations

import pytest

from search.config import SearchConfig
from search.facets import compute_facets
from search.filters import Filters
from search.price_phrases import find_price, with_price_from_text
from search.types import SearchRequest


@pytest.mark.parametrize(("text", "low", "high", "words", "rest"), [
    ("black shoes for men under 1000", None, 1000, "under 1000", "black shoes for men"),
    ("shoes under 2k for men", None, 2000, "under 2k", "shoes for men"),
    ("dress upto 1.5k", None, 1500, "upto 1.5k", "dress"),
    ("saree under 1 lakh", None, 100_000, "under 1 lakh", "saree"),
    ("jeans under rs. 999", None, 999, "under rs. 999", "jeans"),
    ("red dress under $40", None, 40, "under $40", "red dress"),
    ("bag under 500/-", None, 500, "under 500/-", "bag"),
    ("shoes under 1,000.", None, 1000, "under 1,000", "shoes"),
    ("tshirt for under 500", None, 500, "for under 500", "tshirt"),
    ("shoes priced below 1500", None, 1500, "priced below 1500", "shoes"),
    ("shoes within budget of 1500", None, 1500, "within budget of 1500", "shoes"),
    ("tshirt < 500", None, 500, "< 500", "tshirt"),
    ("shoes over 2000", 2000, None, "over 2000", "shoes"),
    ("min rs 500 shoes", 500, None, "min rs 500", "shoes"),
    ("shoes max price 1000", None, 1000, "max price 1000", "shoes"),
    ("nike air max 90 under 5000", None, 5000, "under 5000", "nike air max 90"),
    ("tops above 500 below 900", 500, 900, "above 500 below 900", "tops"),
    ("kurta between 500 and 800 rs", 500, 800, "between 500 and 800 rs", "kurta"),
    ("kurta between 800 and 500", 500, 800, "between 800 and 500", "kurta"),
    ("shoes from 1000 to 2000", 1000, 2000, "from 1000 to 2000", "shoes"),
    ("rs 500 - 1000 kurta", 500, 1000, "rs 500 - 1000", "kurta"),
    ("$20 to $50 dress", 20, 50, "$20 to $50", "dress"),
    ("perfume 100 ml under 2000", None, 2000, "under 2000", "perfume 100 ml"),
    ("shoes for price 500-1000", 500, 1000, "for price 500-1000", "shoes"),
])
def test_price_phrases_are_read_and_taken_out_of_the_text(text, low, high, words, rest):
    bounds, left = find_price(text)
    assert bounds is not None and (bounds.min, bounds.max, bounds.words) == (low, high, words)
    assert left == rest


@pytest.mark.parametrize("text", [
    "heels under 3 inches", "bag below 20 litres", "watch under 5 atm", "size 32 jeans", "puma 500 shoes",
    "500-1000 kurta",  # no currency, no price word: may be a model number
    "shirts 500 to 1000", "jeans between 30 and 34 waist", "pullover 500", "budget shoes", "under armour shoes",
    "overcoat 2000", "red dress",
    "air max 270 shoes", "min 500 shoes",  # "max"/"min" alone need a currency
    "upto 70% off shoes", "kurta upto 60 off",  # a discount
])
def test_numbers_that_measure_something_else_are_left_alone(text):
    assert find_price(text) == (None, text)


def test_the_request_gets_the_price_filter_and_its_own_bound_wins():
    asked, bounds = with_price_from_text(SearchRequest(text="red shoes under 30", filters=Filters(brand=["Acme"])))
    assert bounds is not None and bounds.max == 30
    assert asked.text == "red shoes" and asked.filters == Filters(brand=["Acme"], price_max=30)
    own, _ = with_price_from_text(SearchRequest(text="red shoes under 30", filters=Filters(price_max=20)))
    assert own.filters.price_max == 20  # the request's own bound wins
    both, _ = with_price_from_text(SearchRequest(text="red shoes over 30", filters=Filters(price_max=40)))
    assert (both.filters.price_min, both.filters.price_max) == (30, 40)
    clash, _ = with_price_from_text(SearchRequest(text="red shoes under 30", filters=Filters(price_min=40)))
    assert (clash.filters.price_min, clash.filters.price_max) == (40, None)  # never min > max: the request's own range
    alone, _ = with_price_from_text(SearchRequest(text="under 30"))
    assert alone.text == "under 30" and alone.filters.price_max == 30  # nothing else to search: the text stays
    catalog = (10.0, 54.0)  # a bound no product meets is no price ("toys for kids under 5": an age)
    assert with_price_from_text(SearchRequest(text="toys for kids under 5"), catalog)[1] is None
    assert with_price_from_text(SearchRequest(text="bags over 900"), catalog)[1] is None
    assert with_price_from_text(SearchRequest(text="bags under 12"), catalog)[1].max == 12
    for request in (SearchRequest(text="red shoes"), SearchRequest(product_id="s001")):
        assert with_price_from_text(request) == (request, None)


def test_the_searcher_applies_the_stated_price(synthetic_searcher):
    res = synthetic_searcher.search(SearchRequest(text="red shoes under 20", k=50))
    assert res.hits and all(h.product.price <= 20 for h in res.hits)
    assert res.price_from_text is not None and (res.price_from_text.min, res.price_from_text.max) == (None, 20)
    assert res.searched == "red shoes"
    plain = synthetic_searcher.search(SearchRequest(text="red shoes", k=50))
    assert any(h.product.price > 20 for h in plain.hits) and plain.price_from_text is None
    assert res.total < plain.total  # the understood red products, within the stated price
    ageless = synthetic_searcher.search(SearchRequest(text="red shoes under 5", k=5))  # every price is 10 or more
    assert ageless.price_from_text is None and ageless.hits
    alone = synthetic_searcher.search(SearchRequest(text="under 20", k=50))
    assert alone.hits and all(h.product.price <= 20 for h in alone.hits) and alone.searched is None  # as typed
    ranged = synthetic_searcher.search(SearchRequest(text="bag between $20 and $30", k=50))
    assert ranged.hits and all(20 <= h.product.price <= 30 for h in ranged.hits)


def test_price_from_text_off_leaves_the_query_as_typed(synthetic_searcher):
    synthetic_searcher.config = SearchConfig(price_from_text=False)
    res = synthetic_searcher.search(SearchRequest(text="red shoes under 20", k=50))
    assert res.price_from_text is None and any(h.product.price > 20 for h in res.hits)


def test_facets_count_within_the_stated_price(synthetic_searcher):
    stated = compute_facets(synthetic_searcher, SearchRequest(text="red shoes under 20"))
    filtered = compute_facets(synthetic_searcher, SearchRequest(text="red shoes", filters=Filters(price_max=20)))
    assert stated.total == filtered.total and stated.facets == filtered.facets
    assert stated.total < compute_facets(synthetic_searcher, SearchRequest(text="red shoes")).total


def test_the_api_reports_the_stated_price(client):
    body = client.get("/search", params={"q": "red shoes under 20", "k": 50}).json()
    assert body["price_from_text"] == {"min": None, "max": 20.0, "words": "under 20"}
    assert body["searched"] == "red shoes" and all(h["product"]["price"] <= 20 for h in body["hits"])
    assert client.get("/search", params={"q": "red shoes"}).json()["price_from_text"] is None


def test_hostile_numbers_state_no_price(client):
    assert find_price("under " + "9" * 400)[0] is None  # no 400-digit bound (it would be infinite in JSON)
    assert find_price("between 1 and " + "9" * 500 + " rs")[0] is None
    response = client.get("/search", params={"q": "shoes under " + "9" * 400})
    assert response.status_code == 200 and response.json()["price_from_text"] is None
