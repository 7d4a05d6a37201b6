"""'More like this' (a `product_id` query): the `attributes` signal answers it with the seed's product type, so that
products of its type come first, ordered by the seed's text vector; the seed stays out, filters still apply, and a
product without a category is still answered by the vectors.

The synthetic catalog (tests/support.py): 72 products, 6 colours x 3 kinds x 2 brands x 2; category
["Apparel", Topwear | Footwear | Bags]; s000 is "Acme red t-shirt 0", s001 "Acme red t-shirt 1", s002-s003 Birch's
red t-shirts; s004-s007 red shoes and s008-s011 red bags (the same photo colour as s000).
"""

from __future__ import annotations

import pytest
from support import searcher_over

from indexer.catalog import Product
from search.filters import Filters
from search.types import SearchRequest
from search.understanding import QueryUnderstanding

ONLY_ATTRIBUTES = {"semantic": 0, "image": 0, "attributes": 1}


def ids(response) -> list[str]:
    return [h.product.id for h in response.hits]


def test_the_seed_type_comes_first_and_its_colour_first_among_it(synthetic_searcher):
    response = synthetic_searcher.search(SearchRequest(product_id="s000", k=12))
    assert response.signals == ["semantic", "image", "attributes"]
    # the old fusion of the two vectors alone ranked red shoes and a red bag (same photo colour) in its top 3
    old = synthetic_searcher.search(SearchRequest(product_id="s000", k=3, weights={"attributes": 0}))
    assert {h.product.category[-1] for h in old.hits} != {"Topwear"}
    assert all(h.product.category[-1] == "Topwear" for h in response.hits)  # 23 other t-shirts: all before any shoe
    assert ids(response)[:2] == ["s001", "s002"]  # the red t-shirts (same type and colour) first
    assert "s000" not in ids(response)


def test_the_attributes_signal_alone_answers_a_product_query(synthetic_searcher):
    response = synthetic_searcher.search(SearchRequest(product_id="s000", k=50, weights=ONLY_ATTRIBUTES))
    assert response.signals == ["attributes"]
    assert len(response.hits) == 23 and "s000" not in ids(response)  # every other t-shirt, the seed left out
    assert all(h.product.category[-1] == "Topwear" for h in response.hits)
    assert response.hits[0].product.id == "s001"  # nearest the seed's text vector: it differs by one word


def test_filters_still_apply_to_a_product_query(synthetic_searcher):
    birch = synthetic_searcher.search(SearchRequest(product_id="s000", k=10, filters=Filters(brand=["Birch"])))
    assert birch.hits and all(h.product.brand == "Birch" for h in birch.hits)
    assert all(h.product.category[-1] == "Topwear" for h in birch.hits)
    assert ids(birch)[:2] == ["s002", "s003"]  # Birch's red t-shirts first
    # a filter leaving none of the seed's type: the other types are still answered
    shoes = synthetic_searcher.search(SearchRequest(product_id="s000", k=5, filters=Filters(category=["Footwear"])))
    assert len(shoes.hits) == 5 and all(h.product.category[-1] == "Footwear" for h in shoes.hits)
    assert all("attributes" not in h.signals for h in shoes.hits)  # its run is empty


def test_total_of_a_product_query_counts_the_products_of_its_type(synthetic_searcher):
    response = synthetic_searcher.search(SearchRequest(product_id="s000", k=5))
    assert response.total == 23 and response.pageable >= response.total  # 24 t-shirts but the seed
    birch = synthetic_searcher.search(SearchRequest(product_id="s000", k=5, filters=Filters(brand=["Birch"])))
    assert birch.total == 12


def test_product_query_is_the_seed_type_only():
    products = [Product(id="a", title="Red tee", category=["Apparel", "Topwear", "Tshirts"],
                        attributes={"colour": "Red"}),
                Product(id="b", title="Blue tee", category=["Apparel", "Topwear", "Tshirts"],
                        attributes={"colour": "Blue"}),
                Product(id="c", title="Plain thing")]
    u = QueryUnderstanding.build(products)
    parsed = u.product_query(products[0])
    assert parsed is not None and len(parsed.groups) == 1
    match = parsed.groups[0].matches[0]
    assert (match.field, match.value, match.confidence) == ("category", "Tshirts", 1.0)
    assert u.product_query(products[2]) is None  # no category
    assert u.product_query(Product(id="d", title="x", category=["Gadgets"])) is None  # a type the catalog lacks


@pytest.fixture
def uncategorised_searcher(tmp_path):
    rows = [{"id": "t1", "title": "red cotton tee", "category": ["Apparel", "Topwear"]},
            {"id": "t2", "title": "blue cotton tee", "category": ["Apparel", "Topwear"]},
            {"id": "n1", "title": "red cotton thing"},
            {"id": "n2", "title": "plain object"}]
    searcher = searcher_over(rows, tmp_path)
    yield searcher
    searcher.index.close()


def test_more_like_a_product_without_category_or_photo_still_works(uncategorised_searcher):
    response = uncategorised_searcher.search(SearchRequest(product_id="n1", k=4))
    assert response.signals == ["semantic"]  # no photo, no type: the text vector alone
    assert "n1" not in ids(response) and len(response.hits) == 3
    typed = uncategorised_searcher.search(SearchRequest(product_id="t1", k=4))
    assert typed.signals == ["semantic", "attributes"] and ids(typed)[0] == "t2"
    assert "t1" not in ids(typed)
