"""How query words and catalog values are compared: one normal form for both sides.

A phrase's *key* is its words lowercased, accents stripped, split on anything not a letter or digit,
each word singularised by a few suffix rules and the words joined without spaces, so that
"T-Shirts", "t shirt", "tshirts" and "T Shirt" share the key ``tshirt``, and "Navy Blue" and
"navy-blue" share ``navyblue``. The rules need not be good English, only the same on both sides.
"""

from __future__ import annotations

import re
import unicodedata

MAX_PHRASE_WORDS = 4  # the longest value or synonym phrase matched as one span
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lowercase words of ``text`` (letters and digits; accents stripped; punctuation splits)."""
    folded = text.casefold()
    if not folded.isascii():
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))
    return WORD.findall(folded)


def singular(word: str) -> str:
    """A crude singular: shoes -> shoe, dresses -> dress, watches -> watch, accessories -> accessory."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("sses", "shes", "ches", "xes", "zes"):
        if word.endswith(suffix):
            return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def key_of_words(ws: list[str] | tuple[str, ...]) -> str:
    return "".join(singular(w) for w in ws)


def phrase_key(text: str) -> str:
    """The normal form a value, a synonym and a query span are compared by (see the module docstring)."""
    return key_of_words(words(text))
