"""Every hostile input of issue #9 that the API must survive: a 4xx with a clear message, never a 500.

Each probe asserts its status code and that /health still answers 200 afterwards. The
index is the synthetic catalog plus products whose ids are free text (non-Latin-1,
quotes, slashes, percent signs, spaces) and one whose photo is missing.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import time
from urllib.parse import quote

import httpx
import pytest
from bombs import bomb_gif, bomb_png, long_png
from fastapi.testclient import TestClient
from live import fake_encoders, serve
from PIL import Image
from support import write_synthetic_catalog

WEIRD_IDS = ["商品-1", 'quo"te', "a/b", "50% off", "with space"]
NO_PHOTO_ID = "no-photo"
J = {"Content-Type": "application/json"}


def png_bytes(colour=(220, 30, 30), size=(32, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    from indexer.build import build_index
    from indexer.catalog import load_catalog

    directory = tmp_path_factory.mktemp("hostile")
    catalog = write_synthetic_catalog(directory / "catalog")
    rows = [json.loads(line) for line in catalog.read_text().splitlines()]
    extra = [{**rows[i], "id": pid} for i, pid in enumerate(WEIRD_IDS)]
    extra.append({**rows[0], "id": NO_PHOTO_ID, "images": ["img/missing.png"]})
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows + extra))
    build_index(load_catalog(catalog), directory / "idx", fake_encoders(), progress=False)
    return directory / "idx"


@pytest.fixture(scope="module")
def app(hostile_index):
    from api.app import create_app
    from api.settings import Settings
    from search.searcher import Searcher

    searcher = Searcher.open(hostile_index, fake_encoders())
    yield create_app(Settings(index_dir=hostile_index, max_upload_mb=1), searcher)
    searcher.index.close()


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def check(client, response, status: int, detail: str | None = None) -> dict:
    """``response`` has ``status`` and an ErrorResponse body naming ``detail``; the server is still healthy."""
    assert response.status_code == status, response.text
    body = response.json()
    if status >= 400:
        assert isinstance(body["detail"], str) and body["detail"]
        if detail is not None:
            assert detail in body["detail"], body["detail"]
        for err in body.get("errors", []):
            assert set(err) == {"loc", "msg", "type"} and isinstance(err["msg"], str)
    assert client.get("/health").status_code == 200
    return body


# -- 422 bodies that once could not be serialised ----------------------------------------------------
@pytest.mark.parametrize("content,headers,detail", [
    (json.dumps({"text": "red", "weights": {"bogus": 1}}), J, "unknown signal(s) ['bogus']"),
    (json.dumps({"text": "red", "filters": {"price_min": 50, "price_max": 1}}), J, "price_min (50.0) is greater than"),
    ('{"text":"red"}', {"Content-Type": "text/plain"}, "expected a JSON object"),
    ('{"text":"red \\ud800"}', J, "text:"),
    ('{"text":"red","filters":{"brand":["\\ud800"],"bogus":1}}', J, "filters.bogus"),
    ('{"text": "red", "k": "\\udfff"}', J, "k:"),
], ids=["unknown-weight", "price-range", "text-plain", "lone-surrogate", "surrogate-in-filters", "surrogate-k"])
def test_validation_errors_are_readable_422s(client, content, headers, detail):
    body = check(client, client.post("/search", content=content.encode(), headers=headers), 422, detail)
    assert body["errors"] and all(isinstance(p, (str, int)) for e in body["errors"] for p in e["loc"])


# -- non-finite and absurd numbers ------------------------------------------------------------------------
@pytest.mark.parametrize("weights", ["lexical:inf", "lexical:-inf", "lexical:nan", "lexical:1e308", "lexical:1001"])
def test_absurd_weights_are_422_on_get_facets_and_form(client, weights):
    message = "weights must be finite numbers from 0 to 1000"
    check(client, client.get("/search", params={"q": "red", "weights": weights}), 422, message)
    check(client, client.get("/facets", params={"q": "red", "weights": weights}), 422, message)
    form = client.post("/search/image", files={"file": ("p.png", png_bytes(), "image/png")},
                       data={"text": "red", "weights": weights})
    check(client, form, 422, message)


@pytest.mark.parametrize("raw,detail", [
    ('{"text":"red","weights":{"lexical":Infinity}}', "weights must be finite"),
    ('{"text":"red","weights":{"lexical":NaN}}', "weights must be finite"),
    ('{"text":"red","weights":{"lexical":1e308}}', "weights must be finite"),
    ('{"text":"red","fusion":"rrf","rrf_k":Infinity}', "rrf_k: Input should be a finite number"),
    ('{"text":"red","fusion":"rrf","rrf_k":1e308}', "rrf_k: Input should be less than or equal to 1000000"),
    ('{"text":"red","filters":{"price_min":NaN}}', "filters.price_min: Input should be a finite number"),
])
def test_absurd_numbers_in_json_are_422(client, raw, detail):
    check(client, client.post("/search", content=raw.encode(), headers=J), 422, detail)


@pytest.mark.parametrize("params,detail", [
    ({"rrf_k": "inf", "fusion": "rrf"}, "rrf_k: Input should be a finite number"),
    ({"rrf_k": "1e308", "fusion": "rrf"}, "rrf_k: Input should be less than or equal to 1000000"),
    ({"price_max": "inf"}, "price_max: Input should be a finite number"),
    ({"price_min": "nan"}, "price_min: Input should be a finite number"),
])
def test_absurd_numbers_in_queries_are_422(client, params, detail):
    check(client, client.get("/search", params={"q": "red", **params}), 422, detail)


def test_finite_weights_still_give_finite_scores(client):
    body = check(client, client.get("/search", params={"q": "red", "weights": "lexical:1000,semantic:0"}), 200)
    assert all(isinstance(h["score"], float) for h in body["hits"])


# -- filters: nesting and size -------------------------------------------------------------------------
def upload(client, **form):
    return client.post("/search/image", files={"file": ("p.png", png_bytes(), "image/png")}, data=form)


@pytest.mark.parametrize("filters,detail", [
    ("[" * 100_000, "filters: at most 64 KB of JSON"),
    ("[" * 60_000, "filters: not valid JSON (nested too deeply)"),
    ('{"brand": ' + "[" * 500 + "]" * 500 + "}", "filters: brand.0: Input should be a valid string"),
    ("[1, 2]", "filters: expected a JSON object"),
    ("{not json", "filters: not valid JSON"),
    (json.dumps({"brand": [f"b{i}" for i in range(101)]}), "at most 100 values per filter, got 101"),
    (json.dumps({"attributes": {f"a{i}": "x" for i in range(51)}}), "at most 50 attributes, got 51"),
    (json.dumps({"attributes": {"colour": None}}), "attribute 'colour': expected a value or a list of values"),
    (json.dumps({"attributes": {"colour": [["Red"]]}}), "attribute 'colour': expected a value or a list of values"),
    (json.dumps({"attributes": {f"a{i}": [f"v{j}" for j in range(30)] for i in range(40)}}),
     "at most 1000 filter values in all"),
    (json.dumps({"brand": ["x" * 501]}), "at most 500 characters"),
    ('{"price_min": ' + "9" * 5000 + "}", "filters: not valid JSON (a number of more than 4300 digits)"),
], ids=["64k-brackets", "deep-brackets", "deep-list", "not-object", "bad-json", "101-brands", "51-attributes",
        "null-attribute", "nested-attribute", "1200-values", "long-value", "5000-digit-number"])
def test_hostile_form_filters_are_422(client, filters, detail):
    check(client, upload(client, filters=filters), 422, detail)


def test_a_million_brands_is_refused_before_any_work(client):
    body = {"text": "red", "filters": {"brand": [f"b{i}" for i in range(1_000_000)]}}
    # over the 1 MB upload limit's body cap: refused as a body, unread
    check(client, client.post("/search", json=body), 413, "request body is larger than")
    small = {"text": "red", "filters": {"brand": [f"b{i}" for i in range(5000)]}}
    check(client, client.post("/search", json=small), 422, "at most 100 values per filter, got 5000")
    params = [("q", "red")] + [("attr", f"colour:c{i}") for i in range(101)]
    check(client, client.get("/search", params=params), 422, "attr: at most 100 values")


def test_many_unknown_weights_give_a_short_message(client):
    response = client.post("/search", json={"text": "red", "weights": {f"w{i}": 1 for i in range(100_000)}})
    check(client, response, 422, "unknown signal(s) ['w0', 'w1', 'w10', 'w100', 'w1000'] and 99995 more")
    assert len(response.content) < 5000


@pytest.mark.parametrize("content", [b'{"filters":' + b"[" * 100_000, b'{"text":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001],
                         ids=["unclosed", "closed"])
def test_deeply_nested_json_body_is_400(client, content):
    check(client, client.post("/search", content=content, headers=J), 400, "error parsing the body")


# -- photos -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data,mime", [(bomb_png(), "image/png"), (bomb_gif(), "image/gif")], ids=["png-bomb", "gif-bomb"])
def test_decompression_bombs_are_400(client, data, mime):
    check(client, client.post("/search/image", files={"file": ("x", data, mime)}), 400, "too large")
    check(client, client.post("/search", json={"image": base64.b64encode(data).decode()}), 400, "too large")


@pytest.mark.parametrize("size", [(49_000_000, 1), (1, 49_000_000), (2100, 100)], ids=["49M-wide", "49M-tall", "21-to-1"])
def test_photos_of_extreme_aspect_are_422_before_decoding(client, size):
    """48 KB of PNG declaring 49,000,000 x 1 pixels (under the 50 Mpx cap) cost seconds of resampling per search."""
    data = long_png(*size)
    detail = "more than 20 times its shorter one"
    check(client, client.post("/search/image", files={"file": ("x.png", data, "image/png")}), 422, detail)
    check(client, client.post("/search", json={"image": base64.b64encode(data).decode()}), 422, detail)


def test_a_query_photo_leaves_the_decode_pool_bounded():
    """What runs after the pool (the model's resize, the pixel check) gets at most QUERY_MAX_SIDE pixels a side."""
    from api.decoding import QUERY_MAX_SIDE, DecodePool

    pool = DecodePool()
    try:
        for width, height in [(20_000, 1000), (1000, 20_000), (5000, 1000), (3000, 3000)]:
            image = asyncio.run(pool.decode(long_png(width, height)))
            assert max(image.size) <= QUERY_MAX_SIDE, ((width, height), image.size)
            assert abs(image.width / image.height - width / height) < 0.05 * width / height
        assert asyncio.run(pool.decode(long_png(300, 200))).size == (300, 200)
    finally:
        pool.close()


@pytest.mark.parametrize("data,status,detail", [
    (b"", 400, "empty"), (b"GIF89a\x00\x00", 400, "undecodable"), (b"<svg/>", 400, "undecodable"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 400, "undecodable"),
])
def test_broken_photos_are_400(client, data, status, detail):
    check(client, client.post("/search/image", files={"file": ("x", data, "image/png")}), status, detail)
    check(client, client.post("/search", json={"image": base64.b64encode(data).decode() or "AA=="}), status)


def test_non_images_and_bad_base64_and_oversize(client):
    check(client, client.post("/search/image", files={"file": ("x.txt", b"hello", "text/plain")}), 415, "image/*")
    check(client, client.post("/search", json={"image": "***"}), 400, "not valid base64")
    big = png_bytes(size=(4, 4)) + b"\x00" * (1024 * 1024)
    check(client, client.post("/search/image", files={"file": ("x.png", big, "image/png")}), 413, "larger than 1 MB")


# -- product ids that are free text -----------------------------------------------------------------------
@pytest.mark.parametrize("pid", WEIRD_IDS)
def test_free_text_ids_work_on_every_product_route(client, pid):
    quoted = quote(pid, safe="")
    body = check(client, client.get(f"/products/{quoted}"), 200)
    assert body["id"] == pid
    assert body["images"] == [f"/products/{quoted}/image"]
    photo = client.get(body["images"][0])  # the URL the API gives is the one that serves the photo
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    etag = photo.headers["etag"]
    assert etag.isascii() and etag.startswith('"') and etag.endswith('"') and '"' not in etag[1:-1]
    assert client.get(body["images"][0], headers={"If-None-Match": etag}).status_code == 304
    similar = check(client, client.get(f"/products/{quoted}/similar", params={"k": 3}), 200)
    assert similar["hits"] and pid not in [h["product"]["id"] for h in similar["hits"]]
    assert check(client, client.post("/search", json={"product_id": pid, "k": 2}), 200)["hits"]


def test_etags_differ_per_product(client):
    tags = {client.get(f"/products/{quote(pid, safe='')}/image").headers["etag"] for pid in WEIRD_IDS}
    assert len(tags) == len(WEIRD_IDS)


def test_an_id_with_a_slash_is_routed_as_a_path(client):
    """Encoded or not, /products/a/b names "a/b"; a trailing /image or /similar is the sub-resource."""
    for path in ("/products/a/b", "/products/a%2Fb"):
        assert check(client, client.get(path), 200)["id"] == "a/b"
    assert client.get("/products/a/b/image").headers["content-type"] == "image/jpeg"
    assert check(client, client.get("/products/a/b/similar", params={"k": 2}), 200)["hits"]
    check(client, client.get("/products/a/c"), 404, "no product with id 'a/c'")
    check(client, client.get("/products/a/c/image"), 404, "no product with id 'a/c'")


def test_unknown_and_photo_less_products_are_404(client):
    check(client, client.get("/products/%E5%95%86"), 404, "no product with id '商'")
    check(client, client.get(f"/products/{NO_PHOTO_ID}/image"), 404, "has no usable photo")


# -- the public product shows no catalog image reference ----------------------------------------------------
def test_hits_and_products_show_the_servers_photo_url_not_the_catalog_ref(client):
    bodies = [client.get("/search", params={"q": "red", "k": 70}).json(),
              client.post("/search", json={"text": "shoes", "k": 50}).json(),
              upload(client, k="20"), client.get("/products/s001/similar", params={"k": 20}).json()]
    bodies[2] = bodies[2].json()
    assert all("hits" in b for b in bodies), bodies
    products = [h["product"] for body in bodies for h in body["hits"]] + [client.get("/products/s001").json()]
    assert len(products) > 100
    for product in products:
        assert product["images"] == [f"/products/{quote(product['id'], safe='')}/image"] or (
            product["images"] == [] and product["id"] == NO_PHOTO_ID), product
        assert not any("img/" in ref or ref.endswith(".png") for ref in product["images"])
    assert client.get(f"/products/{NO_PHOTO_ID}").json()["images"] == []


def test_the_searcher_still_sees_the_catalog_ref(app):
    assert app.state.searcher.product("s001").images[0].endswith("img/s001.png")


# -- OpenAPI says what the API returns ---------------------------------------------------------------------
def test_openapi_declares_error_responses(client):
    schema = client.get("/openapi.json").json()
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    expected = {("/search", "get"): {422, 503}, ("/search", "post"): {400, 404, 413, 422, 503},
                ("/search/image", "post"): {400, 413, 415, 422, 503},
                ("/products/{product_id}", "get"): {404, 422, 503},
                ("/products/{product_id}/image", "get"): {404, 422, 503},
                ("/products/{product_id}/similar", "get"): {404, 422, 503}, ("/facets", "get"): {404, 422, 503}}
    for (path, method), statuses in expected.items():
        responses = schema["paths"][path][method]["responses"]
        for status in statuses:
            assert responses[str(status)]["content"]["application/json"]["schema"] == error_ref, (path, method, status)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    image = schema["paths"]["/products/{product_id}/image"]["get"]["responses"]
    assert "image/jpeg" in image["200"]["content"] and "304" in image


# -- bodies are limited while they stream in ------------------------------------------------------------
def test_declared_oversized_body_is_413_before_it_is_read(app):
    with serve(app) as url:
        host, port = url.removeprefix("http://").split(":")
        import socket

        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 150000000\r\n\r\n")  # and no body at all
            reply = b""
            while chunk := sock.recv(4096):  # the server closes the connection after its 413
                reply += chunk
            reply = reply.decode()
        assert reply.startswith("HTTP/1.1 413") and "request body is larger than" in reply
        assert httpx.get(f"{url}/health").status_code == 200


MULTIPART_HEAD = (b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'
                  b"Content-Type: image/png\r\n\r\n")


@pytest.mark.parametrize("path,content_type,head", [
    ("/search", b"application/json", b'{"image": "'),
    ("/search/image", b"multipart/form-data; boundary=BOUNDARY", MULTIPART_HEAD),
], ids=["json", "multipart"])
def test_streamed_body_is_cut_off_at_the_limit(app, path, content_type, head):
    """A chunked body without Content-Length: the app stops reading just past the limit."""
    from api.body_limit import BodyLimitMiddleware

    limit, chunk = 100_000, b"A" * 10_000
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": head if pulled == 1 else chunk, "more_body": pulled < 15_000}  # 150 MB

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"content-type", content_type)], "http_version": "1.1", "scheme": "http",
             "server": ("test", 80), "client": ("test", 1), "root_path": "", "app": app}
    asyncio.run(BodyLimitMiddleware(app, max_bytes=limit)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert pulled == limit // len(chunk) + 1  # the head and chunks until just past the limit, of 15,000 on offer
    assert b"request body is larger than" in sent[1]["body"]


# -- photo decoding is off the event loop, and bounded --------------------------------------------------------
@pytest.mark.slow
def test_slow_decodes_neither_stall_health_nor_pile_up(app, monkeypatch):
    import api.decoding

    def slow_decode(data, **options):
        time.sleep(1.5)
        return Image.new("RGB", (8, 8), "red")

    monkeypatch.setattr(api.decoding, "decode_image_bytes", slow_decode)
    statuses: list[int] = []
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        pool = app.state.decode_pool  # the one this run of the app started with
        def post():
            statuses.append(http.post("/search/image", files={"file": ("p.png", png_bytes(), "image/png")}).status_code)

        threads = [threading.Thread(target=post) for _ in range(pool.limit + 3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while pool.admitted < pool.limit and time.monotonic() < deadline:  # `workers` decoding, `queue` waiting
            time.sleep(0.02)
        assert pool.admitted == pool.limit
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            assert http.get("/health").status_code == 200
            timings.append(time.perf_counter() - started)
        health_s = sorted(timings)[2]
        for t in threads:
            t.join()
    assert health_s < 0.5, f"/health took {health_s:.2f} s (median of 5) while photos were decoding"
    assert statuses.count(503) == 3 and statuses.count(200) == pool.limit, statuses
    assert pool.admitted == 0
