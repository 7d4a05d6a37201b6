"""How shoppers write, on a hand-made catalog: the product type as the query's head, American spellings, filler words,
words met only inside multi-word synonyms, and the shipped synonyms typed as written (issue #13)."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.catalog import Product, load_catalog
from search.normalise import phrase_key, words
from search.synonyms import load_synonyms, parse_synonyms
from search.understanding import QueryUnderstanding
from tests.support import REPO

PRODUCTS = [
    Product(id="w0", title="Acme Pink Shirt", brand="Acme", category=["Apparel", "Topwear", "Shirts"],
            attributes={"gender": "Men", "colour": "Pink"}),
    Product(id="w1", title="Acme Blue Jeans", brand="Acme", category=["Apparel", "Bottomwear", "Jeans"],
            attributes={"gender": "Men", "colour": "Blue"}),
    Product(id="w2", title="Acme Grey Dress", brand="Acme", category=["Apparel", "Dresses"],
            attributes={"gender": "Women", "colour": "Grey"}),
    Product(id="w3", title="Acme Grey Shorts", brand="Acme", category=["Apparel", "Bottomwear", "Shorts"],
            attributes={"gender": "Women", "colour": "Grey"}),
    Product(id="w4", title="Acme Silver Ties", brand="Acme", category=["Accessories", "Ties"],
            attributes={"gender": "Men", "colour": "Silver"}),
    Product(id="w5", title="Acme Brown Hair Colour", brand="Acme", category=["Personal Care", "Hair", "Hair Colour"],
            attributes={"gender": "Women", "colour": "Brown"}),
]
SYNONYMS = "denim => Jeans\ntie pin => Ties\nfanny pack => Shorts\n"


@pytest.fixture(scope="module")
def qu() -> QueryUnderstanding:
    return QueryUnderstanding.build(PRODUCTS, parse_synonyms(SYNONYMS))


def test_the_last_product_type_before_for_with_or_like_is_the_head(qu):
    parsed = qu.parse("denim shirt")  # "denim" names Jeans, but the shopper asks for a shirt
    assert parsed.head is parsed.groups[1]
    np.testing.assert_allclose(qu.match_scores(parsed), [2.0, 0.9, 0, 0, 0, 0])  # the shirt first, then jeans
    short_dress = qu.parse("short dress")  # "short" is the key of Shorts
    assert short_dress.head is short_dress.groups[1] and int(np.argmax(qu.match_scores(short_dress))) == 2
    with_tie = qu.parse("shirt with tie")  # what follows "with" is what the shirt goes with
    assert with_tie.head is with_tie.groups[0] and int(np.argmax(qu.match_scores(with_tie))) == 0
    like_jeans = qu.parse("skinny shorts that look like denim")  # what follows "like" is a comparison
    assert like_jeans.head is like_jeans.groups[0] and int(np.argmax(qu.match_scores(like_jeans))) == 3
    assert qu.parse("pink shirt").head is None  # one type: every type group counts as before
    old = QueryUnderstanding(qu.vocabulary, qu.synonyms, type_first=False)
    np.testing.assert_allclose(old.match_scores(old.parse("denim shirt")), [1.0, 0.9, 0, 0, 0, 0])


@pytest.mark.parametrize("query,rows", [("short dress", [2]), ("denim shirt", [0]), ("shirt with tie", [0]),
                                        ("grey short dress", [2]), ("pink shirt", [0])])
def test_the_relevant_set_holds_the_head_type_not_every_type_named(qu, query, rows):
    """`total` and facets count what the shopper asked for: "short dress" is dresses (no product is both shorts and a
    dress), while the other groups (a colour) still have to hold."""
    parsed = qu.parse(query)
    assert np.flatnonzero(qu.matching_mask(parsed)).tolist() == rows
    assert np.flatnonzero(qu.reference_matching_mask(parsed)).tolist() == rows
    assert qu.matching_count(parsed) == len(rows)


def test_american_spellings_share_the_british_key(qu):
    assert phrase_key("Gray") == phrase_key("grey") and phrase_key("hair color") == phrase_key("Hair Colour")
    assert phrase_key("jewelry") == phrase_key("Jewellery") and phrase_key("pajamas") == phrase_key("pyjama")
    assert qu.parse("gray dress").understood() == {"colour": "Grey", "category": "Dresses"}
    assert qu.parse("gray dress").groups[0].matches[0].via == "value"  # the catalog's own value, not a typo of it
    assert qu.parse("brown hair color").understood() == {"colour": "Brown", "category": "Hair Colour"}


def test_possessives_hyphens_and_joined_or_split_words(qu):
    for text in ("men's pink shirt", "mens' pink shirts", "MEN'S PINK SHIRT", "men’s pink-shirts"):
        assert qu.parse(text).understood() == {"gender": "Men", "colour": "Pink", "category": "Shirts"}, text
    for text in ("women's grey hair-colour", "womens grey haircolour", "woman's grey hair colours"):
        assert qu.parse(text).understood()["category"] == "Hair Colour", text


def test_filler_words_leave_nothing_unexplained(qu):
    parsed = qu.parse("pink colour shirt")
    assert parsed.understood() == {"colour": "Pink", "category": "Shirts"} and parsed.unmatched == 0


def test_words_inside_multi_word_synonyms_never_shadow_a_typo_of_a_catalog_word(qu):
    # "pin" is only met inside "tie pin": one letter short of pink, it stays a typo of pink
    assert qu.parse("pin shirt").understood() == {"colour": "Pink", "category": "Shirts"}
    # and the phrase typed right is still the rule's, not "tie" + a corrected "pink"
    (group,) = qu.parse("tie pin").groups
    assert group.words == "tie pin" and group.corrected is None
    assert {m.value for m in group.matches} == {"Ties"}
    # a word one slip from nothing the catalog uses is a spelling target as before
    assert qu.parse("fany pack").understood() == {"category": "Shorts"}


def test_common_english_words_are_never_corrected_into_a_word_met_only_inside_a_synonym():
    # "while" is in the descriptions (so a known word of the catalog's language) and one slip from the "whole" of
    # "whole cut shoes": it stayed a typo of "whole" ("face while running" was searched as "face whole running")
    described = [Product(id=f"d{i}", title=f"Acme Pink Shirt {i}", brand="Acme", category=["Apparel", "Shirts"],
                         description="do not wring while wet", attributes={"colour": "Pink"}) for i in range(3)]
    qu = QueryUnderstanding.build(PRODUCTS + described, parse_synonyms(SYNONYMS + "whole cut shoes => Shirts\n"))
    assert qu._corrections("while") == ("while",)
    assert qu.parse("pink shirt while travelling").text is None
    assert qu._corrections("whol") == ("whole",)  # a slip of a word that is not common English still is


def test_hindi_little_words_and_a_singular_shade_are_stop_words():
    qu = QueryUnderstanding.build(PRODUCTS, parse_synonyms(SYNONYMS + "shades => Ties\nbhai => Men\n"))
    # "mein" (in) was corrected to "men", "liye" (for) to a title word; "ke" and "ki" name nothing
    assert qu.parse("thand mein pehenne wali shorts").understood() == {"category": "Shorts"}
    assert qu.parse("bhai ke liye shirt").understood() == {"gender": "Men", "category": "Shirts"}
    assert qu.parse("bhai ke liye shirt").text == "Men ke liye shirt"
    # "shade" of a colour is no pair of sunglasses, "shades" still is
    assert qu.parse("dark grey shade dress").understood() == {"colour": "Grey", "category": "Dresses"}
    assert qu.parse("grey shades").understood() == {"colour": "Grey", "category": "Ties"}


def test_every_shipped_phrase_typed_as_written_is_understood_whole():
    """On the fixtures: a one-word synonym is never spell-corrected into a catalog word, and every phrase of several
    words parses as one span (its own rule), not as pieces."""
    syn = load_synonyms()
    qu = QueryUnderstanding.build(load_catalog(REPO / "fixtures" / "catalog.jsonl").products, syn)
    changed, split = [], []
    for key, _ in syn.sources():
        ws = words(syn.phrase(key))
        if len(ws) == 1 and qu._corrections(ws[0]) != (ws[0],):
            changed.append(ws[0])
        elif len(ws) > 1 and key in qu._synonym_targets:
            parsed = qu.parse(syn.phrase(key))
            if [g.words for g in parsed.groups] != [" ".join(ws)]:
                split.append(syn.phrase(key))
    assert changed == [] and split == []
    assert len(syn) > 2000  # the shipped vocabulary really was walked
