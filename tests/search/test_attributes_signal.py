"""The `attributes` signal through the registry and the Searcher, `understood` and `total` in responses, and
facets of a catalog whose attributes are not named `gender`/`colour`.

The synthetic catalog (tests/support.py): 72 products, 6 colours x 3 kinds x 2 brands x 2; Acme is Men,
Birch is Women; category ["Apparel", Topwear | Footwear | Bags].
"""

from __future__ import annotations

import pytest

from search.filters import Filters
from search.signals import get_signal, signals_for
from search.types import SearchRequest

ONLY_ATTRIBUTES = {"lexical": 0, "semantic": 0, "visual": 0, "attributes": 1}


def test_attributes_is_one_registered_text_and_product_signal():
    signal = get_signal("attributes")
    assert signal in signals_for("text") and signal in signals_for("product") and signal not in signals_for("photo")
    assert set(signal.queries) == {"text", "product"} and signal.retrieve is not None and signal.default_weight > 0


def test_attributes_signal_ranks_products_holding_the_named_values(synthetic_searcher):
    res = synthetic_searcher.search(SearchRequest(text="ladies red", k=20, weights=ONLY_ATTRIBUTES))
    assert res.signals == ["attributes"] and res.understood == {"gender": "Women", "colour": "Red"}
    # 6 products are red and Women's (both spans: 1.9), then red or Women's ones (one span)
    top = [h.product for h in res.hits[:6]]
    assert all(p.attributes == {"colour": "Red", "gender": "Women"} for p in top)
    assert all(h.signals["attributes"].score >= 1.9 for h in res.hits[:6])
    assert all(h.signals["attributes"].score < 1.9 for h in res.hits[6:])


def test_attributes_signal_respects_filters_and_is_never_a_hard_filter(synthetic_searcher):
    res = synthetic_searcher.search(SearchRequest(text="red", k=10, weights=ONLY_ATTRIBUTES,
                                                  filters=Filters(brand=["Acme"])))
    assert res.hits and all(h.product.brand == "Acme" and h.product.attributes["colour"] == "Red" for h in res.hits)
    fused = synthetic_searcher.search(SearchRequest(text="red", k=50))
    assert {h.product.attributes["colour"] for h in fused.hits} != {"Red"}  # other signals' products stay


def test_a_query_naming_no_value_skips_the_signal(synthetic_searcher):
    res = synthetic_searcher.search(SearchRequest(text="something else entirely", k=5))
    assert "attributes" not in res.signals and res.understood == {}


def test_total_counts_products_holding_every_understood_value(synthetic_searcher):
    res = synthetic_searcher.search(SearchRequest(text="red shoes for women", k=5))
    assert res.understood == {"colour": "Red", "gender": "Women"}  # "shoes" names no value of this catalog
    assert res.total == 6  # red x Women: 3 kinds x 2
    assert res.pageable >= res.total
    # a filter on a named field replaces its span: Blue products for Women
    blue = synthetic_searcher.search(SearchRequest(text="red shoes for women", k=5,
                                                   filters=Filters(attributes={"colour": ["Blue"]})))
    assert blue.total == 6 and all(h.product.attributes["colour"] == "Blue" for h in blue.hits)


def test_total_without_understanding_is_the_fused_head_not_the_union(synthetic_searcher):
    res = synthetic_searcher.search(SearchRequest(text="made by", k=5))
    assert res.understood == {} and 0 < res.total < res.pageable
    off = synthetic_searcher.search(SearchRequest(text="red", k=5, weights={"attributes": 0}))
    assert off.understood == {"colour": "Red"} and "attributes" not in off.signals  # shown, not used


def test_understood_in_the_api_response(client):
    body = client.get("/search", params={"q": "womens red", "k": 3}).json()
    assert body["understood"] == {"gender": "Women", "colour": "Red"} and body["total"] == 6
    assert "pageable" in body and "attributes" in body["signals"]
    assert client.get("/search", params={"q": "zzz", "k": 3}).json()["understood"] == {}


@pytest.mark.parametrize("q", ["red " * 250, "(((.*+?[\\d{999}]", "ünïcödé 👗 \u202e", "%00%ff"])
def test_hostile_queries_are_answered(client, q):
    r = client.get("/search", params={"q": q[:1000], "k": 3})
    assert r.status_code == 200, r.text
    assert client.get("/facets", params={"q": q[:1000]}).status_code == 200


