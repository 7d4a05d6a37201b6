"""Price bounds a shopper types into the query ("black shoes under 1000", "kurta between 500 and 800 rs").

A number after "under", "below", "upto", "over", "between ... and", or one marked as money ("rs 500 - 1000",
"$20 to $50"), states a price bound as plainly as the page's price boxes do, so it is applied the same way: as the
request's price filter, where the request sets no bound of its own, and taken out of the text the signals search
("under 1000" matches no product's words; left in, BM25 and the text model would look for the number). Attribute
words stay hints, never filters (`search.understanding`); a stated price is not a guess.

A number that measures something else is left alone: "heels under 3 inches", "bag below 20 litres", "size 32",
"watch under 5 atm", "upto 70% off" (the word after it is a unit), "air max 90" ("max"/"min" alone need a currency),
and a bound no product of the catalog can meet ("toys for kids under 5" where prices are in rupees: an age).
Amounts may carry a currency (₹, rs, inr, $, usd, €, £, rupees, bucks, /-) before or after, thousands separators
("1,000", "1,00,000"), "k" (1.5k = 1500) or "lakh". The catalog's prices are compared as numbers, whatever their
currency. `SearchConfig.price_from_text` turns this off.
"""

from __future__ import annotations

import math
import re

from search.filters import Filters
from search.types import PriceBounds, SearchRequest

_CURRENCY_BEFORE = r"(?:₹|rs\.?|inr|\$|usd|€|eur|£|gbp)"
_CURRENCY_AFTER = r"(?:₹|rs\.?|inr|\$|usd|dollars?|€|eur|euros?|£|gbp|pounds?|rupees?|bucks|/-)"
_NUMBER = r"\d{1,12}(?:,\d{2,3}){0,6}(?:\.\d{1,4})?"  # bounded: no long backtracking on hostile text
_SCALE = r"(?:k|lakhs?|lacs?)"
# one amount: currency?, number, scale?, currency? (named groups b, n, s, c are numbered per use: see _amount)
_AMOUNT = (r"(?:(?P<b{i}>{cb})\s*)?(?P<n{i}>{num})\s*(?P<s{i}>{scale})?(?:\s*(?P<c{i}>{ca}))?(?!\w|[.,]\d|\s*%)")
_MAX_WORDS = (r"(?:within|in|under)\s+(?:a\s+|my\s+|the\s+)?budget(?:\s+of)?|max(?:imum)?\s+(?:price|budget)(?:\s+of)?|"
              r"under|below|less\s+than|lesser\s+than|lower\s+than|cheaper\s+than|up\s*to|within|max(?:imum)?|"
              r"not\s+more\s+than|no\s+more\s+than|at\s+most|budget(?:\s+of)?|<=?")
_MIN_WORDS = (r"min(?:imum)?\s+(?:price|budget)(?:\s+of)?|over|above|more\s+than|greater\s+than|at\s*least|"
              r"min(?:imum)?|starting\s+(?:at|from)|>=?")
# "max"/"min" alone say price only beside a currency: "air max 90" is a shoe, "max rs 500" a budget
_BARE = frozenset(["max", "maximum", "min", "minimum"])
_PRICE_WORDS = r"price|priced|pricing|cost|costing"
_LEAD = rf"(?:(?:for|in|at|with|of)\s+)?(?:(?:a\s+)?(?:{_PRICE_WORDS})\s+(?:of\s+)?)?"
# words after a number that say it is not money ("under 3 inches", "size 32 jeans" has no price word at all)
_UNIT_WORDS = """
cm cms mm m meter meters metre metres inch inches in ft feet foot ml l ltr litre litres liter liters g gm gms gram
grams kg kgs gb tb mb mah w watt watts v volt hz atm bar years year yrs yr months month days hours mins age size
waist pcs pieces piece pack packs x carat ct karat kt mp percent pct off
"""
_UNITS = frozenset(_UNIT_WORDS.split())

_PRICE_WORD = re.compile(rf"\b(?:{_PRICE_WORDS})\b", re.IGNORECASE)


def _amount(i: int) -> str:
    return _AMOUNT.format(cb=_CURRENCY_BEFORE, num=_NUMBER, scale=_SCALE, ca=_CURRENCY_AFTER, i=i)


_RANGE = re.compile(
    rf"(?<!\w){_LEAD}(?:between|from)\s+{_amount(1)}\s*(?:and|to|-|–)\s*{_amount(2)}", re.IGNORECASE)
