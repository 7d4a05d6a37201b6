"""What the parser (`search.understanding`) makes of a query: the catalog values each span names (`Match`, `Group`),
and which span names the product asked for when several name a product type (`head_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from search.normalise import WORD
from search.vocabulary import CATEGORY

# Words after which a product type is what the head type goes with or is compared to, not the head ("shirt with tie",
# "top for jeans", "pants that look like denim")
HEAD_BREAKS = frozenset(["for", "with", "without", "to", "under", "matching", "like"])

Via = Literal["value", "synonym", "spelling", "inferred", "suits"]
# Words that point back at someone the query names ("a watch for my son, something for him"): they name an audience
# only when no other word of the query names one (`pointing_back`)
PRONOUNS = frozenset(["her", "hers", "him", "his", "she", "he"])


@dataclass(frozen=True)
class Match:
    """One catalog value a span of the query names."""

    field: str  # an attribute name as the catalog spells it, "brand" or "category"
    value: str  # the value as the catalog spells it
    code: int
    confidence: float
    via: Via


@dataclass(frozen=True)
class Group:
    """One span of the query and every value it may name (a product holding any of them matches)."""

    words: str  # the query's words as typed
    corrected: str | None  # the words after spelling correction, when any changed
    matches: tuple[Match, ...]

    @property
    def named(self) -> tuple[Match, ...]:
        """The values the shopper named: `matches` less those that only suit them (`search.suits`: "men" also matches
        unisex products: never shown as understood, never the field a filter or facet stands in for, never ruled out)."""
        return tuple(m for m in self.matches if m.via != "suits")


@dataclass(frozen=True)
class ParsedQuery:
    groups: tuple[Group, ...]
    # The query as the signals search it when understanding changed it (typos corrected, synonym spans replaced by
    # the catalog values they name); None when it is the typed text.
    text: str | None = None
    unmatched: int = 0  # the query's words (not stop words) that name no catalog value: what it says beyond `groups`
    # The group naming the product the query asks for when several name a category: the last one before "for",
    # "with"... ("denim shirt": Shirts, "denim" only says what it is made of; "shirt with tie": Shirts); None when
    # at most one group names a category (`group_factor`).
    head: Group | None = None

    def __bool__(self) -> bool:
        return bool(self.groups)

    def understood(self) -> dict[str, str]:
        """The best value per field (`{"colour": "Red", "gender": "Women"}`), in query order."""
        best: dict[str, Match] = {}
        for group in self.groups:
            for m in group.named:
                if m.field not in best or m.confidence > best[m.field].confidence:
                    best[m.field] = m
        return {name: m.value for name, m in best.items()}


def head_of(groups: list[Group], starts: list[int], words_: list[str]) -> Group | None:
    """The group naming the product asked for when several groups name a category: in English the head noun of the
    phrase comes last ("football shorts", "tshirt dress"), and what follows "for", "with"... is what it goes with
    ("heels for saree"); None when at most one group names a category."""
    typed = [k for k, g in enumerate(groups) if any(m.field == CATEGORY for m in g.matches)]
    if len(typed) < 2:
        return None
    first = starts[typed[0]]
    stop = next((at for at in range(first + 1, len(words_)) if words_[at] in HEAD_BREAKS), len(words_))
    before = [k for k in typed if starts[k] < stop]
    return groups[before[-1] if before else typed[-1]]


def pointing_back(spans: list[tuple[list[str], tuple[Match, ...]]], stop_words: frozenset[str]) -> set[int]:
    """The spans (words as typed, the values they name) that only say "her", "him"... (with stop words: "for her")
    while another span names a value of the same field: the pronoun points back at that one ("my daughter needs shoes
    for her school": Girls, not Women too). Their indices; such a span names nothing. With no other span naming that
    field, each pronoun names its own ("shirt for him and dress for her")."""
    pronoun = [any(w in PRONOUNS for w in ws) and all(w in PRONOUNS or w in stop_words for w in ws) for ws, _ in spans]
    fields = [{m.field for m in matches} for _, matches in spans]
    named = {name for k, names in enumerate(fields) if not pronoun[k] for name in names}
    return {k for k, names in enumerate(fields) if pronoun[k] and names & named}


def rewritten(text: str, typed: list[str], said: list[str]) -> str | None:
    """``text`` with each word replaced by what is said for it; None when nothing changed."""
    if said == typed:
        return None
    folded = text.casefold()
    spans = [m.span() for m in WORD.finditer(folded)][:len(typed)]
    if not folded.isascii() or len(spans) != len(typed) or len(folded) != len(text):
        return " ".join(w for w in said if w)  # accents folded: positions differ, the words are enough
    out, last = [], 0
    for (start, end), word, new in zip(spans, typed, said, strict=True):
        out.append(text[last:start])
        out.append(text[start:end] if new == word else new)
        last = end
    out.append(text[last:])
    return " ".join("".join(out).split())
