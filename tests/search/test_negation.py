"""Values a query rules out ("shoes not red"): what `search.negation` reads with the real parser, and the Searcher,
facets and API leaving them out. The synthetic catalog (tests/support.py): 72 products, 6 colours x 3 kinds x 2
brands x 2; Acme is Men, Birch is Women."""

from __future__ import annotations

import pytest

from indexer.catalog import Product
from search.config import SearchConfig
from search.facets import compute_facets
from search.filters import Filters
from search.negation import find_exclusions, with_exclusions_from_text
from search.synonyms import parse_synonyms
from search.types import SearchRequest
from search.understanding import QueryUnderstanding

PRODUCTS = [
    Product(id=f"p{i}", title=f"{colour} {kind}", category=["Apparel", kind],
            brand="Acme" if gender == "Men" else "Birch", attributes={"colour": colour, "gender": gender, "sku": f"X-{i}"})
    for i, (colour, kind, gender) in enumerate([
        ("Red", "Shoes", "Men"), ("Black", "Shoes", "Women"), ("Navy Blue", "Dresses", "Women"),
        ("Brown", "Shoes", "Men"), ("Black", "Dresses", "Women"), ("Red", "Dresses", "Women"),
        ("Off-White", "T-Shirts", "Men")])
]


@pytest.fixture(scope="module")
def parse():
    return QueryUnderstanding.build(PRODUCTS, parse_synonyms("crimson => Red\ngear => Shoes, Dresses\n")).parse


@pytest.mark.parametrize(("text", "excluded", "rest"), [
    ("shoes not black", {"colour": ["Black"]}, "shoes"),
    ("Shoes NOT Black", {"colour": ["Black"]}, "Shoes"),
    ("shoes no red", {"colour": ["Red"]}, "shoes"),
    ("dresses except navy blue", {"colour": ["Navy Blue"]}, "dresses"),
    ("shoes not black or brown", {"colour": ["Black", "Brown"]}, "shoes"),
    ("shoes not black, nor crimson please", {"colour": ["Black", "Red"]}, "shoes please"),
    ("shoes other than red", {"colour": ["Red"]}, "shoes"),
    ("shoes but not for men", {"gender": ["Men"]}, "shoes"),
    ("shoes not in black or brown", {"colour": ["Black", "Brown"]}, "shoes"),
    ("shoes not black or in brown, sale", {"colour": ["Black", "Brown"]}, "shoes sale"),
    ("shoes not for running", {}, "shoes not for running"),  # "running" names no value here
    ("non-black shoes", {"colour": ["Black"]}, "shoes"),
    ("dresses not for women", {"gender": ["Women"]}, "dresses"),
    ("shoes without men", {"gender": ["Men"]}, "shoes"),
    ("red shoes not black", {"colour": ["Black"]}, "red shoes"),
    ("apparel not shoes", {"category": ["Shoes"]}, "apparel"),  # a category level, and a brand, too
    ("dresses not acme", {"brand": ["Acme"]}, "dresses"),
    ("apparel not t-shirts, or off-white", {"category": ["T-Shirts"], "colour": ["Off-White"]}, "apparel"),  # one word
    ("shoes not black or acme", {"colour": ["Black"], "brand": ["Acme"]}, "shoes"),
])
def test_values_after_a_negation_word_are_ruled_out(parse, text, excluded, rest):
    assert find_exclusions(text, parse) == (excluded, rest if excluded else text)


@pytest.mark.parametrize("text", [
    "no show socks",  # "show" names no value
    "shoes not x-99",  # names no value
    "black shoes", "shoes or black", "notblack shoes",
])
def test_other_words_stay_as_typed(parse, text):
    assert find_exclusions(text, parse) == ({}, text)
    assert find_exclusions("shoes not black", parse, kept={("colour", "black")}) == ({}, "shoes not black")


def test_a_known_phrase_starting_with_a_negation_word_is_no_negation():
    products = [Product(id=f"k{i}", title=f"{kind} {i}", attributes={"kind": kind})
                for i, kind in enumerate(["Bra", "Camisole", "Bra", "Camisole"])]
    parse = QueryUnderstanding.build(products, parse_synonyms("no bra top, bralette top => Camisole\n")).parse
    assert find_exclusions("white no bra top", parse) == ({}, "white no bra top")  # a Camisole, said so
    assert find_exclusions("camisole not bra", parse) == ({"kind": ["Bra"]}, "camisole")


