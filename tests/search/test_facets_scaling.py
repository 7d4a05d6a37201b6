"""Facet counting stays linear in (products x values) whatever one product holds, and answers stay bounded.

One admin write of a product with 20,000 category levels made every public /facets take 24 s: each
level re-counted every (product, category) pair and scanned every category value. Products here are
made with ``model_construct`` so the facet code is tested on its own, whatever catalog validation caps.
"""

from __future__ import annotations

import random
import time

import numpy as np

from indexer.catalog import Product
from search.facet_index import ATTRIBUTE_FACETS, MAX_ATTRIBUTE_FACETS, FacetIndex
from search.facets import MAX_SHOWN_VALUES, FacetValue, _values, category_values

LEVELS = 20_000


def product(pid: str, category: list[str] | None = None, attributes: dict[str, str] | None = None,
            brand: str = "") -> Product:
    return Product.model_construct(id=pid, title=pid, description="", brand=brand, category=category or [],
                                   attributes=attributes or {}, price=None, currency="", images=[])


def catalog() -> list[Product]:
    shelves = [["Apparel", "Topwear", "Shirts"], ["Apparel", "Bottomwear", "Jeans"], ["Footwear", "Shoes"]]
    return [product(f"p{i}", shelves[i % 3], {"gender": "Men" if i % 2 else "Women", "colour": f"c{i % 5}"},
                    brand=f"b{i % 7}") for i in range(60)]


def test_the_category_is_counted_once_per_set_of_chosen_levels_not_once_per_level():
    fi = FacetIndex([*catalog(), product("deep", [f"c{i}" for i in range(LEVELS)])])
    everyone = np.ones(fi.n, dtype=bool)
    calls: list[list[str]] = []

    def counts_above(above: list[str]) -> np.ndarray:
        calls.append(above)
        return fi.category_counts(everyone)

    start = time.perf_counter()
    values = category_values(fi, [], counts_above)
    took = time.perf_counter() - start
    assert calls == [[]]  # was one bincount over every (product, category) pair per level: 20,000 of them
    assert took < 5.0, f"{took:.1f} s"  # a generous bound: the per-level scans took minutes here
    assert len(values) == MAX_SHOWN_VALUES and values[0].value == "Apparel" and values[0].count == 40

    calls.clear()
    chosen = ["Apparel", "c7", "c15000", "nowhere"]
    values = category_values(fi, chosen, counts_above)
    assert calls == [[], ["Apparel", "nowhere"], ["Apparel", "c7", "nowhere"],  # once per distinct set of chosen
                     ["Apparel", "c7", "c15000", "nowhere"]]  # levels above (an unknown one counts as level 0)
    assert {v.value for v in values if v.selected} == set(chosen)  # chosen ones shown beyond the cut


def test_category_values_match_the_per_level_definition():
    """The same answer as counting each level on its own (the old way), on random small catalogs."""
    rng = random.Random(7)
    for _ in range(20):
        products = [product(f"p{i}", [f"v{rng.randrange(6)}" for _ in range(rng.randrange(5))]) for i in range(40)]
        fi = FacetIndex(products)
        chosen = rng.sample([f"v{i}" for i in range(8)], rng.randrange(4))
        masks = {}

        def counts_above(above: list[str], masks=masks, products=products, fi=fi) -> np.ndarray:
            wanted = {c.lower() for c in above}
            mask = np.array([wanted <= {c.lower() for c in p.category} for p in products])
            masks[tuple(above)] = mask
            return fi.category_counts(mask)

        got = category_values(fi, chosen, counts_above)
        assert got == naive_category_values(fi, chosen, products)


def naive_category_values(fi: FacetIndex, chosen: list[str], products: list[Product]) -> list[FacetValue]:
    chosen_cats = {c.lower() for c in chosen}
    level_of = lambda c: fi.category_level[fi.category_keys[c.lower()]] if c.lower() in fi.category_keys else 0  # noqa: E731
    cats = []
    for level in sorted(set(fi.category_level)):
        above = {c.lower() for c in chosen if level_of(c) < level}
        mask = np.array([above <= {c.lower() for c in p.category} for p in products])
        counts = fi.category_counts(mask)
        cats += [FacetValue(value=fi.category_values[i], count=int(counts[i]), level=level,
                            selected=fi.category_values[i].lower() in chosen_cats, parent=fi.category_parent[i])
                 for i in range(len(fi.category_values)) if fi.category_level[i] == level
                 and (counts[i] > 0 or fi.category_values[i].lower() in chosen_cats)]
    known = {v.value.lower() for v in cats}
    cats += [FacetValue(value=c, count=0, selected=True, level=0) for c in chosen if c.lower() not in known]
    return sorted(cats, key=lambda v: (v.level or 0, -v.count, v.value.lower()))


def test_a_product_with_thousands_of_attributes_gets_no_thousands_of_facets():
    wide = product("wide", attributes={f"a{i}": "v" for i in range(LEVELS)})
    products = [*catalog(), wide]
    start = time.perf_counter()
    fi = FacetIndex(products)
    took = time.perf_counter() - start
    assert took < 5.0, f"{took:.1f} s"  # was a scan of every product's attributes per attribute name
    assert len(fi.attributes) == MAX_ATTRIBUTE_FACETS
    assert list(fi.attributes)[:2] == list(ATTRIBUTE_FACETS)  # the widely held ones keep their facets
    assert fi.attributes["colour"].values == [f"c{i}" for i in range(5)]
    grown = fi.extended([wide, product("new", attributes={"Colour": "c9", "colour": "ignored"})])
    assert grown.attributes["colour"].codes[-1] == grown.attributes["colour"].keys["c9"]  # first spelling wins


def test_a_facet_shows_at_most_max_shown_values_and_the_chosen_ones():
    fi = FacetIndex([product(f"p{i}", brand=f"brand{i:05d}") for i in range(MAX_SHOWN_VALUES + 500)])
    counts = fi.brand.count(np.ones(fi.n, dtype=bool))
    shown = _values(fi.brand, counts, ["brand01400", "unknown"])
    assert len(shown) == MAX_SHOWN_VALUES + 2
    assert [v.value for v in shown if v.selected] == ["brand01400", "unknown"]
    assert shown[0].value == "brand00000" and shown[MAX_SHOWN_VALUES - 1].value == f"brand{MAX_SHOWN_VALUES - 1:05d}"
