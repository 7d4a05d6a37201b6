"""Catalog files -> raw rows, one bad row at a time: a row that cannot be decoded or is too large is rejected
with its line number and the reason, and reading goes on (`indexer.catalog` validates the rest).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from indexer.errors import CatalogError
from indexer.json_input import parse_json

# The longest field value a row may hold, in characters, in JSONL and CSV alike: a longer one rejects its row.
MAX_FIELD_CHARS = 1 << 20
# A byte that is not UTF-8, as `errors="surrogateescape"` keeps it: the row is rejected, the file still read.
_BAD_BYTE = re.compile("[\udc80-\udcff]")

Row = tuple[int, str, dict | None, str | None]  # line, raw text, parsed row, why it is rejected (None: ok)


def open_text(path: Path, newline: str | None = None) -> TextIO:
    """The catalog as text; undecodable bytes stay in it (see `_BAD_BYTE`) so only their row is rejected.

    A byte-order mark at the start (Excel's "CSV UTF-8") is dropped: it is not part of the first column's name.
    """
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline=newline)


def bad_byte(text: str) -> tuple[int, int] | None:
    """(byte, 1-based character column) of the first byte of ``text`` that was not UTF-8, or None."""
    found = _BAD_BYTE.search(text)
    return None if found is None else (ord(found.group()) - 0xDC00, found.start() + 1)


def longest_string(value: Any) -> int:
    """The length of the longest string in ``value`` (a JSON value, however nested), keys included."""
    most, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            most = max(most, len(item))
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return most


def size_problem(fields: dict[str, Any]) -> str | None:
    """Why a row is rejected for its size (a field over MAX_FIELD_CHARS), or None."""
    for name, value in fields.items():
        most = longest_string(value)
        if most > MAX_FIELD_CHARS:
            return f"field {name!r} has {most:,} characters; at most {MAX_FIELD_CHARS:,} are allowed"
    return None


def short(raw: str) -> str:
    """A rejected row as kept in rejects.jsonl: an over-long one is cut."""
    return raw if len(raw) <= MAX_FIELD_CHARS else raw[:1000] + f"... ({len(raw):,} characters)"


def iter_jsonl(path: Path) -> Iterator[Row]:
    """One JSON object per line; blank lines are skipped."""
    with open_text(path) as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            raw = short(line.rstrip("\n"))
            bad = bad_byte(line)
            if bad is not None:
                yield line_no, raw, None, f"not UTF-8 text (byte 0x{bad[0]:02x} at column {bad[1]})"
                continue
            try:
                row = parse_json(line)
            except ValueError as exc:  # bad JSON, nesting too deep, an integer of over 4300 digits
                yield line_no, raw, None, str(exc)
                continue
            if not isinstance(row, dict):
                yield line_no, raw, None, "a row must be a JSON object"
                continue
            problem = size_problem(row)
            yield line_no, raw, None if problem else row, problem


@contextmanager
def csv_fields_up_to(chars: int) -> Iterator[None]:
    """Let the csv module read fields of up to ``chars`` (its default stops the whole file at 131,072)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, chars))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def iter_csv(path: Path, fields: Collection[str]) -> Iterator[Row]:
    """CSV rows with a header; ``fields``: the product's fields (other columns: attributes.<name>, else rejected)."""
    # No field can be longer than the file: csv then always reads whole rows, and MAX_FIELD_CHARS rejects one.
    with open_text(path, newline="") as fh, csv_fields_up_to(path.stat().st_size + 1):
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            return
        bad = next((bad_byte(name) for name in reader.fieldnames if bad_byte(name)), None)
        if bad is not None:
            raise CatalogError(f"{path}: the header (line 1) is not UTF-8 text (byte 0x{bad[0]:02x})")
        unknown = [name for name in reader.fieldnames if name not in fields]
        attr_columns = [name for name in unknown if name.startswith("attributes.")]
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CatalogError(f"{path}: malformed CSV at line {reader.line_num + 1} ({exc})") from exc
            line_no = reader.line_num
            raw = short(str(row))
            if None in row:
                yield line_no, raw, None, "more values than header columns"
                continue
            bad_field = next((name for name, v in row.items() if isinstance(v, str) and bad_byte(v)), None)
            if bad_field is not None:
                byte, _ = bad_byte(row[bad_field])
                yield line_no, raw, None, f"not UTF-8 text (byte 0x{byte:02x} in column {bad_field!r})"
                continue
            problem = size_problem(row)
            if problem:
                yield line_no, raw, None, problem
                continue
            clean: dict[str, Any] = {k: v for k, v in row.items() if k in fields and v != ""}
            attrs = {name.split(".", 1)[1]: row[name] for name in attr_columns if row[name]}
            if attrs:
                base = clean.get("attributes")
                try:
                    merged = parse_json(base) if isinstance(base, str) and base.strip() else {}
                except ValueError as exc:
                    yield line_no, raw, None, f"attributes: {str(exc)[:200]}"
                    continue
                if not isinstance(merged, dict):
                    yield line_no, raw, None, "attributes must be an object of name -> value"
                    continue
                merged.update(attrs)
                clean["attributes"] = merged
            extra = [n for n in unknown if n not in attr_columns and row.get(n)]
            if extra:
                yield line_no, raw, None, f"unknown column(s) {extra}; use attributes.<name> for attributes"
                continue
            yield line_no, raw, clean, None