def test_the_request_excludes_them_unless_it_asks_for_them(parse):
    asked, excluded = with_exclusions_from_text(SearchRequest(text="shoes not black", filters=Filters(brand=["A"])),
                                                parse)
    assert excluded == {"colour": ["Black"]} and asked.text == "shoes"
    assert asked.filters == Filters(brand=["A"], exclude={"attributes": {"colour": ["Black"]}})
    mixed, excluded = with_exclusions_from_text(SearchRequest(
        text="apparel not acme or shoes", filters=Filters(exclude={"brand": ["Zed"], "attributes": {"colour": ["Red"]}})),
        parse)
    assert excluded == {"brand": ["Acme"], "category": ["Shoes"]} and mixed.text == "apparel"
    assert mixed.filters.exclude.model_dump() == {"brand": ["Zed", "Acme"], "category": ["Shoes"],
                                                  "attributes": {"colour": ["Red"]}}  # the request's own kept
    own, excluded = with_exclusions_from_text(
        SearchRequest(text="shoes not black", filters=Filters(attributes={"Colour": ["Black"]})), parse)
    assert excluded == {} and own.text == "shoes not black"  # the request asked for black itself: its words stay
    both, excluded = with_exclusions_from_text(SearchRequest(text="black shoes not black or brown"), parse)
    assert excluded == {} and both.text == "black shoes not black or brown"  # asked for by the rest: no negation
    some, excluded = with_exclusions_from_text(SearchRequest(text="black shoes not brown or black"), parse)
    assert excluded == {"colour": ["Brown"]} and some.text == "black shoes or black"  # only black was asked for
    wider, excluded = with_exclusions_from_text(SearchRequest(text="gear not shoes"), parse)  # gear: Dresses too
    assert excluded == {"category": ["Shoes"]} and wider.text == "gear"
    same, excluded = with_exclusions_from_text(SearchRequest(text="dresses not dresses"), parse)
    assert excluded == {} and same.text == "dresses not dresses"
    alone, _ = with_exclusions_from_text(SearchRequest(text="not black"), parse)
    assert alone.text == "not black" and alone.filters.exclude.attributes == {"colour": ["Black"]}


def test_the_searcher_leaves_ruled_out_values_out(synthetic_searcher):
    res = synthetic_searcher.search(SearchRequest(text="shoes for women not red", k=50))
    assert res.hits and all(h.product.attributes["colour"] != "Red" for h in res.hits)
    assert res.excluded_from_text == {"colour": ["Red"]} and res.searched == "shoes for women"
    assert res.understood == {"gender": "Women"} and res.total == 30  # Women, 5 other colours x 3 kinds x 2
    plain = synthetic_searcher.search(SearchRequest(text="shoes for women", k=50))
    assert any(h.product.attributes["colour"] == "Red" for h in plain.hits) and plain.excluded_from_text == {}
    both = synthetic_searcher.search(SearchRequest(text="bag not red or blue", k=50))
    assert both.hits and not {h.product.attributes["colour"] for h in both.hits} & {"Red", "Blue"}
    brand = synthetic_searcher.search(SearchRequest(text="bag not acme", k=50))
    assert brand.excluded_from_text == {"brand": ["Acme"]} and brand.total == 12  # Birch's 6 colours x 2
    assert brand.hits and all(h.product.brand == "Birch" for h in brand.hits)
    alone = synthetic_searcher.search(SearchRequest(text="not red", k=50))
    assert "colour" not in alone.understood and all(h.product.attributes["colour"] != "Red" for h in alone.hits)


def test_exclusions_from_text_off_leaves_the_query_as_typed(synthetic_searcher):
    synthetic_searcher.config = SearchConfig(exclusions_from_text=False)
    res = synthetic_searcher.search(SearchRequest(text="shoes for women not red", k=50))
    assert res.excluded_from_text == {} and any(h.product.attributes["colour"] == "Red" for h in res.hits)


def test_facets_count_as_with_the_exclusion_filter(synthetic_searcher):
    stated = compute_facets(synthetic_searcher, SearchRequest(text="shoes for women not red"))
    excluded = compute_facets(synthetic_searcher, SearchRequest(text="shoes for women", filters=Filters(
        exclude={"attributes": {"colour": ["Red"]}})))
    assert stated.total == excluded.total == 30 and stated.facets == excluded.facets
    colours = {v.value: v.count for v in stated.facets["colour"]}
    assert "Red" not in colours and sum(colours.values()) == 30 and not any(v.selected for v in stated.facets["colour"])
    assert stated.facets != compute_facets(synthetic_searcher, SearchRequest(text="shoes for women")).facets


def test_the_api_reports_what_the_words_rule_out(client):
    body = client.get("/search", params={"q": "bag not black", "k": 50}).json()
    assert body["excluded_from_text"] == {"colour": ["Black"]} and body["searched"] == "bag"
    assert body["hits"] and all(h["product"]["attributes"]["colour"] != "Black" for h in body["hits"])
