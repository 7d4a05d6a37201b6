"""`best_segmentation` on hand-made spans: each expected reading below is worked out by hand from its rules."""

from __future__ import annotations

import pytest

from search.segmentation import Span, best_segmentation


def read(counted: list[bool], *spans: tuple[int, int, bool], covers: list[bool] | None = None) -> list[tuple[int, int]]:
    return [(s.start, s.length) for s in best_segmentation(counted, [Span(*s) for s in spans], covers)]


def test_a_long_span_that_takes_the_next_spans_word_loses_to_a_reading_that_explains_every_word():
    # "pink y fronts": "pink y" (pinky) leaves "fronts" unexplained; "pink" + "y fronts" explain all ("y" never counts)
    assert read([True, False, True], (0, 2, False), (0, 1, False), (1, 2, True)) == [(0, 1), (1, 2)]


def test_fewer_spans_win_when_as_much_is_explained():
    # "casual shoes": the type as one span, not the usage + "shoes"
    assert read([True, True], (0, 1, False), (1, 1, True), (0, 2, True)) == [(0, 2)]
    # "for him and her": "him and her" (one span) beats "for him" + "her" (two); "for" and "and" never count
    assert read([False, True, False, True], (0, 2, False), (3, 1, False), (1, 3, False)) == [(1, 3)]
    # "oxford blue": the shade, not Oxfords (a type) + Blue
    assert read([True, True], (0, 1, True), (1, 1, False), (0, 2, False)) == [(0, 2)]


def test_spans_of_words_that_do_not_count_cost_nothing_and_more_words_covered_win():
    # the brand "Colour me": both words are stop words, still read
    assert read([False, False], (0, 2, False)) == [(0, 2)]
    # "denim colour": the shade (covers the stop word too) before the type "denim" alone
    assert read([True, False], (0, 1, True), (0, 2, False)) == [(0, 2)]


def test_a_reading_that_names_a_product_type_wins_a_tie_and_a_possessive_s_covers_nothing():
    # "women's day cream": "women s day" + "cream" against "women" + "day cream"; the "s" does not count as covered
    counted, covers = [True, False, True, True], [True, False, True, True]
    spans = [(0, 3, False), (3, 1, False), (0, 1, False), (2, 2, True)]
    assert read(counted, *spans, covers=covers) == [(0, 1), (2, 2)]
    # had the "s" counted as covered, the occasion reading would cover more
    assert read(counted, *spans) == [(0, 3), (3, 1)]


def test_ties_left_go_to_the_left_to_right_longest_reading():
    # "a b c": "a b" + "c" against "a" + "b c": equal on every rule, the longer first span wins (the old greedy rule)
    assert read([True] * 3, (0, 2, False), (2, 1, False), (0, 1, False), (1, 2, False)) == [(0, 2), (2, 1)]
    assert read([True, True]) == []


def test_a_span_outside_the_query_is_refused():
    with pytest.raises(ValueError, match="outside a query of 2 words"):
        read([True, True], (1, 2, False))


def test_possessive_s_marks_only_the_s_after_an_apostrophe():
    from search.normalise import possessive_s, words

    text = "Women's day cream, kids’ shoes, s size, levi s"
    assert words(text) == ["women", "s", "day", "cream", "kids", "shoes", "s", "size", "levi", "s"]
    assert possessive_s(text) == [False, True, False, False, False, False, False, False, False, False]
    assert possessive_s("Crème’s") == [False, True]  # accents folded as `words` folds them
