"""Our search filters as Milvus boolean expressions over a collection's scalar columns (pure functions).

Semantics are those of `search.filters.FilterIndex`: values match case-insensitively (the columns hold
lower-cased copies, and values are lower-cased here), several values of one field mean "any of them",
several fields mean "all of them", a price range excludes products without a price, and a product holding any
value of ``exclude`` is left out.

Every product or user value enters an expression only through `string_literal` (a double-quoted
literal with backslash, quote and line breaks escaped) or as a number formatted here, so no value can
change an expression's meaning: ``" or 1==1 or "`` is a brand like any other. The escapes used
(``\\\\ \\" \\n \\r \\t``) are the ones both Milvus's grammar and Milvus Lite's parser accept; every other
character, unicode included, stands for itself inside a literal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from indexer.catalog import Product

# The scalar columns every collection carries (declared once; milvus_store builds its schema from them).
ROW = "row"                      # primary key: the row of the field (product row, or photo row for `image`)
PRODUCT = "product"              # the product row the row belongs to
BRAND = "brand"                  # lower-cased brand ("" when none)
CATEGORY = "category"            # lower-cased distinct category levels
PRICE = "price"                  # nullable
ATTRIBUTE_PAIRS = "attribute_pairs"  # lower-cased `attribute_pair(name, value)` of every attribute
ATTRIBUTES = "attributes"        # the attributes as given (JSON), for other readers of the collection
VECTOR = "vector"
SCALAR_COLUMNS = (PRODUCT, BRAND, CATEGORY, PRICE, ATTRIBUTE_PAIRS, ATTRIBUTES)

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string_literal(value: str) -> str:
    """``value`` as a double-quoted Milvus string literal that means exactly ``value``."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def number_literal(value: float) -> str:
    """A finite number in positional notation (no exponent, which not every parser reads)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return np.format_float_positional(value, trim="0")


def _string_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(string_literal(v) for v in values) + "]"


def _int_list(rows: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(r)) for r in rows) + "]"


def attribute_pair(name: str, value: str) -> str:
    """One attribute as one lower-cased string, unambiguous whatever the name and value hold (a JSON pair)."""
    return json.dumps([name.lower(), value.lower()], ensure_ascii=False)


def scalar_columns(product: Product | None) -> dict[str, Any]:
    """The filter columns of a row of ``product`` (empty ones for a row without a product)."""
    if product is None:
        return {BRAND: "", CATEGORY: [], PRICE: None, ATTRIBUTE_PAIRS: [], ATTRIBUTES: {}}
    return {
        BRAND: product.brand.lower(),
        CATEGORY: sorted({level.lower() for level in product.category}),
        PRICE: None if product.price is None else float(product.price),
        ATTRIBUTE_PAIRS: sorted({attribute_pair(n, v) for n, v in product.attributes.items()}),
        ATTRIBUTES: dict(product.attributes),
    }


def _values(filters: Mapping[str, Any], name: str) -> list[str]:
    values = filters.get(name) or []
    return [str(v).lower() for v in ([values] if isinstance(values, str) else values)]


def _check_fields(given: Mapping[str, Any], known: set[str], what: str) -> None:
    unknown = set(given) - known
    if unknown:
        raise ValueError(f"unknown {what} field(s): {', '.join(sorted(unknown))}")


def _brand_in(values: Mapping[str, Any]) -> list[str]:
    """``brand in [...]`` for the brands ``values`` lists (none when it lists none)."""
    brands = _values(values, "brand")
    return [f"{BRAND} in {_string_list(brands)}"] if brands else []


def filter_expression(filters: Mapping[str, Any] | None, exclude_rows: Sequence[int] = ()) -> str:
    """The expression selecting rows that pass ``filters`` (a `Filters` as a dict) and are not excluded.

    "" when nothing restricts (Milvus reads an empty filter as "every row").
    """
    filters = filters or {}
    _check_fields(filters, {"brand", "category", "price_min", "price_max", "attributes", "exclude"}, "filter")
    parts = _brand_in(filters)
    for level in _values(filters, "category"):
        parts.append(f"array_contains({CATEGORY}, {string_literal(level)})")
    for name, values in (filters.get("attributes") or {}).items():
        values = [values] if isinstance(values, str) else list(values)
        if values:
            pairs = sorted({attribute_pair(str(name), str(v)) for v in values})
            parts.append(f"array_contains_any({ATTRIBUTE_PAIRS}, {_string_list(pairs)})")
    if filters.get("price_min") is not None:
        parts.append(f"{PRICE} >= {number_literal(filters['price_min'])}")
    if filters.get("price_max") is not None:
        parts.append(f"{PRICE} <= {number_literal(filters['price_max'])}")
    parts.extend(f"not ({p})" for p in _held_expressions(filters.get("exclude") or {}))
    if len(exclude_rows):
        parts.append(f"{ROW} not in {_int_list(exclude_rows)}")
    return " and ".join(f"({p})" for p in parts)


def _held_expressions(values: Mapping[str, Any]) -> list[str]:
    """One expression per field of ``values`` (an `Exclusions` as a dict), true for a row holding any of its values."""
    _check_fields(values, {"brand", "category", "attributes"}, "exclude")
    parts = _brand_in(values)
    levels = _values(values, "category")
    if levels:
        parts.append(f"array_contains_any({CATEGORY}, {_string_list(levels)})")
    pairs = sorted({attribute_pair(str(name), str(v)) for name, vs in (values.get("attributes") or {}).items()
                    for v in ([vs] if isinstance(vs, str) else vs)})
    if pairs:
        parts.append(f"array_contains_any({ATTRIBUTE_PAIRS}, {_string_list(pairs)})")
    return parts


def rows_expression(rows: Sequence[int] | np.ndarray, *, negate: bool = False) -> str:
    """``row in [...]`` (or ``not in``) for an explicit set of rows."""
    return f"{ROW} {'not in' if negate else 'in'} {_int_list(rows)}"


def mask_expressions(mask: np.ndarray, max_ids: int) -> list[str]:
    """Expressions whose union selects exactly the rows where ``mask`` is True, none over ``max_ids`` ids.

    ``[""]`` when every row is allowed, ``[]`` when none is; ``row not in [...]`` when few rows are
    excluded, else the allowed rows in chunks of ``max_ids`` (search each, keep the best).
    """
    allowed = np.flatnonzero(mask)
    if len(allowed) == 0:
        return []
    excluded = np.flatnonzero(~mask)
    if len(excluded) == 0:
        return [""]
    if len(excluded) <= max_ids and len(excluded) < len(allowed):
        return [rows_expression(excluded, negate=True)]
    return [rows_expression(allowed[i:i + max_ids]) for i in range(0, len(allowed), max_ids)]
