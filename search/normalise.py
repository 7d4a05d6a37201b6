"""How query words and catalog values are compared: one normal form for both sides.

A phrase's *key* is its words lowercased, accents stripped, split on anything not a letter or digit,
each word singularised by a few suffix rules, American spellings of a few shop words read as British ones
(`SPELLINGS`: "gray" is "grey", "color" "colour", "jewelry" "jewellery") and the words joined without spaces,
so that "T-Shirts", "t shirt", "tshirts" and "T Shirt" share the key ``tshirt``, "Navy Blue" and "navy-blue"
share ``navyblue``, and "Hair Color" and "hair colour" share ``haircolour``. The rules need not be good
English, only the same on both sides.
"""

from __future__ import annotations

import re
import unicodedata

# American (and common misspelt) forms of shop words -> the British form, after `singular`
SPELLINGS = {"gray": "grey", "color": "colour", "colored": "coloured", "multicolor": "multicolour",
             "multicolored": "multicoloured", "jewelry": "jewellery", "jewelery": "jewellery",
             "pajama": "pyjama", "moisturizer": "moisturiser", "favorite": "favourite", "catalog": "catalogue"}
MAX_PHRASE_WORDS = 4  # the longest value or synonym phrase matched as one span
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _folded(text: str) -> str:
    folded = text.casefold()
    if not folded.isascii():
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))
    return folded


def words(text: str) -> list[str]:
    """Lowercase words of ``text`` (letters and digits; accents stripped; punctuation splits)."""
    return WORD.findall(_folded(text))


def possessive_s(text: str) -> list[bool]:
    """Per word of `words` (``text``): whether it is the "s" of a possessive ("women's", "kids’"), no word of its own."""
    folded = _folded(text)
    return [m.group() == "s" and m.start() > 0 and folded[m.start() - 1] in "'\u2019" for m in WORD.finditer(folded)]


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


def word_key(word: str) -> str:
    """One word's part of a key: its singular, British spelling."""
    one = singular(word)
    return SPELLINGS.get(one, one)


def key_of_words(ws: list[str] | tuple[str, ...]) -> str:
    return "".join(word_key(w) for w in ws)


def phrase_key(text: str) -> str:
    """The normal form a value, a synonym and a query span are compared by (see the module docstring)."""
    return key_of_words(words(text))
