"""Shopper-phrased variants of a relevance set's text queries, to measure robustness (`build-qrels --perturb`).

- ``typos``: one seeded keyboard slip in one word of four or more letters (two in queries of four or
  more words): a swap of two neighbouring letters, a dropped letter, a doubled letter, or a letter
  replaced by its neighbour on a QWERTY keyboard. The first letter is never touched (shoppers rarely
  get it wrong, and spelling correctors rely on it too). With the catalog's words given, a slip that
  makes another of them ("shorts" -> "shirts") is drawn again: that variant would ask for another thing.
- ``synonyms``: catalog values in the query ("navy blue", "dresses", "women") replaced by a shopper's
  phrase that means them ("midnight", "frock", "ladies"), from the synonyms the engine's query
  understanding uses (`search.synonyms`: the shipped defaults), chosen with the same seed. A variant
  must mean what its query means, so a phrase stands for a value only when, of the values the catalog
  has, it names that one alone ("blouse" names Tops and Shirts: it replaces neither; "toddler" names
  Boys and Girls), each span of the query is replaced at most once (a replacement is never replaced
  again: "navy blue" -> "dark blue" stays, never "dark royal blue"), a brand the query names is left
  whole ("F Sports" stays), and no replacement doubles a word at its seam ("casual wear" before "wear").

A variant keeps its original's judgements, split and family, and records ``perturb`` (the kind) and
``of`` (the original's id), so the report can set each variant beside the query it came from. The
random choices are seeded per query id, so a variant does not change when other queries do.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Collection, Mapping, Sequence
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


TYPO_TRIES = 5


def add_typos(text: str, rng: random.Random, known: Collection[str] = frozenset()) -> str:
    """``text`` with one typo (two for four or more words) in words of four or more letters; unchanged if none.
    A slip that makes another word of ``known`` (the catalog's words: "shorts" -> "shirts") is drawn again (up to
    `TYPO_TRIES` times, else that word stays): such a variant asks for something else, not the same thing misspelt."""
    words = text.split(" ")
    eligible = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not eligible:
        return text
    for i in rng.sample(eligible, min(len(eligible), 2 if len(words) >= 4 else 1)):
        for _ in range(TYPO_TRIES):
            slipped = _slip(words[i], rng)
            if slipped.lower() not in known:
                words[i] = slipped
                break
    return " ".join(words)


def swap_synonyms(text: str, synonyms: Mapping[str, Sequence[str]], rng: random.Random,
                  keep: Sequence[str] = ()) -> str:
    """``text`` with phrases found in ``synonyms`` (lower-case phrase -> alternatives) replaced by one of their
    alternatives: longest phrases first, each part of ``text`` replaced at most once, nothing inside a phrase of
    ``keep`` (a brand) touched, no alternative that repeats the word beside it; unchanged if none is found."""
    taken = [m.span() for k in keep if k for m in re.finditer(rf"(?<![\w']){re.escape(k)}(?![\w'])", text,
                                                              re.IGNORECASE)]
    chosen: list[tuple[int, int, str]] = []
    for phrase in sorted(synonyms, key=lambda p: (-len(p), p)):
        alternatives = sorted(a for a in synonyms[phrase] if a.lower() != phrase)
        if not alternatives:
            continue
        pattern = re.compile(rf"(?<![\w']){re.escape(phrase)}(?![\w'])", re.IGNORECASE)
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            before, after = text[:m.start()].split()[-1:], text[m.end():].split()[:1]
            fits = [a for a in alternatives
                    if not (before and a.split()[0].lower() == before[0].lower())
                    and not (after and a.split()[-1].lower() == after[0].lower())]
            if fits:
                chosen.append((m.start(), m.end(), rng.choice(fits)))
                taken.append(m.span())
            break  # the first occurrence only
    out = text
    for start, end, alternative in sorted(chosen, reverse=True):
        out = out[:start] + alternative + out[end:]
    return out


def load_shop_synonyms(paths: Sequence[str] = (), catalog_keys: Collection[str] | None = None) -> dict[str, list[str]]:
    """Catalog value (lower case, as the derived queries write it) -> the shopper phrases that mean it, from the
    synonyms the engine's query understanding uses (`search.synonyms`: the shipped defaults + ``paths``). With
    ``catalog_keys`` (the normal forms of the catalog's values, `search.vocabulary`), a phrase means a value only
    when that value is the only one of the catalog it names (a phrase naming two, "blouse" -> Tops, Shirts, would
    widen the query)."""
    from search.normalise import phrase_key
    from search.synonyms import load_synonyms

    synonyms = load_synonyms(list(paths))
    out: dict[str, list[str]] = {}
    for key, targets in synonyms.sources():
        source = synonyms.phrase(key)
        if catalog_keys is not None:
            named = {phrase_key(t) for t in targets} & set(catalog_keys)
            if len(named) != 1:
                continue
            targets = [t for t in targets if phrase_key(t) in named]
        for target in targets:
            if source.lower() != target.lower():
                out.setdefault(target.lower(), []).append(source)
    return out


def catalog_words(products: Sequence[Any]) -> set[str]:
    """Every lower-case word of the catalog's titles, brands, categories and attribute values."""
    from search.normalise import words

    return set(words("\n".join(" ".join([p.title, p.brand or "", *p.category, *map(str, p.attributes.values())])
                                for p in products)))


def catalog_value_keys(products: Sequence[Any]) -> set[str]:
    """The normal forms of every value the catalog's products hold (what query understanding can name)."""
    from search.vocabulary import Vocabulary

    return set(Vocabulary.from_products(products).by_key)


def perturb_queries(queries: Sequence[dict[str, Any]], kinds: Sequence[str], seed: int,
                    synonyms: Callable[[], Mapping[str, Sequence[str]]] = load_shop_synonyms,
                    known_words: Collection[str] = frozenset()) -> list[dict[str, Any]]:
    """Variants of every text query for each of ``kinds`` (those that change the text); ids ``<id>~<kind>``.
    ``known_words``: the catalog's words (`catalog_words`), which a typo must not turn a word into."""
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
            brand = (q.get("intent") or {}).get("brand")
            text = (add_typos(q["text"], rng, known_words) if kind == "typos"
                    else swap_synonyms(q["text"], table, rng, keep=[brand] if brand else []))
            if text != q["text"]:
                out.append({**q, "id": f"{q['id']}~{kind}", "text": text, "perturb": kind, "of": q["id"]})
    return out
