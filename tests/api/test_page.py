"""The search page (`GET /`, `/static/*`) and `GET /facets` on the synthetic index.

The synthetic catalog (tests/conftest.py) is 72 products: 6 colours x 3 kinds
(t-shirt/Topwear, shoes/Footwear, bag/Bags) x 2 brands (Acme = Men, Birch = Women)
x 2 each, all under the category "Apparel".
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from search.facets import price_facet


@pytest.fixture
def client(synthetic_searcher, synthetic_index):
    app = create_app(Settings(index_dir=synthetic_index), synthetic_searcher)
    with TestClient(app) as c:
        yield c


LEXICAL_ONLY = "lexical:1,semantic:0,visual:0"


def counts(body: dict, facet: str) -> dict[str, int]:
    return {v["value"]: v["count"] for v in body["facets"][facet]}


# -- the page ------------------------------------------------------------------------------------

def test_page_is_html_with_only_local_assets(client):
    res = client.get("/")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in res.headers["content-security-policy"]
    html = res.text
    assert '<script src="/static/app.js"' in html and 'href="/static/style.css"' in html
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/") and not r.startswith("//") or r.startswith("#") for r in refs), refs
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
        assert "ETag" in asset.headers
        assert client.get(f"/static/{name}", headers={"If-None-Match": asset.headers["ETag"]}).status_code == 304
    for text in (html, client.get("/static/app.js").text, client.get("/static/style.css").text):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), "no external URLs in the page"
        assert "@import" not in text and "url(" not in text


def test_page_has_labelled_controls(client):
    html = client.get("/").text
    for control in ("q", "photo-input", "price-min", "price-max", "why-toggle"):
        assert f'id="{control}"' in html
    assert '<label for="q"' in html and '<label class="file-button" for="photo-input"' in html
    assert 'name="viewport"' in html


def test_only_known_static_files(client):
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/secret.txt").status_code == 404
    assert client.get("/static/index.html").status_code == 404


# -- facets ----------------------------------------------------------------------------------

def test_facets_over_whole_catalog(client, synthetic_searcher):
    res = client.get("/facets")
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == 72 and body["query"] is None
    assert counts(body, "brand") == {"Acme": 36, "Birch": 36}
    assert counts(body, "gender") == {"Men": 36, "Women": 36}
    assert counts(body, "colour") == {c: 12 for c in ("Red", "Green", "Blue", "Yellow", "Black", "Pink")}
    assert counts(body, "category") == {"Apparel": 72, "Topwear": 24, "Footwear": 24, "Bags": 24}
    levels = {v["value"]: (v["level"], v["parent"]) for v in body["facets"]["category"]}
    assert levels["Apparel"] == (0, None) and levels["Footwear"] == (1, "Apparel")
    prices = [p.price for p in synthetic_searcher.index.store.products]
    assert body["price"]["min"] == min(prices) and body["price"]["max"] == max(prices)
    assert sum(b["count"] for b in body["price"]["buckets"]) == 72


def test_facets_honour_filters(client):
    body = client.get("/facets", params={"brand": "acme", "attr": "colour:Red"}).json()
    assert body["total"] == 6
    # a multi-select field is counted without its own filter: the other values stay, with what they would add
    assert counts(body, "brand") == {"Acme": 6, "Birch": 6}
    assert counts(body, "colour") == {c: 6 for c in ("Red", "Green", "Blue", "Yellow", "Black", "Pink")}
    assert counts(body, "gender") == {"Men": 6}
    assert counts(body, "category") == {"Apparel": 6, "Topwear": 2, "Footwear": 2, "Bags": 2}
    assert [v["value"] for v in body["facets"]["brand"] if v["selected"]] == ["Acme"]
    assert [v["value"] for v in body["facets"]["colour"] if v["selected"]] == ["Red"]

    # categories drill down: a level is counted with the chosen categories above it only,
    # so a chosen category's siblings show what choosing them instead would give
    footwear = client.get("/facets", params={"category": ["Apparel", "Footwear"], "price_max": 1000}).json()
    assert footwear["total"] == 24
    assert counts(footwear, "category") == {"Apparel": 72, "Topwear": 24, "Footwear": 24, "Bags": 24}
    assert {v["value"] for v in footwear["facets"]["category"] if v["selected"]} == {"Apparel", "Footwear"}
    assert counts(footwear, "brand") == {"Acme": 12, "Birch": 12}
    red_bags = client.get("/facets", params={"category": "Bags", "attr": "colour:Red"}).json()
    assert red_bags["total"] == 4 and counts(red_bags, "category") == {"Apparel": 12, "Topwear": 4, "Footwear": 4, "Bags": 4}


def test_facets_honour_query(client):
    body = client.get("/facets", params={"q": "red", "weights": LEXICAL_ONLY}).json()
    assert body["total"] == 12 and body["query"] == "red"  # the red products: "red" names a colour
    # the colour facet is counted without the span naming a colour: what ticking Blue instead gives
    assert counts(body, "colour") == {c: 12 for c in ("Red", "Green", "Blue", "Yellow", "Black", "Pink")}
    assert counts(body, "brand") == {"Acme": 6, "Birch": 6}
    shoes = client.get("/facets", params={"q": "shoes", "weights": LEXICAL_ONLY, "attr": "colour:Blue"}).json()
    assert shoes["total"] == 2 * 2
    assert counts(shoes, "colour") == {c: 4 for c in ("Red", "Green", "Blue", "Yellow", "Black", "Pink")}
    # an unselected value's count is what ticking it gives a search
    search = client.get("/search", params={"q": "shoes", "weights": LEXICAL_ONLY, "attr": ["colour:Blue", "gender:Women"]})
    assert search.json()["total"] == counts(shoes, "gender")["Women"]


@pytest.mark.parametrize("params", [
    {"brand": "Acme"}, {"attr": "gender:Women", "price_min": 20}, {"category": "Bags", "q": "bag"},
    {"q": "green t-shirt"},
])
def test_facet_total_matches_search_total(client, params):
    q = params.get("q", "the")
    facets = client.get("/facets", params={**params, "q": q}).json()
    search = client.get("/search", params={**params, "q": q, "k": 5}).json()
    assert facets["total"] == search["total"]


def test_facets_for_more_like_this(client):
    body = client.get("/facets", params={"product_id": "s000"}).json()
    assert body["product_id"] == "s000"
    # the relevant set (fused candidates above the cutoff), not every product but itself
    similar = client.get("/products/s000/similar", params={"k": 5}).json()
    assert 0 < body["total"] < 71 and body["total"] == similar.get("total", body["total"])
    assert client.get("/facets", params={"product_id": "nope"}).status_code == 404


@pytest.mark.parametrize("params, needle", [
    ({"price_min": 50, "price_max": 10}, "price_min"),
    ({"price_min": -1}, "price_min"),
    ({"attr": "colour"}, "attr"),
    ({"weights": "bogus:1"}, "weights"),
    ({"q": "red", "weights": "lexical:0,semantic:0,visual:0,attributes:0"}, "weight 0"),
    ({"q": "x" * 1001}, "q"),
    ({"fusion": "magic"}, "fusion"),
])
def test_facets_bad_params_are_422(client, params, needle):
    res = client.get("/facets", params=params)
    assert res.status_code == 422, res.text
    assert needle in str(res.json()["detail"])


def test_blank_query_is_the_whole_catalog(client):
    assert client.get("/facets", params={"q": "   "}).json()["total"] == 72


def test_price_buckets_are_round_and_cover_every_price():
    import numpy as np

    facet = price_facet(np.array([10.99, 13.99, 48.99, 95.99, 560.99, np.nan]))
    assert facet.count == 5 and facet.min == 10.99 and facet.max == 560.99
    assert facet.buckets[0].min <= 10.99 and facet.buckets[-1].max > 560.99
    assert sum(b.count for b in facet.buckets) == 5
    assert all(b.min == int(b.min) for b in facet.buckets)
    assert price_facet(np.array([np.nan])).buckets == []
    assert sum(b.count for b in price_facet(np.array([5.0, 5.0])).buckets) == 2
