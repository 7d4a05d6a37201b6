"""Checks of the shopper word lists (`shopper_words*.py`: core, fresh, fresh2, fresh3) against a catalog and each other.

A word list grades the wording probe, so a value the catalog lacks (a typo: "Navy" for "Navy Blue") silently
empties a grading set, and a phrase an older list already holds is no longer held out. Pure functions over the
lists and the catalog's attribute values; `shopper_wording.py --check` and tests/benchmarks run them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

WordList = Mapping[str, Mapping[str, tuple[str, ...]]]  # field -> phrase -> accepted catalog values
FIELDS = ("colour", "gender", "usage", "article_type")


def phrase_key(phrase: str) -> str:
    """A phrase as the lists compare it: lower case, single spaces, each word without a plural 's'."""
    words = phrase.lower().replace("-", " ").split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def catalog_values(attributes: Iterable[Mapping[str, str]]) -> dict[str, Counter[str]]:
    """How many products hold each value of the graded fields (products' ``attributes`` dicts)."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in FIELDS}
    for attrs in attributes:
        for name in FIELDS:
            if attrs.get(name):
                counts[name][attrs[name]] += 1
    return counts


def list_problems(words: WordList, counts: Mapping[str, Counter[str]]) -> list[str]:
    """Every phrase of ``words`` mapped to an unknown field, no value, or a value no catalog product holds; and a
    phrase declared in two fields (the probe would not know which it asks about)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name, phrases in words.items():
        if name not in FIELDS:
            problems.append(f"unknown field {name!r}")
            continue
        for phrase, values in phrases.items():
            if not values:
                problems.append(f"{name}: {phrase!r} maps to no value (empty grading set)")
            problems += [f"{name}: {phrase!r} -> {v!r} is not a catalog value" for v in values if not counts[name][v]]
            key = phrase_key(phrase)
            if key in seen and seen[key] != name:
                problems.append(f"{phrase!r} is in both {seen[key]} and {name}")
            seen.setdefault(key, name)
    return problems


def overlap_problems(words: WordList, older: Mapping[str, WordList]) -> list[str]:
    """Every phrase of ``words`` that an older list already holds (in any field, plural forms alike)."""
    held = {phrase_key(p): list_name for list_name, lst in older.items() for phrases in lst.values() for p in phrases}
    return [f"{name}: {p!r} is already in the {held[phrase_key(p)]!r} list"
            for name, phrases in words.items() for p in phrases if phrase_key(p) in held]
