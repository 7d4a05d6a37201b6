"""The catalog's vocabulary: every attribute value, brand and category level, by normal form, with the
rows that hold it. Built from the loaded index's products (O(products), ~1 s at 44k), on first use.

A *field* is an attribute name as the catalog spells it, ``brand`` or ``category`` (every level).
Values are grouped by `search.normalise.phrase_key`, so "T-Shirts" and "Tshirts" are one value of a
field (shown as its most common spelling), and plurals match singulars.
"""

from __future__ import annotations

import functools
import importlib.resources
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
DESCRIPTION_SAMPLE = 5000
# An English word seen this often in symspellpy's frequency list (82k words, shipped with the package) is a word
# the shopper meant ("gala", "bride", "father"), not a typo of a catalog word ("gals", "brie", "feather"), unless
# one slip from a catalog value's word ("bets": belts; `search.understanding`).
COMMON_ENGLISH_COUNT = 1_000_000


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
    title_counts: Counter[str] = field(default_factory=Counter)  # titles' words by how often they occur (spelling)
    # words of the descriptions of up to DESCRIPTION_SAMPLE products, by how often they occur: the catalog's own
    # language ("made", "with"), never a typo to correct (a sample: all 44k descriptions cost ~5 s)
    description_counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_products(cls, products: Sequence[Product]) -> Vocabulary:
        title_counts = Counter(words("\n".join(p.title for p in products)))  # one pass: 44k calls cost seconds
        columns: dict[str, tuple[list[int], list[str]]] = {}

        def column(name: str) -> tuple[list[int], list[str]]:
            if name not in columns:
                columns[name] = ([], [])
            return columns[name]

        brand_rows, brand_values = column(BRAND)
        cat_rows, cat_values = column(CATEGORY)
        for row, p in enumerate(products):
            if p.brand:
                brand_rows.append(row)
                brand_values.append(p.brand)
            cat_rows.extend([row] * len(p.category))
            cat_values.extend(p.category)
            for name, value in p.attributes.items():
                if value:
                    rows, values = column(name)
                    rows.append(row)
                    values.append(value)
        step = max(1, len(products) // DESCRIPTION_SAMPLE)
        described = Counter(words("\n".join(p.description or "" for p in products[::step])))
        vocab = cls(n=len(products), fields={}, title_words=set(title_counts), title_counts=title_counts,
                    description_counts=described)
        for name, (rows, values) in columns.items():
            built = _field(name, rows, values)
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

    def code_of(self, field_name: str, value: str | None) -> int | None:
        """The code of ``value`` in field ``field_name`` (normalised as the vocabulary normalises values), or None."""
        field = self.fields.get(field_name)
        if field is None or not value:
            return None
        ws = words(value)
        if not ws or len(ws) > MAX_PHRASE_WORDS:
            return None
        return field.keys.get(key_of_words(ws))

    def value(self, field_name: str, code: int) -> str:
        return self.fields[field_name].values[code]

    def mask(self, field_name: str, codes: Iterable[int]) -> np.ndarray:
        return self.fields[field_name].mask(list(codes), self.n)


def _field(name: str, rows: list[int], values: list[str]) -> FieldValues | None:
    """One field from parallel (row, value) lists; values are normalised once per distinct spelling."""
    if not values:
        return None
    distinct, inverse = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    spelling_counts = np.bincount(inverse, minlength=len(distinct))
    keys: dict[str, int] = {}
    best: list[tuple[int, str]] = []  # per code: (products, spelling) of its most common spelling
    code_of = np.full(len(distinct), -1, dtype=np.int64)
    for i, value in enumerate(distinct.tolist()):
        ws = words(value)
        # numbers, codes and sentences are not values a query names
        if not ws or len(ws) > MAX_PHRASE_WORDS or not any(w.isalpha() for w in ws):
            continue
        key = key_of_words(ws)
        if len(key) < 2:
            continue
        if key not in keys:
            keys[key] = len(best)
            best.append((0, value))
        code = keys[key]
        code_of[i] = code
        best[code] = max(best[code], (int(spelling_counts[i]), value), key=lambda c: c[0])
    if not keys:
        return None
    n_rows = len(set(rows))
    if len(keys) > MIN_ID_LIKE and len(keys) > ID_LIKE_SHARE * n_rows:
        return None
    codes = code_of[inverse]
    row_arr = np.asarray(rows, dtype=np.int64)
    ok = codes >= 0
    # a product naming one value twice (two category levels alike) holds it once
    pairs = np.unique(row_arr[ok] * len(best) + codes[ok])
    row_arr, codes = pairs // len(best), pairs % len(best)
    return FieldValues(name, row_arr, codes, [v for _, v in best], keys, np.bincount(codes, minlength=len(best)))


@functools.cache
def english_word_counts(min_count: int = COMMON_ENGLISH_COUNT) -> dict[str, int]:
    """English words at least ``min_count`` times in symspellpy's shipped frequency list, with their counts (~0.1 s,
    once a process); empty when the package ships none."""
    try:
        text = (importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return {}
    out = {}
    for line in text.splitlines():
        word, _, count = line.partition(" ")
        if count.strip().isdigit() and int(count) >= min_count:
            out[word] = int(count)
    return out
