"""Do the shipped synonyms understand everyday shopper words? A table of shopper-phrased queries and the catalog
values each should name, checked against a catalog's real vocabulary (issue #13).

Each case names the values a shopper who typed it would accept: every one must be among the values the parser names,
the product type must be the query's head (`ParsedQuery.head`, or its only type), and no word may be left
unexplained (`ParsedQuery.unmatched == 0`). A case applies to a catalog only when the catalog holds every value it
expects (the fixtures have no Kurtis). The labels are the fashion-product-images catalog's (`indexer.adapters.fashion`).

    .venv/bin/python benchmarks/synonym_coverage.py --catalog /tmp/br3/catalog.jsonl      # or fixtures/catalog.jsonl

Prints each failing case and a line per family; exits 1 when any applicable case fails. The words here are a sample
of the shipped rules, written with them: a regression check, not a measure of words no one wrote a rule for.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.understanding import CATEGORY, ParsedQuery, QueryUnderstanding

TYPE = "article_type"  # the fashion catalog's product type attribute (also a category level)

CASES: dict[str, list[tuple[str, dict[str, str]]]] = {
    "audience": [
        ("kurta for dad", {"gender": "Men", TYPE: "Kurtas"}),
        ("trainers for hubby", {"gender": "Men", TYPE: "Sports Shoes"}),
        ("handbag for mum", {"gender": "Women", TYPE: "Handbags"}),
        ("watch for my wife", {"gender": "Women", TYPE: "Watches"}),
        ("flip flops for toddler boys", {"gender": "Boys", TYPE: "Flip Flops"}),
        ("dresses for little girls", {"gender": "Girls", TYPE: "Dresses"}),
        ("tshirts for teen boys", {"gender": "Boys", TYPE: "Tshirts"}),
        ("sunglasses for grandpa", {"gender": "Men", TYPE: "Sunglasses"}),
        ("kurti for sister in law", {"gender": "Women", TYPE: "Kurtis"}),
        ("couple watches", {"gender": "Unisex", TYPE: "Watches"}),
        ("cap for dad", {"gender": "Men", TYPE: "Caps"}),
        ("navy tees for ladies", {"colour": "Navy", "gender": "Women", TYPE: "T-Shirts"}),  # the fixtures' labels
    ],
    "shade": [
        ("oxblood brogues", {"colour": "Burgundy", TYPE: "Formal Shoes"}),
        ("teal kurti", {"colour": "Teal", TYPE: "Kurtis"}),
        ("peony dress", {"colour": "Pink", TYPE: "Dresses"}),
        ("toffee wallet", {"colour": "Brown", TYPE: "Wallets"}),
        ("petrol blue shirt", {"colour": "Teal", TYPE: "Shirts"}),
        ("firozi kurta", {"colour": "Turquoise Blue", TYPE: "Kurtas"}),
        ("rani pink saree", {"colour": "Magenta", TYPE: "Sarees"}),
        ("mehendi green dupatta", {"colour": "Olive", TYPE: "Dupatta"}),
        ("gunmetal watch", {"colour": "Steel", TYPE: "Watches"}),
        ("marsala heels", {"colour": "Maroon", TYPE: "Heels"}),
        ("lilac top", {"colour": "Lavender", TYPE: "Tops"}),
        ("mushroom sweater", {"colour": "Mushroom Brown", TYPE: "Sweaters"}),
        ("gray tshirt", {"colour": "Grey", TYPE: "Tshirts"}),
        ("multicolor kurta", {"colour": "Multi", TYPE: "Kurtas"}),
        ("heather grey joggers", {"colour": "Grey Melange", TYPE: "Track Pants"}),
        ("oatmeal shirt", {"colour": "Beige", TYPE: "Shirts"}),
        ("aubergine dress", {"colour": "Purple", TYPE: "Dresses"}),
        ("tangerine tee", {"colour": "Orange", TYPE: "T-Shirts"}),
    ],
    "type": [
        ("anorak", {TYPE: "Rain Jacket"}),
        ("toffee kolhapuris", {"colour": "Brown", TYPE: "Flats"}),
        ("strawberry court shoes for mum", {"colour": "Pink", TYPE: "Heels", "gender": "Women"}),
        ("fanny pack", {TYPE: "Waist Pouch"}),
        ("bum bag", {TYPE: "Waist Pouch"}),
        ("jumper", {TYPE: "Sweaters"}),
        ("cardi", {TYPE: "Sweaters"}),
        ("trackies", {TYPE: "Track Pants"}),
        ("lowers for men", {TYPE: "Track Pants", "gender": "Men"}),
        ("thongs", {TYPE: "Flip Flops"}),
        ("wellies", {TYPE: "Casual Shoes"}),
        ("gilet", {TYPE: "Jackets"}),
        ("bellies", {TYPE: "Flats"}),
        ("juttis", {TYPE: "Flats"}),
        ("scarf", {TYPE: "Scarves"}),
        ("bag pack", {TYPE: "Backpacks"}),
        ("cooling glasses", {TYPE: "Sunglasses"}),
        ("one piece dress", {TYPE: "Dresses"}),
        ("palazzo", {TYPE: "Trousers"}),
        ("sherwani", {TYPE: "Kurta Sets"}),
        ("bandhgala", {TYPE: "Nehru Jackets"}),
        ("nighty", {TYPE: "Nightdress"}),
        ("dressing gown", {TYPE: "Bath Robe"}),
        ("sunblock", {TYPE: "Sunscreen"}),
        ("moisturizer", {TYPE: "Face Moisturisers"}),
        ("hair color", {TYPE: "Hair Colour"}),
        ("blusher", {TYPE: "Highlighter and Blush"}),
        ("lip balm", {TYPE: "Lip Care"}),
        ("jewelry set", {TYPE: "Jewellery Set"}),
        ("mangalsutra", {TYPE: "Necklace and Chains"}),
        ("denim shirt", {TYPE: "Shirts"}),
        ("short dress", {TYPE: "Dresses"}),
        ("football shorts", {TYPE: "Shorts", "usage": "Sports"}),
    ],
    "occasion": [
        ("office shoes for men", {TYPE: "Formal Shoes", "gender": "Men"}),
        ("wedding kurta", {"usage": "Ethnic", TYPE: "Kurtas"}),
        ("diwali saree", {"usage": "Ethnic", TYPE: "Sarees"}),
        ("eid kurta for dad", {"usage": "Ethnic", TYPE: "Kurtas", "gender": "Men"}),
        ("gym leggings", {"usage": "Sports", TYPE: "Leggings"}),
        ("running shorts", {"usage": "Sports", TYPE: "Shorts"}),
        ("interview shirt", {"usage": "Formal", TYPE: "Shirts"}),
        ("birthday party dress", {"usage": "Party", TYPE: "Dresses"}),
        ("holiday backpack", {"usage": "Travel", TYPE: "Backpacks"}),
        ("college tshirt", {"usage": "Casual", TYPE: "Tshirts"}),
        ("date night dress", {"usage": "Smart Casual", TYPE: "Dresses"}),
        ("beach shorts", {"usage": "Casual", TYPE: "Shorts"}),
        ("work trousers for her", {"usage": "Formal", TYPE: "Trousers", "gender": "Women"}),
        ("gym tee", {"usage": "Sports", TYPE: "T-Shirts"}),
    ],
    "brand": [
        ("benetton tshirts", {"brand": "United Colors of Benetton", TYPE: "Tshirts"}),
        ("us polo shirt for men", {"brand": "U.S. Polo Assn.", TYPE: "Shirts", "gender": "Men"}),
        ("jack and jones jeans", {"brand": "Jack & Jones", TYPE: "Jeans"}),
        ("lotus sunscreen", {"brand": "Lotus Herbals", TYPE: "Sunscreen"}),
    ],
}


@dataclass(frozen=True)
class Miss:
    family: str
    query: str
    why: str


def head_types(parsed: ParsedQuery) -> set[str]:
    """The values of the group naming the query's product type (its head, or its only type group)."""
    typed = [g for g in parsed.groups if any(m.field == CATEGORY for m in g.matches)]
    head = parsed.head or (typed[0] if typed else None)
    return {m.value for m in head.matches} if head is not None else set()