_MONEY_RANGE = re.compile(  # "rs 500 - 1000", "500-1000 rs", "$20 to $50": a currency mark says it is a price
    rf"(?<!\w){_LEAD}(?P<cur1>{_CURRENCY_BEFORE}\s*)?(?P<n1>{_NUMBER})\s*(?P<s1>{_SCALE})?\s*(?:-|–|to)\s*"
    rf"(?P<cur2>{_CURRENCY_BEFORE}\s*)?(?P<n2>{_NUMBER})\s*(?P<s2>{_SCALE})?(?:\s*(?P<c2>{_CURRENCY_AFTER}))?(?!\w|[.,]\d|\s*%)",
    re.IGNORECASE)
_MAX = re.compile(rf"(?<!\w){_LEAD}(?P<op>{_MAX_WORDS})\s*{_amount(1)}", re.IGNORECASE)
_MIN = re.compile(rf"(?<!\w){_LEAD}(?P<op>{_MIN_WORDS})\s*{_amount(1)}", re.IGNORECASE)


def _value(number: str, scale: str | None) -> float | None:
    """The amount as a number; None when it overflows (a 400-digit "price" is no bound)."""
    scale = (scale or "").lower()
    value = float(number.replace(",", "")) * (1000 if scale == "k" else 100_000 if scale.startswith("la") else 1)
    return value if math.isfinite(value) else None


def _is_money(text: str, match: re.Match[str], i: int) -> bool:
    """Whether amount ``i`` of ``match`` is money: a currency follows it, or the next word is no unit."""
    if match.groupdict().get(f"c{i}"):
        return True
    following = re.match(r"\s*([^\W\d_]+)", text[match.end():])
    return following is None or following.group(1).lower() not in _UNITS


def find_price(text: str) -> tuple[PriceBounds | None, str]:
    """The price bounds ``text`` states and ``text`` without the words stating them; (None, text) when none."""
    typed, text = text, " ".join(text.split())  # one space between words: no long runs for the patterns to try
    low: float | None = None
    high: float | None = None
    spans: list[tuple[int, int]] = []
    for pattern in (_RANGE, _MONEY_RANGE):
        for m in pattern.finditer(text):
            if pattern is _MONEY_RANGE and not (m.group("cur1") or m.group("cur2") or m.group("c2")
                                                or _PRICE_WORD.search(m.group(0))):
                continue  # "500-1000" alone may be a model number
            if not _is_money(text, m, 2) or any(a < m.end() and m.start() < b for a, b in spans):
                continue
            ends = (_value(m.group("n1"), m.group("s1")), _value(m.group("n2"), m.group("s2")))
            if None in ends:
                continue
            low, high = sorted(ends)  # type: ignore[type-var]
            spans.append(m.span())
            break
        if spans:
            break
    for pattern, is_max in ((_MAX, True), (_MIN, False)):
        if (high if is_max else low) is not None:
            continue
        for m in pattern.finditer(text):
            if not _is_money(text, m, 1) or any(a < m.end() and m.start() < b for a, b in spans):
                continue
            if m.group("op").lower() in _BARE and not (m.group("b1") or m.group("c1")):
                continue
            value = _value(m.group("n1"), m.group("s1"))
            if value is None:
                continue
            high, low = (value, low) if is_max else (high, value)
            spans.append(m.span())
            break
    if not spans:
        return None, typed
    rest = text
    for a, b in sorted(spans, reverse=True):
        rest = rest[:a] + " " + rest[b:]
    rest = " ".join(word for word in rest.split() if any(ch.isalnum() for ch in word))  # no lone "." or "-" left
    if low is not None and high is not None and low > high:
        low, high = high, low
    return PriceBounds(min=low, max=high, words=" ".join(text[a:b].strip() for a, b in sorted(spans))), rest


def with_price_from_text(request: SearchRequest, prices: tuple[float, float] | None = None
                         ) -> tuple[SearchRequest, PriceBounds | None]:
    """``request`` with the price its text states as its price filter (a bound the request sets itself wins) and
    the text without those words (kept whole when nothing else is left: "under 1000" alone still searches).
    ``prices``: the catalog's (lowest, highest) price; a bound no product can meet ("toys for kids under 5" in
    rupees: an age) is no price, and the words stay."""
    if not request.text:
        return request, None
    bounds, rest = find_price(request.text)
    if bounds is None:
        return request, None
    if prices is not None and ((bounds.max is not None and bounds.max < prices[0])
                               or (bounds.min is not None and bounds.min > prices[1])):
        return request, None
    filters = request.filters or Filters()
    update = {"price_min": filters.price_min if filters.price_min is not None else bounds.min,
              "price_max": filters.price_max if filters.price_max is not None else bounds.max}
    if update["price_min"] is not None and update["price_max"] is not None and update["price_min"] > update["price_max"]:
        update = {"price_min": filters.price_min, "price_max": filters.price_max}  # the request's own range wins whole
    return request.model_copy(update={"text": rest or request.text,
                                      "filters": filters.model_copy(update=update)}), bounds
