"""The catalog's vocabulary: every attribute value, brand and category level, by normal form, with the
rows that hold it. Built from the loaded index's products (O(products), ~1 s at 44k), on first use.

A *field* is an attribute name as the catalog spells it, ``brand`` or ``category`` (every level).
Values are grouped by `search.normalise.phrase_key`, so "T-Shirts" and "Tshirts" are one value of a
field (shown as its most common spelling), and plurals match singulars.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from indexer.catalog import Product
from search.normalise import MAX_PHRASE_WORDS, key_of_words, words

BRAND = "brand"
CATEGORY = "category"
# An attribute with more distinct values than this share of the products (and over MIN_ID_LIKE) is
# an identifier (sku, model number), not a vocabulary.
ID_LIKE_SHARE = 0.5
MIN_ID_LIKE = 200


@dataclass
class FieldValues:
    """One field: the value codes each product row holds, as parallel (row, code) arrays."""

    name: str
    rows: np.ndarray
    codes: np.ndarray
    values: list[str]  # display form per code
    keys: dict[str, int]  # phrase key -> code
    counts: np.ndarray  # products per code

    def mask(self, codes: Sequence[int], n: int) -> np.ndarray:
        """Rows holding any of ``codes``."""
        out = np.zeros(n, dtype=bool)
        out[self.rows[np.isin(self.codes, np.asarray(codes, dtype=np.int64))]] = True
        return out


@dataclass
class Vocabulary:
    """Every field's values, and the index from a phrase key to the (field, code) pairs that have it."""

    n: int
    fields: dict[str, FieldValues]
    by_key: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    value_words: Counter[str] = field(default_factory=Counter)  # words of values (spelling targets)
    title_words: set[str] = field(default_factory=set)  # words the catalog uses anywhere in titles

    @classmethod
    def from_products(cls, products: Sequence[Product]) -> Vocabulary:
        columns: dict[str, list[tuple[int, str]]] = {}
        title_words: set[str] = set()
        for row, p in enumerate(products):
            title_words.update(words(p.title))
            if p.brand:
                columns.setdefault(BRAND, []).append((row, p.brand))
            for level in p.category:
                columns.setdefault(CATEGORY, []).append((row, level))
            for name, value in p.attributes.items():
                if value:
                    columns.setdefault(name, []).append((row, str(value)))
        vocab = cls(n=len(products), fields={}, title_words=title_words)
        for name, pairs in columns.items():
            built = _field(name, pairs)
            if built is None:
                continue
            vocab.fields[name] = built
            for key, code in built.keys.items():
                vocab.by_key.setdefault(key, []).append((name, code))
                for w in words(built.values[code]):
                    vocab.value_words[w] += int(built.counts[code])
        return vocab

    def lookup(self, key: str) -> list[tuple[str, int]]:
        return self.by_key.get(key, [])

    def value(self, field_name: str, code: int) -> str:
        return self.fields[field_name].values[code]

    def mask(self, field_name: str, codes: Iterable[int]) -> np.ndarray:
        return self.fields[field_name].mask(list(codes), self.n)


def _field(name: str, pairs: list[tuple[int, str]]) -> FieldValues | None:
    spellings: dict[str, Counter[str]] = {}
    keyed: list[tuple[int, str]] = []
    key_of: dict[str, str | None] = {}  # values repeat: normalise each distinct one once
    for row, value in pairs:
        if value not in key_of:
            ws = words(value)
            # numbers, codes and sentences are not values a query names
            usable = ws and len(ws) <= MAX_PHRASE_WORDS and any(w.isalpha() for w in ws)
            key_of[value] = key_of_words(ws) if usable else None
        key = key_of[value]
        if key is None or len(key) < 2:
            continue
        counter = spellings.get(key)
        if counter is None:
            counter = spellings[key] = Counter()
        counter[value] += 1
        keyed.append((row, key))
    if not spellings:
        return None
    n_rows = len({row for row, _ in pairs})
    if len(spellings) > MIN_ID_LIKE and len(spellings) > ID_LIKE_SHARE * n_rows:
        return None
    keys = {key: code for code, key in enumerate(spellings)}
    values = [c.most_common(1)[0][0] for c in spellings.values()]
    seen = set()
    rows, codes = [], []
    for row, key in keyed:
        code = keys[key]
        if (row, code) not in seen:  # a product naming one category twice holds it once
            seen.add((row, code))
            rows.append(row)
            codes.append(code)
    rows_a, codes_a = np.asarray(rows, dtype=np.int64), np.asarray(codes, dtype=np.int64)
    return FieldValues(name, rows_a, codes_a, values, keys, np.bincount(codes_a, minlength=len(values)))
