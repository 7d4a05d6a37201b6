"""Every endpoint, and every client mistake mapped to its status (never a 500)."""

import base64
import io

import pytest
from PIL import Image


def png_bytes(colour=(220, 30, 30), size=(32, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def hit_ids(response):
    return [h["product"]["id"] for h in response.json()["hits"]]


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["products"] == 72 and body["images"] == 72
    assert body["text_model"] == "fake-text" and body["clip_model"] == "fake-clip"


def test_get_search_with_filters_weights_and_paging(client):
    r = client.get("/search", params={"q": "red shoes", "k": 5, "brand": "Birch", "price_max": 40,
                                      "attr": ["colour:Red"], "weights": "lexical:1,semantic:1,visual:0.5"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hits"] and all(h["product"]["brand"] == "Birch" and h["product"]["price"] <= 40 and
                                h["product"]["attributes"]["colour"] == "Red" for h in body["hits"])
    assert set(body["timings_ms"]) >= {"lexical", "semantic", "visual", "fuse", "total"}
    assert set(body["hits"][0]["signals"]) <= {"lexical", "semantic", "visual", "attributes"}
    page1 = hit_ids(client.get("/search", params={"q": "shoes", "k": 4}))
    page2 = hit_ids(client.get("/search", params={"q": "shoes", "k": 4, "offset": 4}))
    both = hit_ids(client.get("/search", params={"q": "shoes", "k": 8}))
    assert page1 + page2 == both


def test_exclusion_filters_leave_their_values_out(client):
    """GET not_brand / not_category / not_attr and POST filters.exclude: no hit holds an excluded value, and the
    filter is what the search kept; ``total`` counts the same."""
    r = client.get("/search", params={"q": "shoes", "k": 50, "not_brand": "acme", "not_attr": ["colour:Red", "colour:blue"]})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert hits and all(h["product"]["brand"] == "Birch" for h in hits)
    assert not {h["product"]["attributes"]["colour"] for h in hits} & {"Red", "Blue"}
    posted = client.post("/search", json={"text": "shoes", "k": 50, "filters": {
        "exclude": {"brand": ["Acme"], "attributes": {"colour": ["Red", "Blue"]}}}})
    assert hit_ids(posted) == hit_ids(r) and posted.json()["total"] == r.json()["total"]
    bags = client.get("/search", params={"q": "red", "k": 50, "not_category": "bags"}).json()["hits"]
    assert bags and all("Bags" not in h["product"]["category"] for h in bags)


def test_post_search_text_image_and_product(client):
    r = client.post("/search", json={"text": "bag", "k": 3, "filters": {"category": ["Bags"]}, "fusion": "weighted"})
    assert r.status_code == 200 and r.json()["fusion"] == "weighted"
    assert all("Bags" in h["product"]["category"] for h in r.json()["hits"])
    image = base64.b64encode(png_bytes((30, 60, 220))).decode()
    r = client.post("/search", json={"image": image, "k": 4})
    assert r.status_code == 200 and r.json()["signals"] == ["image", "cross_modal"]
    assert all(h["product"]["attributes"]["colour"] == "Blue" for h in r.json()["hits"])
    r = client.post("/search", json={"product_id": "s001", "k": 3})
    assert r.status_code == 200 and "s001" not in hit_ids(r)


def test_image_upload_with_text(client):
    r = client.post("/search/image", files={"file": ("p.png", png_bytes((30, 170, 40)), "image/png")},
                    data={"text": "shoes", "k": "5", "filters": '{"brand": "Acme"}'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body["signals"]) == {"lexical", "semantic", "visual", "image", "cross_modal"}
    assert all(h["product"]["brand"] == "Acme" for h in body["hits"])


def test_products_image_and_similar(client):
    assert client.get("/products/s003").json()["title"] == "Birch red t-shirt 1"
    r = client.get("/products/s003/image")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert "max-age" in r.headers["cache-control"] and r.headers["etag"]
    Image.open(io.BytesIO(r.content)).verify()
    again = client.get("/products/s003/image", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content
    r = client.get("/products/s003/similar", params={"k": 5, "brand": "Birch"})
    assert r.status_code == 200 and "s003" not in hit_ids(r)
    assert all(h["product"]["brand"] == "Birch" for h in r.json()["hits"])


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/search", "/search/image", "/products/{product_id}", "/products/{product_id}/similar", "/health"} <= set(paths)


@pytest.mark.parametrize("params,needle", [
    ({"q": "x", "k": 0}, "k:"),
    ({"q": "x", "k": 101}, "less than or equal to 100"),
    ({"q": ""}, "q:"),
    ({}, "q:"),
    ({"q": "x", "offset": -1}, "offset"),
    ({"q": "x", "fusion": "borda"}, "fusion"),
    ({"q": "x", "weights": "colour:1"}, "unknown signal"),
    ({"q": "x", "weights": "lexical=1"}, "name:number"),
    ({"q": "x", "attr": "colour"}, "name:value"),
    ({"q": "x", "not_attr": "colour"}, "not_attr: expected name:value"),
    ({"q": "x", "not_brand": "b" * 501}, "at most 500 characters"),
    ({"q": "x", "price_min": 50, "price_max": 10}, "price_min"),
    ({"q": "x", "k": 50, "offset": 60}, "beyond"),
    ({"q": "x", "weights": "lexical:0,semantic:0,visual:0"}, "weight 0"),
])
def test_bad_search_parameters_are_422_with_a_readable_message(client, params, needle):
    r = client.get("/search", params=params)
    assert r.status_code == 422, r.text
    assert needle in r.json()["detail"] and "Value error" not in r.json()["detail"]


@pytest.mark.parametrize("body,needle", [
    ({}, "text query, an image, or a product_id"),
    ({"text": "x", "unknown": 1}, "unknown"),
    ({"text": "x", "filters": {"colour": "red"}}, "colour"),
    ({"text": "x", "k": "many"}, "k"),
])
def test_bad_post_bodies_are_422(client, body, needle):
    r = client.post("/search", json=body)
    assert r.status_code == 422 and needle in r.text


def test_unknown_product_is_404(client):
    assert client.get("/products/nope").status_code == 404
    assert client.get("/products/nope/image").status_code == 404
    assert client.get("/products/nope/similar").status_code == 404
    r = client.post("/search", json={"product_id": "nope"})
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_upload_errors(client):
    too_big = png_bytes(size=(400, 400)) + b"\0" * 60_000  # limit is 0.05 MB in this fixture
    r = client.post("/search/image", files={"file": ("big.png", too_big, "image/png")})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    r = client.post("/search/image", files={"file": ("notes.txt", b"hello", "text/plain")})
    assert r.status_code == 415 and "text/plain" in r.json()["detail"]
    r = client.post("/search/image", files={"file": ("x.png", png_bytes()[:40], "image/png")})
    assert r.status_code == 400 and "undecodable" in r.json()["detail"]
    r = client.post("/search/image", files={"file": ("x.png", b"", "image/png")})
    assert r.status_code == 400
    r = client.post("/search/image", files={"file": ("x.png", png_bytes(), "image/png")}, data={"filters": "{bad"})
    assert r.status_code == 422
    r = client.post("/search/image", data={"text": "x"})
    assert r.status_code == 422


def test_base64_image_errors(client):
    assert client.post("/search", json={"image": "***not base64***"}).status_code == 400
    assert client.post("/search", json={"image": base64.b64encode(b"not an image").decode()}).status_code == 400
    big = base64.b64encode(b"\0" * 80_000).decode()
    assert client.post("/search", json={"image": big}).status_code == 413
