"""Shopper-phrased variants of a relevance set's text queries, to measure robustness (`build-qrels --perturb`).

- ``typos``: one seeded keyboard slip in one word of four or more letters (two in queries of four or
  more words): a swap of two neighbouring letters, a dropped letter, a doubled letter, or a letter
  replaced by its neighbour on a QWERTY keyboard. The first letter is never touched (shoppers rarely
  get it wrong, and spelling correctors rely on it too).
- ``synonyms``: catalog values in the query ("navy blue", "dresses", "women") replaced by a shopper's
  phrase that means them ("midnight", "frock", "ladies"), from the synonyms the engine's query
  understanding uses (`search.synonyms`: the shipped defaults), chosen with the same seed.

A variant keeps its original's judgements, split and family, and records ``perturb`` (the kind) and
``of`` (the original's id), so the report can set each variant beside the query it came from. The
random choices are seeded per query id, so a variant does not change when other queries do.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from indexer.errors import ProdsearchError

PERTURBATIONS = ("typos", "synonyms")
QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _row in QWERTY_ROWS:
    for _i, _c in enumerate(_row):
        _NEIGHBOURS[_c] = _row[max(0, _i - 1):_i] + _row[_i + 1:_i + 2]


class PerturbError(ProdsearchError, ValueError):
    """An unknown perturbation, or one that cannot run here (no synonyms)."""


def _rng(seed: int, qid: str, kind: str) -> random.Random:
    return random.Random(f"{seed}:{kind}:{qid}")


def _slip(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word))  # never the first letter
    op = rng.choice(("swap", "drop", "double", "neighbour"))
    if op == "swap" and i < len(word) - 1 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    if op == "neighbour" and _NEIGHBOURS.get(word[i]):
        return word[:i] + rng.choice(_NEIGHBOURS[word[i]]) + word[i + 1:]
    return word[:i] + word[i + 1:]  # drop (also the fallback)


def add_typos(text: str, rng: random.Random) -> str:
    """``text`` with one typo (two for four or more words) in words of four or more letters; unchanged if none."""
    words = text.split(" ")
    eligible = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not eligible:
        return text
    for i in rng.sample(eligible, min(len(eligible), 2 if len(words) >= 4 else 1)):
        words[i] = _slip(words[i], rng)
    return " ".join(words)


def swap_synonyms(text: str, synonyms: Mapping[str, Sequence[str]], rng: random.Random) -> str:
    """``text`` with each phrase found in ``synonyms`` (lower-case phrase -> alternatives), longest phrases
    first, replaced by one of its alternatives; unchanged if none is found."""
    out = text
    for phrase in sorted(synonyms, key=lambda p: (-len(p), p)):
        alternatives = [a for a in synonyms[phrase] if a.lower() != phrase]
        if not alternatives:
            continue
        pattern = re.compile(rf"(?<![\w']){re.escape(phrase)}(?![\w'])", re.IGNORECASE)
        if pattern.search(out):
            out = pattern.sub(rng.choice(sorted(alternatives)), out, count=1)
    return re.sub(r"\bfor for\b", "for", out)  # "dresses for women" -> "dresses for for her" -> "... for her"


def load_shop_synonyms(paths: Sequence[str] = ()) -> dict[str, list[str]]:
    """Catalog value (lower case, as the derived queries write it) -> the shopper phrases that mean it, from the
    synonyms the engine's query understanding uses (`search.synonyms`: the shipped defaults + ``paths``)."""
    from search.synonyms import load_synonyms

    synonyms = load_synonyms(list(paths))
    out: dict[str, list[str]] = {}
    for key, targets in synonyms.sources():
        source = synonyms.phrase(key)
        for target in targets:
            if source.lower() != target.lower():
                out.setdefault(target.lower(), []).append(source)
    return out


def perturb_queries(queries: Sequence[dict[str, Any]], kinds: Sequence[str], seed: int,
                    synonyms: Callable[[], Mapping[str, Sequence[str]]] = load_shop_synonyms) -> list[dict[str, Any]]:
    """Variants of every text query for each of ``kinds`` (those that change the text); ids ``<id>~<kind>``."""
    unknown = sorted(set(kinds) - set(PERTURBATIONS))
    if unknown:
        raise PerturbError(f"unknown perturbation(s) {unknown}; valid: {', '.join(PERTURBATIONS)}")
    table = synonyms() if "synonyms" in kinds else {}
    out = []
    for kind in kinds:
        for q in queries:
            if not q.get("text") or q.get("perturb"):
                continue
            rng = _rng(seed, q["id"], kind)
            text = add_typos(q["text"], rng) if kind == "typos" else swap_synonyms(q["text"], table, rng)
            if text != q["text"]:
                out.append({**q, "id": f"{q['id']}~{kind}", "text": text, "perturb": kind, "of": q["id"]})
    return out
