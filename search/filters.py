"""Filters on brand, category, price range and any attribute, as boolean masks over product rows.

Values match case-insensitively; several values for one field mean "any of
them" (category levels: all of them); several fields mean "all of them".
``exclude`` lists values a product must not hold: one of them leaves it out
("every brand but Nike", which a list of the other brands cannot say at scale).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from indexer.catalog import Product

# Bounds on one request's filters: masks cost a pass over the products per value, so a
# filter of a million brands must be refused before any work (422), not computed.
MAX_VALUES_PER_FILTER = 100
MAX_ATTRIBUTES = 50
MAX_FILTER_VALUES = 1000
MAX_VALUE_LENGTH = 500


def _as_list(value: Any) -> Any:
    if value is None:
        return None
    value = [value] if isinstance(value, (str, int, float)) else value
    if isinstance(value, (list, tuple)) and len(value) > MAX_VALUES_PER_FILTER:
        raise ValueError(f"at most {MAX_VALUES_PER_FILTER} values per filter, got {len(value)}")
    return value


def _attribute_values(name: str, value: Any) -> list[str]:
    values = _as_list(value)
    if not isinstance(values, (list, tuple)) or any(isinstance(v, (dict, list, tuple)) or v is None for v in values):
        raise ValueError(f"attribute {name!r}: expected a value or a list of values")
    return [str(v) for v in values]


class ValueFilters(BaseModel):
    """Brand, category levels and attribute values (the fields both `Filters` and `Exclusions` name)."""

    model_config = ConfigDict(extra="forbid")

    brand: list[str] | None = None
    category: list[str] | None = None
    attributes: dict[str, list[str]] | None = None

    @field_validator("brand", "category", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("attributes", mode="before")
    @classmethod
    def _attribute_lists(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("attributes must be an object of name -> value or list of values")
        if len(value) > MAX_ATTRIBUTES:
            raise ValueError(f"at most {MAX_ATTRIBUTES} attributes, got {len(value)}")
        return {str(k): _attribute_values(str(k), v) for k, v in value.items()}

    def values(self) -> list[str]:
        """Every value and attribute name it lists (what the size bounds count)."""
        return [*(self.brand or ()), *(self.category or ()), *(self.attributes or {}),
                *(v for vs in (self.attributes or {}).values() for v in vs)]


class Exclusions(ValueFilters):
    """Values a product must not hold: one brand, category level or attribute value listed here leaves it out (a
    product without the attribute stays)."""

    def is_empty(self) -> bool:
        return not (self.brand or self.category or any((self.attributes or {}).values()))


class Filters(ValueFilters):
    """Restricts results; applied inside retrieval so k hits come back whenever k products match."""

    price_min: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    price_max: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    exclude: Exclusions | None = Field(default=None, description="values a product must not hold "
                                       "(brand, category levels, attributes: any of them leaves it out)")

    @model_validator(mode="after")
    def _check_sizes(self) -> Filters:
        values = [*self.values(), *(self.exclude.values() if self.exclude else ())]
        if len(values) > MAX_FILTER_VALUES:
            raise ValueError(f"at most {MAX_FILTER_VALUES} filter values in all, got {len(values)}")
        longest = max(map(len, values), default=0)
        if longest > MAX_VALUE_LENGTH:
            raise ValueError(f"filter values are at most {MAX_VALUE_LENGTH} characters, got one of {longest}")
        return self

    @model_validator(mode="after")
    def _check_price_range(self) -> Filters:
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise ValueError(f"price_min ({self.price_min}) is greater than price_max ({self.price_max})")
        return self

    def is_empty(self) -> bool:
        return not (self.brand or self.category or self.attributes
                    or self.price_min is not None or self.price_max is not None
                    or (self.exclude is not None and not self.exclude.is_empty()))


class FilterIndex:
    """Inverted lists (value -> rows) over the product store, for fast masks."""

    def __init__(self, products: list[Product]):
        self.n = len(products)
        self.brand: dict[str, list[int]] = defaultdict(list)
        self.category: dict[str, list[int]] = defaultdict(list)
        self.attributes: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.price = np.array([np.nan if p.price is None else p.price for p in products], dtype=np.float64)
        for row, p in enumerate(products):
            if p.brand:
                self.brand[p.brand.lower()].append(row)
            for level in {c.lower() for c in p.category}:
                self.category[level].append(row)
            for name, value in p.attributes.items():
                self.attributes[(name.lower(), value.lower())].append(row)
        # As arrays, once: indexing a mask with a Python list converts it on every request (~0.5 ms per
        # 10k rows; a common value at 1M products holds hundreds of thousands).
        for lists in (self.brand, self.category, self.attributes):
            for key, rows in lists.items():
                lists[key] = np.asarray(rows, dtype=np.int64)  # type: ignore[assignment]

    def _any_of(self, lists: dict, keys: list) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        for key in keys:
            rows = lists.get(key)
            if rows is not None:
                mask[rows] = True
        return mask

    def _held(self, values: ValueFilters) -> np.ndarray:
        """Rows holding any of ``values`` (a brand, a category level or an attribute value)."""
        held = self._any_of(self.brand, [b.lower() for b in values.brand or ()])
        held |= self._any_of(self.category, [c.lower() for c in values.category or ()])
        held |= self._any_of(self.attributes, [(name.lower(), v.lower())
                                               for name, vs in (values.attributes or {}).items() for v in vs])
        return held

    @cached_property
    def price_range(self) -> tuple[float, float] | None:
        """(lowest, highest) price of the products; None when none has a price (once per index: its rows never change)."""
        if not np.isfinite(self.price).any():
            return None
        return float(np.nanmin(self.price)), float(np.nanmax(self.price))

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Rows that pass every filter, or None when there is no filter."""
        if filters is None or filters.is_empty():
            return None
        mask = np.ones(self.n, dtype=bool)
        if filters.brand:
            mask &= self._any_of(self.brand, [b.lower() for b in filters.brand])
        for level in filters.category or []:
            mask &= self._any_of(self.category, [level.lower()])
        for name, values in (filters.attributes or {}).items():
            mask &= self._any_of(self.attributes, [(name.lower(), v.lower()) for v in values])
        if filters.exclude is not None:
            mask &= ~self._held(filters.exclude)
        with np.errstate(invalid="ignore"):
            if filters.price_min is not None:
                mask &= self.price >= filters.price_min
            if filters.price_max is not None:
                mask &= self.price <= filters.price_max
        return mask
