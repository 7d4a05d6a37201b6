"""One bad row never stops the catalog: undecodable bytes and over-long fields reject their row, by line number."""

from __future__ import annotations

import csv
import json

import pytest

from indexer.catalog import CatalogValidationError, load_catalog
from indexer.catalog_rows import MAX_FIELD_CHARS

GOOD = [{"id": f"p{i}", "title": f"Red shirt {i}", "brand": "Acme"} for i in range(4)]


def jsonl_bytes(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def test_a_jsonl_row_with_a_latin1_byte_is_one_reject(tmp_path):
    lines = jsonl_bytes(GOOD).splitlines(keepends=True)
    lines[2] = lines[2].replace(b"Red", b"R\xe9d")
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(lines))
    catalog = load_catalog(path, skip_invalid=True)
    assert [p.id for p in catalog.products] == ["p0", "p1", "p3"]
    assert [(r.line, r.reason) for r in catalog.rejects] == [(3, "not UTF-8 text (byte 0xe9 at column 25)")]
    with pytest.raises(CatalogValidationError, match=r"line 3: not UTF-8 text \(byte 0xe9"):
        load_catalog(path)


def test_a_csv_field_with_a_latin1_byte_is_one_reject(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,title,brand\n1,Shirt,Acme\n2,Caf\xe9 mug,Acme\n3,Tee,Acme\n")
    catalog = load_catalog(path, skip_invalid=True)
    assert [p.id for p in catalog.products] == ["1", "3"]
    assert [(r.line, r.reason) for r in catalog.rejects] == [(3, "not UTF-8 text (byte 0xe9 in column 'title')")]


def test_field_size_rule_is_the_same_in_csv_and_jsonl(tmp_path):
    limit_before = csv.field_size_limit()
    fits, over = "x" * MAX_FIELD_CHARS, "y" * (MAX_FIELD_CHARS + 1)
    multi_line = "y\n9,Phantom row\n" + over  # a quoted field over the limit, with what looks like a row inside
    # CSV: beyond the csv module's default 131,072-character field limit
    (tmp_path / "c.csv").write_text(
        f'id,title,description\n1,Shirt,"{"z" * 200_000}"\n2,Big,"{multi_line}"\n3,Tee,{fits}\n')
    catalog = load_catalog(tmp_path / "c.csv", skip_invalid=True)
    assert [p.id for p in catalog.products] == ["1", "3"]  # nothing inside the rejected field was read as a row
    assert [(r.line, r.reason) for r in catalog.rejects] == [
        (5, f"field 'description' has {len(multi_line):,} characters; at most {MAX_FIELD_CHARS:,} are allowed")]
    assert len(catalog.rejects[0].raw) < 2000  # rejects.jsonl keeps the start of an over-long row
    assert csv.field_size_limit() == limit_before
    # JSONL: the same rule, wherever the string sits (an attribute's value here)
    rows = [GOOD[0], {**GOOD[1], "title": over}, {**GOOD[2], "attributes": {"notes": over}}, {**GOOD[3], "title": fits}]
    (tmp_path / "c.jsonl").write_bytes(jsonl_bytes(rows))
    catalog = load_catalog(tmp_path / "c.jsonl", skip_invalid=True)
    assert [p.id for p in catalog.products] == ["p0", "p3"]
    assert [(r.line, r.reason.split(" has ")[0]) for r in catalog.rejects] == [(2, "field 'title'"),
                                                                               (3, "field 'attributes'")]
    with pytest.raises(CatalogValidationError, match=r"line 2: field 'title' has 1,048,577 characters"):
        load_catalog(tmp_path / "c.jsonl")


def test_rows_json_cannot_hold_are_rejects(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([json.dumps(GOOD[0]), '{"id": ' + "9" * 5000 + ', "title": "t"}',
                               "[" * 100_000 + "]" * 100_000, json.dumps(GOOD[1])]) + "\n")
    catalog = load_catalog(path, skip_invalid=True)
    assert [p.id for p in catalog.products] == ["p0", "p1"]
    assert [r.line for r in catalog.rejects] == [2, 3]
    assert all(r.reason.startswith("not valid JSON") for r in catalog.rejects)


def test_csv_attributes_column_that_is_not_json_is_a_reject(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('id,title,attributes,attributes.colour\n1,Shirt,{oops,Red\n2,Tee,"[1]",Blue\n3,Mug,,Green\n')
    catalog = load_catalog(path, skip_invalid=True)
    assert [p.id for p in catalog.products] == ["3"] and catalog.products[0].attributes == {"colour": "Green"}
    assert [r.line for r in catalog.rejects] == [2, 3]
    assert "attributes: not valid JSON" in catalog.rejects[0].reason


def test_skip_invalid_build_lists_the_row_in_rejects_jsonl(tmp_path, fake_encoders):
    from indexer.build import build_index

    lines = jsonl_bytes(GOOD).splitlines(keepends=True)
    lines[1] = lines[1].replace(b"Red", b"R\xe9d")
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(lines))
    summary = build_index(load_catalog(path, skip_invalid=True), tmp_path / "idx", fake_encoders, progress=False)
    assert summary.products == 3 and summary.rejects == 1
    rejects = [json.loads(line) for line in (tmp_path / "idx" / "current" / "rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in rejects] == [(2, "not UTF-8 text (byte 0xe9 at column 25)")]


@pytest.mark.parametrize("name,text", [
    ("c.csv", "id,title\n1,Shirt\n2,Tee\n"),
    ("c.jsonl", '{"id": "1", "title": "Shirt"}\n{"id": "2", "title": "Tee"}\n'),
])
def test_a_byte_order_mark_at_the_start_is_dropped(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # what Excel's "CSV UTF-8" writes first
    catalog = load_catalog(path)
    assert [(p.id, p.title) for p in catalog.products] == [("1", "Shirt"), ("2", "Tee")]


def test_a_byte_order_mark_inside_a_row_is_kept(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id": "1", "title": "Shirt"}\n\xef\xbb\xbf{"id": "2", "title": "Tee"}\n')
    with pytest.raises(CatalogValidationError, match="line 2: not valid JSON"):
        load_catalog(path)
