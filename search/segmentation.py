"""Which spans of a query the parser reads as values: the reading that leaves the fewest words unexplained.

The parser (`search.understanding`) knows, for every span of up to `MAX_PHRASE_WORDS` words, whether it names
catalog values and whether one of them is a product type. Taking the longest span left to right let a span take the
word the next span needed: "pink y fronts" was read "pinky" (the colour Pink) and "fronts", unexplained, where "pink"
and "y fronts" (briefs) explain every word; "women's day cream" was read as the occasion "women's day" and the
colour Cream, where "women" and "day cream" name the product. `best_segmentation` picks, among every way to cover
the words with non-overlapping spans, the one that

1. leaves the fewest words unexplained (stop words and single letters do not count),
2. has the fewest spans ("casual shoes" the type, not the usage Casual + Shoes; "him and her" Unisex, not "for him"
   Men + "her" Women; the shade "oxford blue", not Oxfords + Blue; "smart casual wear" Smart Casual, not "smart"
   + "casual wear"), a span of words that do not count costing nothing,
3. covers the most words, stop words included, the "s" of a possessive not (the brand "Colour me", two stop words;
   the shade "denim colour", not the type Jeans and a stop word),
4. names a product type, when one reading does and another does not ("women" + "day cream", not the occasion
   "women's day" + the colour Cream),
5. is the left-to-right longest reading, the parser's old rule, among readings still equal.

Pure and small: a query is at most 32 words, so the dynamic programme is a few hundred steps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A run of the query's words that names catalog values."""

    start: int
    length: int
    names_type: bool  # one of its values is a product type (a category level)


# ((unexplained words, spans, -words covered, the left-to-right decisions as -length per step: smaller = longer
# first), chosen spans): smaller is better
_Best = tuple[tuple[int, int, int, tuple[int, ...]], tuple[Span, ...]]


def best_segmentation(counted: Sequence[bool], spans: Iterable[Span], covers: Sequence[bool] | None = None
                      ) -> list[Span]:
    """The spans to read, in query order. ``counted[i]``: whether word ``i`` counts as unexplained when no span
    covers it; ``spans``: every span that names values (overlapping); ``covers[i]``: whether word ``i`` counts as
    covered when a span holds it (default: every word)."""
    n = len(counted)
    weight = [1] * n if covers is None else [int(c) for c in covers]
    by_start: dict[int, list[Span]] = defaultdict(list)
    for span in spans:
        if span.length < 1 or span.start < 0 or span.start + span.length > n:
            raise ValueError(f"span {span} is outside a query of {n} words")
        by_start[span.start].append(span)
    # best[i][t]: the best reading of words i.. among those naming a product type (t) or not; None: no such reading
    best: list[dict[bool, _Best | None]] = [{False: None, True: None} for _ in range(n + 1)]
    best[n][False] = ((0, 0, 0, ()), ())
    for i in range(n - 1, -1, -1):
        steps = [(None, 1)] + [(span, span.length) for span in by_start[i]]
        for span, length in steps:
            for typed, rest in best[i + length].items():
                if rest is None:
                    continue
                (unexplained, count, minus_covered, decisions), chosen = rest
                if span is None:
                    key = (unexplained + counted[i], count, minus_covered, (0, *decisions))
                    option, flag = (key, chosen), typed
                else:
                    key = (unexplained, count + any(counted[i:i + length]), minus_covered - sum(weight[i:i + length]),
                           (-length, *decisions))
                    option, flag = (key, (span, *chosen)), typed or span.names_type
                held = best[i][flag]
                if held is None or option[0] < held[0]:
                    best[i][flag] = option
    readings = [(*reading[0][:3], not typed, reading[0][3], reading[1]) for typed, reading in best[0].items()
                if reading is not None]
    return list(min(readings)[-1])
