"""What the dense text signals embed for a product (the "text recipe"); BM25 always indexes the full text.

Recipes, by name:

- ``caption``: `product_caption` (title, brand, shopper-facing attribute values; ~30 tokens). It is
  also what the CLIP text tower embeds, so with a shared text tower one vector set serves both
  ``semantic`` and ``cross_modal``.
- ``caption+description:N``: the caption, then the first N words of the description.
- ``full``: `product_text` (title, brand, category, attributes and the whole description), the
  recipe before the build recorded one.

The default was chosen with `prodsearch eval run` (README, "Building an index").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from indexer.catalog import Product, product_caption, product_text
from indexer.errors import ProdsearchError

DEFAULT_TEXT_RECIPE = "caption"
LEGACY_TEXT_RECIPE = "full"  # what an index without a recorded recipe embedded
_WITH_DESCRIPTION = re.compile(r"^caption\+description:(\d+)$")


class TextRecipeError(ProdsearchError, ValueError):
    """An unknown text recipe name."""


def _caption_with_description(words: int) -> Callable[[Product], str]:
    def text(product: Product) -> str:
        caption = product_caption(product)
        head = " ".join((product.description or "").split()[:words])
        return f"{caption}. {head}" if head else caption

    return text


def text_recipe(name: str) -> Callable[[Product], str]:
    """The function that gives a product's dense text under recipe ``name``."""
    if name == "caption":
        return product_caption
    if name == "full":
        return product_text
    match = _WITH_DESCRIPTION.match(name)
    if match and int(match.group(1)) > 0:
        return _caption_with_description(int(match.group(1)))
    raise TextRecipeError(f"unknown text recipe {name!r}: use 'caption', 'caption+description:N' (N > 0 words) or 'full'")


def is_caption_recipe(name: str) -> bool:
    """True when the recipe's text is exactly the CLIP caption (so one embedding can serve both)."""
    return name == "caption"
