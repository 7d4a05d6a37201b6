"""Catalog validation: JSONL and CSV, every bad row reported, duplicates, skip-invalid."""

import json

import pytest

from indexer.catalog import (
    MAX_ATTRIBUTES,
    MAX_CATEGORY_LEVELS,
    MAX_IMAGES,
    CatalogError,
    CatalogValidationError,
    load_catalog,
    product_text,
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_jsonl_normalises_fields(tmp_path):
    row = {"id": 7, "title": " Red Tee ", "category": "Apparel > Topwear", "attributes": {"colour": "Red", "size": 3},
           "price": "12.5", "images": "a.png|b.png"}
    catalog = load_catalog(write(tmp_path, "c.jsonl", json.dumps(row) + "\n"))
    p = catalog.products[0]
    assert (p.id, p.title, p.category, p.attributes, p.price, p.images) == (
        "7", "Red Tee", ["Apparel", "Topwear"], {"colour": "Red", "size": "3"}, 12.5, ["a.png", "b.png"])
    assert len(catalog.sha256) == 64
    assert "Red Tee" in product_text(p) and "Topwear" in product_text(p)


def test_every_bad_row_is_reported_with_its_line(tmp_path):
    lines = [
        json.dumps({"id": "a", "title": "ok"}),
        json.dumps({"id": "b"}),
        "{not json",
        json.dumps({"id": "a", "title": "again"}),
        json.dumps({"id": "c", "title": "t", "price": -1}),
    ]
    with pytest.raises(CatalogValidationError) as info:
        load_catalog(write(tmp_path, "c.jsonl", "\n".join(lines) + "\n"))
    errors = {e.line: e.reason for e in info.value.errors}
    assert set(errors) == {2, 3, 4, 5}
    assert "title" in errors[2] and "not valid JSON" in errors[3]
    assert "duplicate id 'a' (first on line 1)" in errors[4] and "price" in errors[5]
    assert "nothing was written" in str(info.value) and "--skip-invalid" in str(info.value)


def test_skip_invalid_keeps_good_rows_and_returns_rejects(tmp_path):
    path = write(tmp_path, "c.jsonl", json.dumps({"id": "a", "title": "ok"}) + "\n" + json.dumps({"id": "b"}) + "\n")
    catalog = load_catalog(path, skip_invalid=True)
    assert [p.id for p in catalog.products] == ["a"]
    assert [r.line for r in catalog.rejects] == [2]


def test_csv_with_attribute_columns(tmp_path):
    text = ("id,title,brand,category,price,images,attributes.colour,attributes.gender\n"
            "1,Blue Shirt,Acme,Apparel/Topwear,20,x.png,Blue,Men\n"
            "2,,Acme,Apparel,5,,Red,Women\n")
    with pytest.raises(CatalogValidationError) as info:
        load_catalog(write(tmp_path, "c.csv", text))
    assert [e.line for e in info.value.errors] == [3]
    catalog = load_catalog(tmp_path / "c.csv", skip_invalid=True)
    assert catalog.products[0].attributes == {"colour": "Blue", "gender": "Men"}
    assert catalog.products[0].category == ["Apparel", "Topwear"]


def test_csv_unknown_column_is_reported(tmp_path):
    with pytest.raises(CatalogValidationError, match="unknown column"):
        load_catalog(write(tmp_path, "c.csv", "id,title,colour\n1,Shirt,Red\n"))


@pytest.mark.parametrize("name,content,message", [
    ("missing.jsonl", None, "catalog not found"),
    ("c.xml", "<x/>", "unknown catalog format"),
    ("empty.jsonl", "\n", "no valid products"),
])
def test_unreadable_catalogs(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


@pytest.mark.parametrize("price,reason", [
    (True, "price must be a number, not a boolean"),  # float(True) would store 1.0
    (False, "price must be a number, not a boolean"),
    ([12], "price must be a number, not an array"),
    ({"amount": 12}, "price must be a number, not an object"),
    ("twelve", "price must be a number, got 'twelve'"),
    (10**400, "price must be a number, got '1000"),
], ids=["true", "false", "array", "object", "word", "huge-int"])
def test_price_must_really_be_a_number(tmp_path, price, reason):
    rows = [{"id": "a", "title": "ok", "price": 12}, {"id": "b", "title": "bad", "price": price}]
    path = write(tmp_path, "c.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    catalog = load_catalog(path, skip_invalid=True)
    assert [(p.id, p.price) for p in catalog.products] == [("a", 12.0)]
    assert [r.line for r in catalog.rejects] == [2] and reason in catalog.rejects[0].reason


@pytest.mark.parametrize("field,value,reason", [
    ("category", [f"level {i}" for i in range(MAX_CATEGORY_LEVELS + 1)], f"at most {MAX_CATEGORY_LEVELS} items"),
    ("attributes", {f"a{i}": "x" for i in range(MAX_ATTRIBUTES + 1)}, f"at most {MAX_ATTRIBUTES} items"),
    ("images", ["img/p.png"] * (MAX_IMAGES + 1), f"at most {MAX_IMAGES} items"),
], ids=["category", "attributes", "images"])
def test_a_product_over_a_per_product_bound_is_one_reject(tmp_path, field, value, reason):
    """One row must not cost every later search, facet count or photo fetch without bound (20,000 category
    levels once made /facets take 24 s)."""
    rows = [{"id": "a", "title": "ok", field: value[:2] if field != "attributes" else dict(list(value.items())[:2])},
            {"id": "b", "title": "too many", field: value}]
    path = write(tmp_path, "c.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    catalog = load_catalog(path, skip_invalid=True)
    assert [p.id for p in catalog.products] == ["a"]
    assert [r.line for r in catalog.rejects] == [2] and field in catalog.rejects[0].reason
    assert reason in catalog.rejects[0].reason


@pytest.mark.parametrize("name, text", [
    ("c.csv", 'id,title,attributes\n1,Shirt,"' + "[" * 100_000 + "]" * 100_000 + '"\n'),
    ("m.csv", 'id,title,attributes,attributes.colour\n1,Shirt,"' + "[" * 100_000 + "]" * 100_000 + '",Red\n'),
    ("c.jsonl", json.dumps({"id": "1", "title": "Shirt", "attributes": "[" * 100_000}) + "\n"),
])
def test_deeply_nested_attributes_json_is_a_row_error(tmp_path, name, text):
    """An attributes column (or field) holding JSON nested past Python's limit was a RecursionError traceback."""
    with pytest.raises(CatalogValidationError) as info:
        load_catalog(write(tmp_path, name, text))
    assert [e.line for e in info.value.errors] == [2 if name.endswith(".csv") else 1]
    assert "nested too deeply" in info.value.errors[0].reason
