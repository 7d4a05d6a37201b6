"""Values that also suit a product holding another, for the parser (`search.understanding`).

A unisex product suits men and women, and a kids' unisex one boys and girls: the derived relevance sets grade so
(`eval.derive`: "Unisex matches a gender"), and so does a shopper asking for "a watch for men". A span naming Men
also matches gender Unisex, at `SUITS_FACTOR` of its confidence, so that men's products come first, then unisex ones,
then women's (which before tied with the unisex ones). The extra matches say ``via="suits"``: they are never shown as
understood, never searched for, and never ruled out by "not for men". A catalog without those values is unaffected.
"""

from __future__ import annotations

from search.parsed import Match
from search.vocabulary import Vocabulary

# field -> value (lowercase) -> the "field:Value" pairs that also suit it
SUITS = {"gender": {"men": ("gender:Unisex",), "women": ("gender:Unisex",), "boys": ("age_group:Kids-Unisex",),
                    "girls": ("age_group:Kids-Unisex",)}}
SUITS_FACTOR = 0.9


def with_suited(matches: tuple[Match, ...], vocabulary: Vocabulary) -> tuple[Match, ...]:
    """``matches`` and the values of ``vocabulary`` that also suit them (`SUITS`), at a lower confidence."""
    named = {(m.field, m.code) for m in matches}
    more: list[Match] = []
    for m in matches:
        for also in SUITS.get(m.field, {}).get(m.value.lower(), ()):
            name, value = also.split(":", 1)
            code = vocabulary.code_of(name, value)
            if code is not None and (name, code) not in named:
                named.add((name, code))
                more.append(Match(name, vocabulary.value(name, code), code, round(m.confidence * SUITS_FACTOR, 4),
                                  "suits"))
    return (*matches, *more) if more else matches