def check_case(qu: QueryUnderstanding, family: str, text: str, expected: dict[str, str]) -> Miss | None:
    """None when ``text`` names every expected value (the type as its head) and leaves no word unexplained."""
    parsed = qu.parse(text)
    named = {(m.field, m.value) for g in parsed.groups for m in g.matches}
    missing = [f"{f}={v}" for f, v in expected.items() if (f, v) not in named]
    if missing:
        return Miss(family, text, f"names no {', '.join(missing)} (named: {sorted(named)})")
    if TYPE in expected and expected[TYPE] not in head_types(parsed):
        return Miss(family, text, f"head type is {sorted(head_types(parsed))}, not {expected[TYPE]}")
    if parsed.unmatched:
        return Miss(family, text, f"{parsed.unmatched} word(s) name nothing")
    return None


def applicable(qu: QueryUnderstanding, expected: dict[str, str]) -> bool:
    """Whether the catalog holds every value the case expects."""
    fields = qu.vocabulary.fields
    return all(f in fields and v in fields[f].values for f, v in expected.items())


def run(qu: QueryUnderstanding) -> tuple[Counter[str], Counter[str], list[Miss]]:
    """Per family: the applicable cases and the passing ones; and every miss."""
    total: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    misses: list[Miss] = []
    for family, cases in CASES.items():
        for text, expected in cases:
            if not applicable(qu, expected):
                continue
            total[family] += 1
            miss = check_case(qu, family, text, expected)
            if miss is None:
                passed[family] += 1
            else:
                misses.append(miss)
    return total, passed, misses


def main(argv: list[str] | None = None) -> int:
    from indexer.catalog import load_catalog

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", required=True, help="a catalog JSONL (the fashion adapter's, or the fixtures')")
    ap.add_argument("--synonyms", action="append", default=[], help="a shop's synonyms file, added to the defaults")
    args = ap.parse_args(argv)
    from search.synonyms import load_synonyms

    qu = QueryUnderstanding.build(load_catalog(args.catalog).products, load_synonyms(args.synonyms))
    total, passed, misses = run(qu)
    for miss in misses:
        print(f"MISS [{miss.family}] {miss.query!r}: {miss.why}")
    for family in CASES:
        print(f"{family:10} {passed[family]:3d} / {total[family]:3d} cases")
    print(f"{'all':10} {sum(passed.values()):3d} / {sum(total.values()):3d} cases")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
