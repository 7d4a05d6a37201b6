"""Query understanding on a hand-made catalog: every expected value and score below is worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.catalog import Product
from search.synonyms import parse_synonyms
from search.understanding import MAX_QUERY_WORDS, QueryUnderstanding
from search.vocabulary import Vocabulary

PRODUCTS = [
    Product(id="p0", title="Acme Red Cotton T-Shirt", brand="Acme", category=["Apparel", "Topwear", "T-Shirts"],
            attributes={"gender": "Women", "colour": "Red", "material": "Cotton"}),
    Product(id="p1", title="Birch Navy Blue Running Shoes", brand="Birch",
            category=["Footwear", "Shoes", "Running Shoes"], attributes={"gender": "Men", "colour": "Navy Blue"}),
    Product(id="p2", title="Acme Black Leather Bag", brand="Acme", category=["Accessories", "Bags"],
            attributes={"gender": "Unisex", "colour": "Black", "material": "Leather"}),
    Product(id="p3", title="Birch Off White Dress", brand="Birch", category=["Apparel", "Dresses"],
            attributes={"gender": "Women", "colour": "Off White", "sku": "X-1", "year": "2012"}),
]
SYNONYMS = "ladies, lady, for her => Women\nsneakers, trainers => Running Shoes\nnavy => Navy Blue\ncrimson => Red, Scarlet\n"


@pytest.fixture(scope="module")
def qu() -> QueryUnderstanding:
    return QueryUnderstanding.build(PRODUCTS, parse_synonyms(SYNONYMS))


def spans(qu: QueryUnderstanding, text: str) -> list[tuple[str, set[tuple[str, str, float, str]]]]:
    return [(g.words, {(m.field, m.value, m.confidence, m.via) for m in g.matches}) for g in qu.parse(text).groups]


def test_exact_values_and_plurals(qu):
    assert spans(qu, "dress") == [("dress", {("category", "Dresses", 1.0, "value")})]
    assert spans(qu, "BAGS") == [("bags", {("category", "Bags", 1.0, "value")})]
    assert qu.parse("red t-shirts").understood() == {"colour": "Red", "category": "T-Shirts"}
    assert qu.parse("acme tshirt").understood() == {"brand": "Acme", "category": "T-Shirts"}


def test_synonyms_map_to_catalog_values_only(qu):
    # Women, and the unisex products that suit women too (`SUITS`), a little lower; understood: Women
    assert spans(qu, "ladies") == [("ladies", {("gender", "Women", 0.9, "synonym"), ("gender", "Unisex", 0.81, "suits")})]
    assert qu.parse("ladies").understood() == {"gender": "Women"}
    assert spans(qu, "trainers") == [("trainers", {("category", "Running Shoes", 0.9, "synonym")})]
    # "Scarlet" is no value of this catalog: only Red is a target
    assert spans(qu, "crimson") == [("crimson", {("colour", "Red", 0.9, "synonym")})]


def test_typos_are_corrected_towards_catalog_words(qu):
    (group,) = qu.parse("lether").groups
    assert group.corrected == "leather" and {(m.field, m.value, m.confidence) for m in group.matches} == {
        ("material", "Leather", 0.8)}
    assert qu.parse("leathr bag").understood() == {"material": "Leather", "category": "Bags"}
    assert qu.parse("acme").groups[0].corrected is None  # a known word is never "corrected"
    assert not qu.parse("cool").groups  # a word with no catalog word one edit away (first letter kept) stays


def test_longest_span_wins_and_multi_word_values(qu):
    assert spans(qu, "navy blue shoes") == [("navy blue", {("colour", "Navy Blue", 1.0, "value")}),
                                            ("shoes", {("category", "Shoes", 1.0, "value")})]
    assert spans(qu, "running shoes") == [("running shoes", {("category", "Running Shoes", 1.0, "value")})]
    assert qu.parse("off-white dress").understood() == {"colour": "Off White", "category": "Dresses"}
    assert qu.parse("navy").understood() == {"colour": "Navy Blue"}  # one-word synonym of a two-word value


def test_a_span_never_takes_the_word_the_next_span_needs():
    """`search.segmentation`: the reading that explains every word wins over the left-to-right longest one."""
    qu = QueryUnderstanding.build(PRODUCTS, parse_synonyms("redy => Red\ny fronts => Bags\nfor him => Men\n"
                                                            "her => Women\nhim and her => Unisex\n"))
    # "red y" is the synonym "redy" (keys join words), which left "fronts" unexplained
    parsed = qu.parse("red y fronts")
    assert spans(qu, "red y fronts") == [("red", {("colour", "Red", 1.0, "value")}),
                                         ("y fronts", {("category", "Bags", 0.9, "synonym")})]
    assert parsed.unmatched == 0 and parsed.text == "red Bags"
    # one span for "him and her", not "for him" (Men) + "her" (Women)
    assert spans(qu, "bags for him and her") == [("bags", {("category", "Bags", 1.0, "value")}),
                                                 ("him and her", {("gender", "Unisex", 0.9, "synonym")})]


def test_stop_words_numbers_and_identifiers_never_match(qu):
    assert not qu.parse("for the and with a of in on").groups
    assert not qu.parse("2012").groups
    vocab = Vocabulary.from_products(PRODUCTS)
    assert "year" not in vocab.fields  # a number is not a value a query names
    assert set(vocab.fields) >= {"brand", "category", "gender", "colour", "material"}
    letters = [f"{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}q" for i in range(400)]  # "aaq", "baq", ...: all distinct
    many = [Product(id=str(i), title="thing", attributes={"sku": f"code {w}", "colour": "Red"})
            for i, w in enumerate(letters)]
    assert set(Vocabulary.from_products(many).fields) == {"colour"}  # one value per product: an identifier


def test_repeated_words_count_once(qu):
    assert len(qu.parse("dress dress dresses").groups) == 1


def test_match_scores_sum_best_confidence_per_span(qu):
    # the span naming a category (the product type) counts as much as all spans together (here 2): a dress of
    # another colour (p3) comes before a red product of another type (p0)
    np.testing.assert_allclose(qu.match_scores(qu.parse("red dress")), [1.0, 0.0, 0.0, 2.0])
    # p2, a unisex bag, suits "ladies" at 0.9 x 0.9
    np.testing.assert_allclose(qu.match_scores(qu.parse("ladies dress")), [0.9, 0.0, 0.81, 2.9])
    np.testing.assert_allclose(qu.match_scores(qu.parse("ladies red")), [1.9, 0.0, 0.81, 0.9])  # no type named
    flat = QueryUnderstanding(qu.vocabulary, qu.synonyms, type_first=False)
    np.testing.assert_allclose(flat.match_scores(flat.parse("red dress")), [1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(qu.match_scores(qu.parse("lether")), [0.0, 0.0, 0.8, 0.0])


def test_matching_mask_needs_every_span_and_leaves_skipped_fields_out(qu):
    assert qu.matching_mask(qu.parse("nothing here")) is None
    assert qu.matching_mask(qu.parse("women red")).tolist() == [True, False, False, False]
    assert qu.matching_mask(qu.parse("women red"), {"colour"}).tolist() == [True, False, True, True]  # p2: unisex
    assert qu.matching_mask(qu.parse("women red"), {"colour", "gender"}).all()


@pytest.mark.parametrize("text", [
    "red " * 400,
    " ".join(f"word{i}" for i in range(300)),
    "(((.*+?[\\d{999999}]|^$",
    "ünïcödé 👗 dréss \u200b\u202e ｄｒｅｓｓ",
    "x" * 1000,
    "\x00\x01 dress \ud7ff",
])
def test_hostile_queries_parse_without_error(qu, text):
    parsed = qu.parse(text)
    assert len(parsed.groups) <= MAX_QUERY_WORDS
    assert qu.match_scores(parsed).shape == (len(PRODUCTS),)


def test_accents_and_fullwidth_letters_fold(qu):
    assert qu.parse("dréss").understood() == {"category": "Dresses"}
    assert qu.parse("ｄｒｅｓｓ").understood() == {"category": "Dresses"}


def test_rows_past_the_vocabulary_score_nothing(qu):
    """An index with rows the vocabulary was not built over (live additions) gets arrays of its own size."""
    parsed = qu.parse("ladies dress")
    np.testing.assert_allclose(qu.match_scores(parsed, 6), [0.9, 0.0, 0.81, 2.9, 0.0, 0.0])
    assert qu.matching_mask(parsed, n=6).tolist() == [False, False, False, True, False, False]
    assert qu.match_scores(parsed, 3).shape == (3,)


def test_four_letter_typos_are_corrected_and_the_signals_search_the_correction(qu):
    parsed = qu.parse("red dres")
    assert parsed.understood() == {"colour": "Red", "category": "Dresses"} and parsed.groups[1].corrected == "dress"
    assert parsed.text == "red dress"  # what lexical, semantic and visual search
    assert qu.parse("dres").text == "dress"


def test_synonyms_reach_the_signals_as_catalog_values(qu):
    assert qu.parse("navy trainers for ladies").text == "Navy Blue Running Shoes for Women"
    assert qu.parse("crimson dress").text == "Red dress"  # only the catalog's values ("Scarlet" is none)
    assert qu.parse("red dress").text is None  # nothing to rewrite: the signals search the typed text


def test_correct_words_brands_numbers_and_sizes_are_never_corrected(qu):
    assert qu.parse("birch acme").text is None  # brands (rare words of the catalog)
    assert qu.parse("made").text is None  # "jade"-like corrections need the first letter kept; none here
    for text in ("size 42 shoes", "xl tshirt", "2012 dress", "uk9 shoes", "32b"):
        assert qu.parse(text).text is None, text


def test_chat_words_are_never_corrected_to_a_catalog_word():
    plus = [Product(id=f"q{i}", title=f"Acme Plus Size Dress {i}", brand="Acme", category=["Dresses"]) for i in range(3)]
    qu_plus = QueryUnderstanding.build(plus, parse_synonyms(""))
    assert qu_plus.parse("plis dress").text == "plus dress"  # "plus" is a spelling target of this catalog
    for text in ("dress pls", "dress plz", "dress please", "dress thx"):
        assert qu_plus.parse(text).text is None, text  # ... but "pls" is "please", not "plus"


def test_old_rules_kept_for_comparison():
    old = QueryUnderstanding.build(PRODUCTS, parse_synonyms(SYNONYMS))
    legacy = QueryUnderstanding(old.vocabulary, old.synonyms, min_corrected=5, title_words=False, rewrite=False)
    assert legacy.parse("red dres").understood() == {"colour": "Red"} and legacy.parse("red dres").text is None


def test_short_words_only_regain_a_dropped_letter_and_near_keys_win(qu):
    assert qu.parse("ble dress").text == "blue dress"  # 3 letters: "blue" lost its "u"
    assert qu.parse("bat").text is None  # "bag" would be a substitution: never for 3 letters
    from search.slips import plausible
    assert plausible("gteen", "green") and not plausible("gren", "grey") and plausible("gren", "green")


def test_the_attributes_scale_is_the_best_score_plus_each_word_naming_no_value(qu):
    from search.attribute_scoring import TIE_BREAK

    red_dress = qu.parse("red dress")
    assert red_dress.unmatched == 0 and qu.best_score(red_dress) == pytest.approx(3.0)  # red 1 + dress 2 (the type)
    assert qu.match_scores(red_dress).max() <= qu.best_score(red_dress)
    comfy = qu.parse("a comfy red dress for me")  # "comfy" names nothing; "a", "for", "me" are stop words
    assert comfy.unmatched == 1 and qu.attributes_scale(comfy) == pytest.approx(3.0 + 1 + TIE_BREAK)
    assert qu.best_score(qu.parse("ladies dress")) == pytest.approx(0.9 + 2.0)  # a synonym's confidence


TYPO_PRODUCTS = [
    Product(id="t0", title="Acme Red T-Shirt", brand="Acme", category=["Apparel", "T-Shirts"],
            attributes={"colour": "Red"}, description="Wash tips: cold water. Made in India."),
    Product(id="t1", title="Acme Blue Kurta", brand="Acme", category=["Apparel", "Kurtas"],
            attributes={"colour": "Blue"}, description="Wash tips: dry clean. Made in India."),
    Product(id="t2", title="Acme Blue Kurti", brand="Acme", category=["Apparel", "Kurtis"],
            attributes={"colour": "Blue"}, description="Wash tips: hand wash. Made in India."),
    Product(id="t3", title="FILA Black Shoes", brand="FILA", category=["Footwear", "Shoes"],
            attributes={"colour": "Black"}),
    Product(id="t4", title="Acme Black Flats", brand="Acme", category=["Footwear", "Flats"],
            attributes={"colour": "Black"}),
    Product(id="t5", title="Acme Pink Tops", brand="Acme", category=["Apparel", "Tops"], attributes={"colour": "Pink"}),
]


def test_typos_of_joined_values_description_words_and_ambiguous_typos():
    qu = QueryUnderstanding.build(TYPO_PRODUCTS, parse_synonyms(""))
    # the catalog spells T-Shirts; "tshirt" (its key) is a spelling target, one edit from "tshrt"
    assert qu.parse("red tshrt").understood() == {"colour": "Red", "category": "T-Shirts"}
    # "tips" is a word of the descriptions, but one slip (o -> i, neighbouring keys) from the value Tops
    assert qu.parse("pink tips").text == "pink tops"
    assert qu.parse("made").text is None  # a description word no value is one slip from stays
    # equally close to kurta, kurti and kurtis: the word names Kurtas and Kurtis
    values = {(m.field, m.value) for m in qu.parse("blue kurtia").groups[1].matches}
    assert {("category", "Kurtas"), ("category", "Kurtis")} <= values
    values = {(m.field, m.value) for m in qu.parse("black fla").groups[1].matches}  # flat or fila, a letter lost
    assert {("category", "Flats"), ("brand", "FILA")} <= values


SHOE_PRODUCTS = [
    Product(id="s0", title="Acme Grey Casual Shoes", brand="Acme", category=["Footwear", "Shoes", "Casual Shoes"],
            attributes={"usage": "Casual", "colour": "Grey"}),
    Product(id="s1", title="Acme Grey Formal Shoes", brand="Acme", category=["Footwear", "Shoes", "Formal Shoes"],
            attributes={"usage": "Formal", "colour": "Grey"}),
    Product(id="s2", title="Acme Grey Heels", brand="Acme", category=["Footwear", "Shoes", "Heels"],
            attributes={"usage": "Casual", "colour": "Grey"}),
    Product(id="s3", title="Acme Lounge Pants", brand="Acme", category=["Apparel", "Lounge Pants"],
            attributes={"usage": "Casual", "colour": "Grey"}),
    Product(id="s4", title="Sports Station Grey Tee", brand="Sports Station", category=["Apparel", "Tshirts"],
            attributes={"usage": "Sports", "colour": "Grey"}),
]
SHOE_SYNONYMS = "lounge, everyday => Casual\noffice, work wear => Formal\ngym => Sports\ngrey, gray\n"


def test_a_synonym_composed_with_the_next_word_names_another_product_type():
    qu = QueryUnderstanding.build(SHOE_PRODUCTS, parse_synonyms(SHOE_SYNONYMS))
    # "lounge" means the usage Casual and "casual shoes" is a category: the span names Casual Shoes, not usage
    # Casual + Shoes (which the heels s2 hold as well), and the signals search the catalog's type, not "lounge"
    (group,) = qu.parse("lounge shoes").groups
    assert group.words == "lounge shoes"
    assert {(m.field, m.value, m.confidence, m.via) for m in group.matches} == {
        ("category", "Casual Shoes", 0.9, "synonym")}
    assert qu.parse("lounge shoes").text == "Casual Shoes"
    np.testing.assert_allclose(qu.match_scores(qu.parse("lounge shoes")), [0.9, 0.0, 0.0, 0.0, 0.0])
    # a synonym of several words, and a colour named beside it
    assert qu.parse("grey work wear shoes").understood() == {"colour": "Grey", "category": "Formal Shoes"}
    assert qu.parse("everyday shoes for men").understood()["category"] == "Casual Shoes"
    # the composed phrase must be a product type: "gym station" is no category (Sports Station is a brand)
    assert qu.parse("gym station").understood() == {"usage": "Sports"}
    # a span the catalog names literally is never composed; nor where no type results ("lounge pants" is a value)
    assert qu.parse("lounge pants").understood() == {"category": "Lounge Pants"}
    assert qu.parse("casual shoes").groups[0].matches[0].via == "value"
    assert qu.parse("lounge heels").understood() == {"usage": "Casual", "category": "Heels"}


def test_composed_types_are_off_under_the_old_rules():
    qu = QueryUnderstanding.build(SHOE_PRODUCTS, parse_synonyms(SHOE_SYNONYMS))
    old = QueryUnderstanding(qu.vocabulary, qu.synonyms, compose=False)
    assert old.parse("lounge shoes").understood() == {"usage": "Casual", "category": "Shoes"}


SHOP_PRODUCTS = [
    Product(id="d0", title="Acme Shorts", category=["Apparel", "Bottomwear", "Shorts"],
            attributes={"gender": "Men", "colour": "Purple", "usage": "Casual"}),
    Product(id="d1", title="Acme Trousers", category=["Apparel", "Bottomwear", "Trousers"],
            attributes={"gender": "Women", "colour": "Black", "usage": "Formal"}),
    Product(id="d2", title="Acme Shirt", category=["Apparel", "Topwear", "Shirts"],
            attributes={"gender": "Men", "colour": "White", "usage": "Formal"}),
    Product(id="d3", title="Acme Formal Shoes", category=["Footwear", "Shoes", "Formal Shoes"],
            attributes={"gender": "Men", "colour": "Black", "usage": "Formal"}),
    Product(id="d4", title="Acme Jhumka Earrings", category=["Accessories", "Jewellery", "Earrings"],
            attributes={"gender": "Women", "colour": "Gold", "usage": "Ethnic"}),
]


def test_shipped_synonyms_know_everyday_shop_words():
    from search.synonyms import load_synonyms

    qu = QueryUnderstanding.build(SHOP_PRODUCTS, load_synonyms())
    assert qu.parse("half pants for guys").understood() == {"category": "Shorts", "gender": "Men"}  # not Trousers
    assert qu.parse("aubergine pants").understood() == {"colour": "Purple", "category": "Trousers"}
    assert qu.parse("formal shirts").understood() == {"usage": "Formal", "category": "Shirts"}  # no Formal Shoes
    assert qu.parse("office shoes").understood() == {"category": "Formal Shoes"}
    assert qu.parse("sangeet jhumkas").understood() == {"usage": "Ethnic", "category": "Earrings"}
    assert qu.parse("shoes for men").groups[-1].matches[0].via == "value"  # a catalog word stays the catalog's



def test_common_english_words_are_corrected_only_to_a_catalog_value_one_slip_away():
    from search.vocabulary import english_word_counts

    assert {"gala", "bride", "father"} <= set(english_word_counts()) and "snekaers" not in english_word_counts()
    products = [*SHOP_PRODUCTS, Product(id="d5", title="Brie Gals Feather Top", category=["Apparel", "Tops"],
                                        attributes={"gender": "Women"}),
                Product(id="d6", title="Acme Belt", category=["Accessories", "Belts"], attributes={"usage": "Sports"})]
    qu = QueryUnderstanding.build(products, parse_synonyms("gals => Women\n"))
    for text in ("gala trousers", "shorts for bride", "shirts for father"):
        assert qu.parse(text).text is None, text  # not "gals" (a synonym's word), "brie", "feather" (title words)
    # one slip from a catalog value's word, a common word is still that value misspelt
    assert qu.parse("women's bets").text == "women's belts"
    assert qu.parse("trousers for gals").understood() == {"category": "Trousers", "gender": "Women"}
    assert qu.parse("trosers").text == "trousers"  # typos still are
    old = QueryUnderstanding(qu.vocabulary, qu.synonyms, english=False)
    assert old.parse("gala trousers").text == "Women trousers"  # "gala" taken for "gals"


def test_a_common_english_word_never_loses_a_letter_to_become_a_catalog_word():
    """"pewter sweats" was searched as "peter sweat": "pewter" (3.5M occurrences) one dropped letter from the brand
    word "peter" (Peter England). A shopper drops letters; one who typed a longer real word meant it."""
    from search.vocabulary import english_word_counts

    assert "pewter" in english_word_counts()

    def catalog(description: str) -> QueryUnderstanding:
        return QueryUnderstanding.build([*SHOP_PRODUCTS, *(
            Product(id=f"d{i}", title="Peter England Night Shirt", brand="Peter England", category=["Apparel", "Shirts"],
                    attributes={"gender": "Men"}, description=description) for i in range(7, 10))], parse_synonyms(""))

    qu = catalog("")
    assert qu.parse("pewter shirts").text is None
    assert qu.parse("peterr shirts").text == "peter shirts"  # a typo is still corrected
    # "pewter" in the descriptions (as in the 44k catalog's): a word of the descriptions only, the same rule
    described = catalog("pewter buttons")
    assert "pewter" in described._described_only and described.parse("pewter shirts").text is None
    assert QueryUnderstanding(described.vocabulary, described.synonyms, english_added=True).parse(
        "pewter shirts").text == "peter shirts"
    before = QueryUnderstanding(qu.vocabulary, qu.synonyms, english_added=True)
    assert before.parse("pewter shirts").text == "peter shirts"


def test_a_far_commoner_english_word_is_never_corrected_to_a_rarer_one():
    """"red top" was searched as "red Caps" ("top", 484M occurrences, one dropped letter from "topi"), "air max 90 shoes"
    as "air Dresses 90 shoes", "most comfortable shoes" named the colour Grey ("mist", 3M) and "toys" the brand Tous.
    A word that common was typed on purpose; one as common as its neighbour ("pin": pink) may still be a slip."""
    from search.understanding import INTENDED_RATIO
    from search.vocabulary import english_word_counts

    counts = english_word_counts()
    assert counts["top"] > INTENDED_RATIO * counts["maxi"] and counts["most"] > INTENDED_RATIO * counts["mist"]
    assert counts["pin"] < INTENDED_RATIO * counts["pink"] and "kurta" not in counts
    products = [*SHOP_PRODUCTS, *(Product(id=f"e{i}", title=title, brand=brand, category=category, attributes=attributes)
                                  for i, (title, brand, category, attributes) in enumerate([
        ("Tous Topi", "Tous", ["Accessories", "Headwear", "Topi"], {"colour": "Pink"}),
        ("Acme Maxi Dress", "Acme", ["Apparel", "Dresses", "Maxi Dresses"], {"colour": "Grey"}),
        ("Acme Body Mist", "Acme", ["Personal Care", "Fragrance", "Body Mist"], {"colour": "White"}),
        ("Acme Kurta", "Acme", ["Apparel", "Topwear", "Kurtas"], {"colour": "White"}),
    ]))]
    qu = QueryUnderstanding.build(products, parse_synonyms(""))
    for text in ("red top", "air max 90 shoes", "most comfortable shoes", "toys for boys"):
        assert qu.parse(text).text is None, text
        assert not {"Topi", "Maxi Dresses", "Body Mist", "Tous"} & set(qu.parse(text).understood().values()), text
    assert qu.parse("pin kurt").understood() == {"colour": "Pink", "category": "Kurtas"}  # still slips
    assert qu.parse("body mits").understood() == {"category": "Body Mist"}  # a typo no English word still is one


def test_a_unisex_product_suits_men_and_women_and_a_kids_one_boys_and_girls():
    """`SUITS`: a query for men also matches unisex products, below men's and above women's; "girls" matches the
    kids' unisex age group; neither is shown as understood, searched for, or ruled out by "not"."""
    from search.negation import find_exclusions

    products = [
        Product(id="m", title="Acme Watch", category=["Accessories", "Watches"], attributes={"gender": "Men"}),
        Product(id="u", title="Acme Watch", category=["Accessories", "Watches"],
                attributes={"gender": "Unisex", "age_group": "Adults-Unisex"}),
        Product(id="w", title="Acme Watch", category=["Accessories", "Watches"], attributes={"gender": "Women"}),
        Product(id="g", title="Acme Watch", category=["Accessories", "Watches"],
                attributes={"gender": "Girls", "age_group": "Kids-Girls"}),
        Product(id="k", title="Acme Watch", category=["Accessories", "Watches"],
                attributes={"gender": "Unisex", "age_group": "Kids-Unisex"}),
    ]
    qu = QueryUnderstanding.build(products, parse_synonyms("guys => Men\n"))
    # the watch counts 2 (the type, as much as both spans); men 1, unisex 0.9
    np.testing.assert_allclose(qu.match_scores(qu.parse("watch for men")), [3.0, 2.9, 2.0, 2.0, 2.9])
    np.testing.assert_allclose(qu.match_scores(qu.parse("watch for girls")), [2.0, 2.0, 2.0, 3.0, 2.9])
    assert qu.parse("girls watch").understood() == {"gender": "Girls", "category": "Watches"}
    assert qu.parse("guys watch").text == "Men watch"  # a synonym span says its values, not Unisex
    assert qu.matching_mask(qu.parse("men")).tolist() == [True, True, False, False, True]
    assert qu.matching_mask(qu.parse("men"), {"age_group"}).tolist() == [True, True, False, False, True]
    excluded, rest = find_exclusions("watch not for men", qu.parse)
    assert excluded == {"gender": ["Men"]} and rest == "watch"
    # a typo keeps it apart too: "womne" is women, 0.8, and unisex 0.72, still only "suits"
    assert spans(qu, "womne")[0][1] == {("gender", "Women", 0.8, "spelling"), ("gender", "Unisex", 0.72, "suits")}
    assert find_exclusions("watch not for womne", qu.parse)[0] == {"gender": ["Women"]}


def test_a_pronoun_after_a_named_audience_names_nothing_more(qu):
    # "her" here means the lady named before it: one gender group, and "her" is no unexplained word either
    parsed = qu.parse("red dress for a lady, something for her")
    assert [g.words for g in parsed.groups] == ["red", "dress", "lady"] and parsed.unmatched == 1  # "something"
    assert parsed.text == "red dress for a Women, something for her"  # "for her" is searched as typed
    # alone it still names the audience
    assert [(g.words, g.named[0].value) for g in qu.parse("dress for her").groups] == [("dress", "Dresses"),
                                                                                       ("for her", "Women")]

