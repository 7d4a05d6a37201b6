"""`search.parsed` helpers on hand-made spans: each expected answer below is worked out by hand."""

from __future__ import annotations

from search.parsed import Match, pointing_back

STOP = frozenset(["for", "my", "a", "and"])
WOMEN = (Match("gender", "Women", 0, 0.9, "synonym"),)
MEN = (Match("gender", "Men", 1, 0.9, "synonym"),)
GIRLS = (Match("gender", "Girls", 2, 0.9, "synonym"),)
SHOES = (Match("category", "Shoes", 0, 1.0, "value"),)


def test_a_pronoun_points_back_at_the_audience_named_elsewhere():
    # "my daughter needs shoes for her": "for her" names nothing, daughter (Girls) stays
    assert pointing_back([(["daughter"], GIRLS), (["shoes"], SHOES), (["for", "her"], WOMEN)], STOP) == {2}
    # before the noun too: "for her, my daughter"
    assert pointing_back([(["for", "her"], WOMEN), (["daughter"], GIRLS)], STOP) == {0}


def test_a_pronoun_alone_or_beside_other_pronouns_still_names_its_audience():
    assert pointing_back([(["watch"], SHOES), (["for", "her"], WOMEN)], STOP) == set()
    # "shirt for him and dress for her": both pronouns, nothing else names a gender
    assert pointing_back([(["for", "him"], MEN), (["for", "her"], WOMEN)], STOP) == set()
    # a span with a word that is neither a pronoun nor a stop word is not a pronoun ("her highness" as a value)
    assert pointing_back([(["her", "highness"], WOMEN), (["daughter"], GIRLS)], STOP) == set()


def test_a_pronoun_naming_another_field_than_the_noun_stays():
    colour = (Match("colour", "Red", 3, 1.0, "value"),)
    assert pointing_back([(["red"], colour), (["for", "her"], WOMEN)], STOP) == set()
