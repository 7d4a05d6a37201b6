"""The milvus backend on Milvus Lite: filter expressions (escaping above all), filtered search equal to the
mask's exact result, writes, save/reopen. One Lite database per module; each test its own collections."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from indexer import milvus_collections, milvus_setup, milvus_store
from indexer.catalog import Product
from indexer.milvus_filters import (
    filter_expression,
    mask_expressions,
    number_literal,
    string_literal,
)
from indexer.milvus_store import (
    MilvusStoreError,
    create_milvus_store,
    milvus_index,
    open_milvus_store,
    resolve_uri,
)
from indexer.vector_store import FieldSpec, RowFilter
from search.filters import FilterIndex, Filters

HOSTILE = ['" or 1==1 or "', "it's", 'a\\b', 'back\\"slash', "new\nline", "cr\rtab\t", "ünïcødé 😀 Ω",
           "", " ] or row in [", "%_like*", "\\", '"', "x\u2028y", "nul\x00byte"]
_ids = itertools.count()


@pytest.fixture(scope="module")
def lite_uri(tmp_path_factory):
    return str(tmp_path_factory.mktemp("milvus") / "milvus.db")


def _products(n: int, rng: np.random.Generator) -> list[Product]:
    brands = ["Nike", "ADIDAS", "puma", *HOSTILE[:6]]
    out = []
    for i in range(n):
        attributes = {"colour": ["Red", "Blue", "Green", "Black"][rng.integers(4)],
                      "gender": ["Men", "Women"][rng.integers(2)]}
        if i % 5 == 0:
            attributes['we"ird\\key'] = HOSTILE[i % len(HOSTILE)].strip() or "x"
        out.append(Product(id=f"p{i}", title=f"product {i}", brand=brands[rng.integers(len(brands))],
                           category=["Apparel", ["Topwear", "Bottomwear", "Shoes"][rng.integers(3)]],
                           attributes=attributes, price=None if i % 9 == 0 else float(rng.integers(5, 300))))
    return out


def _exact(queries, vectors, k, mask):
    scores = queries @ vectors.T
    scores[:, ~mask] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [[int(r) for r in row if mask[r]] for row in top]


def _store(uri, vectors, products=None, image_rows=None, factory="Flat"):
    specs = {name: FieldSpec(factory) for name in vectors}
    return create_milvus_store(vectors, specs, None, products=products, image_rows=image_rows, uri=uri,
                               build_id=f"t{next(_ids)}")


# -- expressions, pure ---------------------------------------------------------------------------
def test_expression_translates_each_filter():
    expr = filter_expression({"brand": ["Nike", "ADIDAS"], "category": ["Shoes"], "price_min": 10, "price_max": 99.5,
                              "attributes": {"Colour": ["Red"]}}, exclude_rows=(3, 7))
    assert expr == ('(brand in ["nike", "adidas"]) and (array_contains(category, "shoes")) and '
                    '(array_contains_any(attribute_pairs, ["[\\"colour\\", \\"red\\"]"])) and '
                    '(price >= 10.0) and (price <= 99.5) and (row not in [3, 7])')
    assert filter_expression(None) == "" and filter_expression({"brand": [], "attributes": {}}) == ""
    with pytest.raises(ValueError, match="unknown filter"):
        filter_expression({"brnad": ["x"]})
    assert filter_expression({"exclude": {"brand": ["Nike"], "category": ["Shoes", "Bags"], "attributes": {
        "Colour": ["Red"]}}}) == ('(not (brand in ["nike"])) and (not (array_contains_any(category, ["shoes", "bags"]))) '
                                 'and (not (array_contains_any(attribute_pairs, ["[\\"colour\\", \\"red\\"]"])))')
    assert filter_expression({"exclude": {"brand": [], "attributes": {"colour": []}}}) == ""
    with pytest.raises(ValueError, match="unknown exclude"):
        filter_expression({"exclude": {"price_max": 3}})


@pytest.mark.parametrize("value", HOSTILE)
def test_string_literal_stays_one_literal(value):
    literal = string_literal(value)
    assert literal[0] == literal[-1] == '"' and "\n" not in literal and "\r" not in literal
    body = literal[1:-1]
    # every quote inside is escaped: strip escape pairs and no quote or lone backslash is left
    stripped = body.replace("\\\\", "").replace('\\"', "").replace("\\n", "").replace("\\r", "").replace("\\t", "")
    assert '"' not in stripped and "\\" not in stripped


def test_numbers_have_no_exponent():
    assert number_literal(1e-05) == "0.00001" and number_literal(12) == "12.0"
    with pytest.raises(ValueError):
        number_literal(float("nan"))


def test_mask_expressions_choose_the_shorter_list():
    mask = np.ones(10, bool)
    assert mask_expressions(mask, 4) == [""]
    assert mask_expressions(~mask, 4) == []
    mask[[2, 5]] = False
    assert mask_expressions(mask, 4) == ["row not in [2, 5]"]
    few = np.zeros(10, bool)
    few[[1, 4, 6, 8, 9]] = True
    assert mask_expressions(few, 4) == ["row in [1, 4, 6, 8]", "row in [9]"]


def test_uri_and_index_choices(tmp_path):
    assert resolve_uri(None, tmp_path) == ("lite", str(tmp_path / "milvus.db"))
    assert resolve_uri("http://milvus:19530", tmp_path) == ("server", "http://milvus:19530")
    for bad in ("./idx/milvus", "ftp://x/y.db"):
        with pytest.raises(MilvusStoreError, match="milvus-uri"):
            resolve_uri(bad, tmp_path)
    assert milvus_index(FieldSpec("HNSW32", {"efSearch": 96}))["search_params"] == {"ef": 96}
    assert milvus_index(FieldSpec("IVF64,SQ8", {"nprobe": 8}))["index_type"] == "IVF_SQ8"
    assert milvus_index(FieldSpec())["index_type"] == "FLAT"
    with pytest.raises(MilvusStoreError, match="no index for factory"):
        milvus_index(FieldSpec("PQ16"))


def test_missing_pymilvus_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(MilvusStoreError, match="pip install"):
        milvus_setup.connect("server", "http://localhost:19530")
    with pytest.raises(MilvusStoreError, match="pip install"):  # a build checks before embedding anything
        milvus_store.check_milvus_specs({"text": FieldSpec()}, {"text": 384})


def test_spec_check_rejects_what_milvus_cannot_build():
    milvus_store.check_milvus_specs({"text": FieldSpec("HNSW32", {"efSearch": 64})}, {"text": 384})
    with pytest.raises(MilvusStoreError, match="do not apply"):
        milvus_store.check_milvus_specs({"text": FieldSpec("Flat", {"nprobe": 4})}, {"text": 384})
    with pytest.raises(MilvusStoreError, match="dimensions"):
        milvus_store.check_milvus_specs({"text": FieldSpec()}, {"text": 1})


# -- against Milvus Lite ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog(lite_uri):
    rng = np.random.default_rng(7)
    products = _products(240, rng)
    text = rng.standard_normal((240, 16)).astype(np.float32)
    image_rows = np.concatenate([np.arange(240), rng.integers(0, 240, 60)])
    image = rng.standard_normal((300, 8)).astype(np.float32)
    store = _store(lite_uri, {"text": text, "image": image}, products, image_rows)
    yield products, text, image, image_rows, store
    store.close()


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_match_only_themselves(lite_uri, value):
    products = [Product(id="target", title="t", brand=value or "b", category=[value or "c"],
                        attributes={value or "k": value or "v"}),
                Product(id="other", title="t", brand="plain", category=["plain"], attributes={"k": "plain"})]
    vectors = np.eye(2, 4, dtype=np.float32)
    store = _store(lite_uri, {"text": vectors}, products)
    try:
        target = products[0]
        for filters in ({"brand": [target.brand]}, {"category": [target.category[0]]},
                        {"attributes": {k: [v] for k, v in target.attributes.items()}}):
            D, I = store.search("text", vectors, 2, RowFilter(filters=filters))
            assert [[r for r in row if r >= 0] for row in I.tolist()] == [[0], [0]], filters
    finally:
        store.close()


FILTERS = [
    {"brand": ["nike", "Puma"]},
    {"brand": [HOSTILE[0]]},
    {"category": ["shoes"]},
    {"category": ["apparel", "topwear"]},
    {"attributes": {"COLOUR": ["red", "black"], "gender": ["women"]}},
    {"attributes": {'we"ird\\key': ["it's"]}},
    {"price_min": 50, "price_max": 120.5},
    {"price_max": 20, "brand": ["adidas"]},
    {"brand": ["no such brand"]},
    {"exclude": {"brand": ["NIKE", HOSTILE[0]]}},
    {"exclude": {"category": ["shoes", "topwear"], "attributes": {"colour": ["red"]}}, "price_max": 120.5},
    {"category": ["apparel"], "exclude": {"attributes": {"COLOUR": ["black"], "gender": ["women"]}}},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_native_filters_equal_the_mask(catalog, filters):
    products, text, image, image_rows, store = catalog
    mask = FilterIndex(products).mask(Filters(**filters))
    queries = text[:3] + 0.1
    want = _exact(queries, text, 10, mask)
    D, I = store.search("text", queries, 10, RowFilter(filters=filters))  # the expression alone
    assert [[r for r in row if r >= 0] for row in I.tolist()] == want
    D, I = store.search("text", queries, 10, RowFilter(mask=mask, filters=filters))
    assert [[r for r in row if r >= 0] for row in I.tolist()] == want
    # photos: the filter columns are the photo's product's
    photo_mask = mask[image_rows]
    D, I = store.search("image", image[:2], 10, RowFilter(filters=filters))
    assert [[r for r in row if r >= 0] for row in I.tolist()] == _exact(image[:2], image, 10, photo_mask)


@pytest.mark.parametrize("exact_rows,max_ids", [(256, 8192), (4, 8192), (4, 16)])
def test_mask_alone_and_excluded_rows(catalog, monkeypatch, exact_rows, max_ids):
    """Every plan for a mask (exact scoring, `row not in`, `row in` chunks, a deeper search) gives the exact answer."""
    products, text, _, _, store = catalog
    monkeypatch.setattr(milvus_collections, "EXACT_MAX_ROWS", exact_rows)
    monkeypatch.setattr(milvus_collections, "MAX_IDS", max_ids)
    monkeypatch.setattr(milvus_collections, "MAX_ID_CHUNKS", 2)
    rng = np.random.default_rng(1)
    for share in (0.02, 0.2, 0.5, 0.97):
        mask = rng.random(len(text)) < share
        want = _exact(text[:2], text, 8, mask)
        D, I = store.search("text", text[:2], 8, RowFilter(mask=mask))
        assert [[r for r in row if r >= 0] for row in I.tolist()] == want, share
    D, I = store.search("text", text[:1], 5, RowFilter(exclude_rows=(0,)))
    assert 0 not in I[0] and len(I[0]) == 5
    D, I = store.search("text", text[:1], 5, RowFilter(mask=np.zeros(len(text), bool)))
    assert I.shape == (1, 0)
    with pytest.raises(ValueError, match="mask"):
        store.search("text", text[:1], 5, RowFilter(mask=np.ones(3, bool)))


def test_scores_are_inner_products(catalog):
    _, text, _, _, store = catalog
    D, I = store.search("text", text[:2], 5)
    assert I[:, 0].tolist() == [0, 1]
    np.testing.assert_allclose(D, np.take_along_axis(text[:2] @ text.T, I, axis=1), rtol=1e-5)
    np.testing.assert_array_equal(store.vectors("text", np.array([5, 2])), text[[5, 2]])


def test_writes_save_and_reopen_moved(tmp_path):
    rng = np.random.default_rng(3)
    products = _products(50, rng)
    text = rng.standard_normal((50, 8)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    version = tmp_path / "idx" / "versions" / ".building-20261130T1-abcdef"
    version.mkdir(parents=True)
    store = create_milvus_store({"text": text}, {"text": FieldSpec("HNSW16", {"efSearch": 32})}, version,
                                products=products)
    assert store.count("text") == 50 and store.fields() == ("text",) and store.dim("text") == 8
    new = rng.standard_normal((2, 8)).astype(np.float32)
    rows = store.add("text", new, products=products[:2])
    assert rows.tolist() == [50, 51] and store.count("text") == 52
    store.upsert("text", np.array([3]), new[:1], products=[products[3]])
    store.delete("text", np.array([4]))
    assert store.count("text") == 52 and store.live_count("text") == 51  # count: rows numbered, as faiss
    D, I = store.search("text", new[:1], 3, RowFilter(filters={"brand": [products[3].brand]}))
    assert I[0, 0] == 3
    record = store.save(version)
    assert record["uri"] == {"kind": "lite", "path": "milvus.db"} and record["next_rows"] == {"text": 52}
    final = version.with_name("20261130T1-abcdef")
    version.rename(final)
    moved = tmp_path / "moved"
    (tmp_path / "idx").rename(moved)
    reopened = open_milvus_store(moved / "versions" / final.name, record)
    try:
        assert reopened.count("text") == 52 and reopened.live_count("text") == 51
        D, I = reopened.search("text", new[1:], 1)
        assert I[0, 0] == 51
        assert 4 not in reopened.search("text", text[4:5], 5)[1][0]
        assert reopened.stats()["text"]["index_type"] == "HNSW" and reopened.stats()["text"]["deleted"] == 1
    finally:
        reopened.close()


def test_explicit_lite_file_is_recorded_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    version = tmp_path / "idx" / "versions" / "v1"
    version.mkdir(parents=True)
    vectors = np.eye(3, 4, dtype=np.float32)
    store = create_milvus_store({"text": vectors}, {}, version, uri="./idx/milvus.db")
    record = store.save(version)
    assert record["uri"] == {"kind": "lite", "path": "../../milvus.db"}
    reopened = open_milvus_store(tmp_path / "idx" / "versions" / "v1", record)
    assert reopened.search("text", vectors[2:], 1)[1][0, 0] == 2
    reopened.close()


def test_open_without_database_is_a_clear_error(tmp_path):
    record = {"uri": {"kind": "lite", "path": "milvus.db"}, "collections": {"text": "x"}, "dims": {"text": 4},
              "indexes": {"text": {}}, "next_rows": {"text": 0}, "filter_columns": {"text": False}}
    with pytest.raises(MilvusStoreError, match="missing; rebuild"):
        open_milvus_store(tmp_path, record)


def test_open_with_a_missing_collection_is_a_clear_error(tmp_path):
    store = create_milvus_store({"text": np.eye(2, 4, dtype=np.float32)}, {}, tmp_path)
    record = store.save(tmp_path)
    record["collections"] = {"text": "prodsearch_no_such_collection"}
    with pytest.raises(MilvusStoreError, match="missing from Milvus"):
        open_milvus_store(tmp_path, record)
    assert str(tmp_path / "milvus.db") not in milvus_setup._lite_users  # nothing left open


def test_writes_without_products_turn_native_filters_off(lite_uri):
    rng = np.random.default_rng(5)
    products = _products(30, rng)
    text = rng.standard_normal((30, 8)).astype(np.float32)
    store = _store(lite_uri, {"text": text}, products)
    try:
        store.upsert("text", np.array([3]), text[3:4])          # vectors only: row 3's columns may be stale now
        assert store.stats()["text"]["native_filters"] is False
        mask = FilterIndex(products).mask(Filters(brand=[products[3].brand]))
        D, I = store.search("text", text[3:4], 5, RowFilter(mask=mask, filters={"brand": [products[3].brand]}))
        assert [r for r in I[0].tolist() if r >= 0] == _exact(text[3:4], text, 5, mask)[0]
    finally:
        store.close()


def test_an_approximate_index_short_of_the_mask_is_completed_exactly(lite_uri, monkeypatch):
    rng = np.random.default_rng(9)
    text = rng.standard_normal((400, 8)).astype(np.float32)
    store = _store(lite_uri, {"text": text}, factory="HNSW16")
    original = milvus_store.MilvusVectorStore._search_expressions

    def short(self, *args):  # an HNSW walk that found only 2 allowed rows
        D, I = original(self, *args)
        D[:, 2:], I[:, 2:] = -np.inf, -1
        return D, I

    monkeypatch.setattr(milvus_collections, "EXACT_MAX_ROWS", 0)
    monkeypatch.setattr(milvus_store.MilvusVectorStore, "_search_expressions", short)
    try:
        mask = rng.random(400) < 0.3
        D, I = store.search("text", text[:2], 10, RowFilter(mask=mask))
        assert [[r for r in row if r >= 0] for row in I.tolist()] == _exact(text[:2], text, 10, mask)
    finally:
        store.close()


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(MilvusStoreError, match="cannot open Milvus at http://127.0.0.1:1: .*reachable"):
        create_milvus_store({"text": np.eye(2, 4, dtype=np.float32)}, {}, tmp_path, uri="http://127.0.0.1:1")