# -- facets for a catalog whose colour attribute is `baseColour` ---------------------------------------------
@pytest.fixture(scope="module")
def base_colour_searcher(tmp_path_factory):
    from tests.support import searcher_over

    folder = tmp_path_factory.mktemp("basecolour")
    rows = []
    for i in range(24):
        colour = ["Navy Blue", "Black", "White"][i % 3]
        size = ["S", "M", "L", "XL"][i % 4]
        rows.append({"id": f"b{i:02d}", "title": f"Item {i} {colour} shirt", "brand": ["Kite", "Lark"][i % 2],
                     "category": ["Apparel", "Shirts"], "price": 10.0 + i,
                     "attributes": {"baseColour": colour, "size": size, "material": ["Cotton", "Linen"][i % 2],
                                    "sku": f"SKU-{i}"}})
    searcher = searcher_over(rows, folder)
    yield searcher
    searcher.index.close()


def test_facets_come_from_the_catalog(base_colour_searcher):
    from search.facets import FacetLayout, compute_facets

    res = compute_facets(base_colour_searcher, SearchRequest())
    assert list(res.facets) == ["baseColour", "size", "material", "brand", "category"]  # sku: an identifier
    counts = {v.value: v.count for v in res.facets["baseColour"]}
    assert counts == {"Navy Blue": 8, "Black": 8, "White": 8}
    assert {v.value: v.count for v in res.facets["size"]} == {"S": 6, "M": 6, "L": 6, "XL": 6}
    assert res.labels["baseColour"] == "Base colour" and res.order[-1] == "price"

    layout = FacetLayout.parse("size:Size (EU), brand, baseColour:Colour")
    res = compute_facets(base_colour_searcher, SearchRequest(), layout)
    assert res.order[:3] == ["size", "brand", "baseColour"] and res.labels["baseColour"] == "Colour"
    assert list(res.facets)[:3] == ["size", "brand", "baseColour"]


def test_facets_count_the_understood_set(base_colour_searcher):
    from search.facets import compute_facets

    res = compute_facets(base_colour_searcher, SearchRequest(text="navy shirt in linen"))
    assert res.total == base_colour_searcher.search(SearchRequest(text="navy shirt in linen", k=5)).total
    # navy (synonym of Navy Blue) x Linen: i % 3 == 0 and i odd -> 3, 9, 15, 21
    assert res.total == 4
    assert {v.value: v.count for v in res.facets["size"]} == {"XL": 2, "M": 2}
    # the colour facet is counted without the span naming a colour: Linen shirts by colour
    assert {v.value: v.count for v in res.facets["baseColour"]} == {"Navy Blue": 4, "Black": 4, "White": 4}


def test_facet_layout_errors_are_clear():
    from search.facets import FacetLayout, FacetLayoutError

    with pytest.raises(FacetLayoutError, match="name:label"):
        FacetLayout.parse("colour,,size")


def test_the_lexical_signal_searches_the_corrected_query(synthetic_searcher):
    """"pnik" is no catalog word; "pink" is one edit away: BM25 alone finds pink products, and the response says
    what was searched. With understanding off (attributes 0) the typed text goes through unchanged."""
    only_lexical = {"lexical": 1, "semantic": 0, "visual": 0}
    res = synthetic_searcher.search(SearchRequest(text="pnik shoes", k=4, weights={**only_lexical, "attributes": 1}))
    assert res.searched == "pink shoes" and res.understood == {"colour": "Pink"}
    lexical = [h for h in res.hits if "lexical" in h.signals]
    assert lexical and all(h.product.attributes["colour"] == "Pink" for h in lexical)
    off = synthetic_searcher.search(SearchRequest(text="pnik shoes", k=4, weights={**only_lexical, "attributes": 0}))
    assert off.searched is None and not any(h.product.attributes["colour"] == "Pink" for h in off.hits)


def test_a_synonym_reaches_the_lexical_signal(synthetic_searcher):
    """"ladies" is no word of the catalog's texts; the shipped synonyms make it Women, which BM25 then searches."""
    weights = {"lexical": 1, "semantic": 0, "visual": 0}
    res = synthetic_searcher.search(SearchRequest(text="ladies", k=5, weights={**weights, "attributes": 0.001}))
    lexical = [h for h in res.hits if "lexical" in h.signals]
    assert res.searched == "Women" and len(lexical) == 5
    assert all(h.product.attributes["gender"] == "Women" for h in lexical)
    typed = synthetic_searcher.search(SearchRequest(text="ladies", k=5, weights={**weights, "attributes": 0}))
    assert typed.searched is None and not typed.hits  # BM25 over the typed word finds nothing
