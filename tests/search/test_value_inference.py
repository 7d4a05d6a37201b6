"""Inferred values (`search.value_inference`): a hand-made encoder whose vectors say which words resemble which."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from indexer.catalog import Product
from search import value_inference
from search.synonyms import parse_synonyms
from search.understanding import QueryUnderstanding
from search.value_inference import INFERRED_CONFIDENCE, ValueInference

PRODUCTS = [
    Product(id="p0", title="Acme Red Cotton Tshirt", brand="Acme", category=["Apparel", "Tshirts"],
            attributes={"gender": "Women", "colour": "Red"}),
    Product(id="p1", title="Birch Pink Dress", brand="Birch", category=["Apparel", "Dresses"],
            attributes={"gender": "Women", "colour": "Pink"}),
    Product(id="p2", title="Acme Grey Shirt", brand="Acme", category=["Apparel", "Shirts"],
            attributes={"gender": "Men", "colour": "Grey"}),
]
# axes: 0 red, 1 pink, 2 grey, 3 women, 4 men, 5 tshirts, 6 dresses, 7 shirts, 8 apparel, 9 acme, 10 birch, 11 noise
AXES = {"red": 0, "pink": 1, "grey": 2, "women": 3, "men": 4, "tshirts": 5, "dresses": 6, "shirts": 7,
        "apparel": 8, "acme": 9, "birch": 10}
# everyday words: mostly one axis, a little of another
NEAR = {"peony": {1: 0.9, 0: 0.3}, "pewter": {2: 0.8, 7: 0.2}, "mum": {3: 0.9, 4: 0.3},
        "strawberry": {0: 0.7, 1: 0.65}}  # red or pink: no margin


class HandEncoder:
    """A text's vector: its words' axes (unknown words: the noise axis), L2-normalised; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), 12), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                for axis, weight in NEAR.get(word, {AXES.get(word, 11): 1.0}).items():
                    out[row, axis] += weight
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture()
def encoder() -> HandEncoder:
    return HandEncoder()


@pytest.fixture()
def qu(encoder) -> QueryUnderstanding:
    out = QueryUnderstanding.build(PRODUCTS, parse_synonyms(""))
    out.infer_with(encoder)
    return out


def groups(qu: QueryUnderstanding, text: str) -> list[tuple[str, str, str, float, str]]:
    return [(g.words, m.field, m.value, m.confidence, m.via) for g in qu.parse(text).groups for m in g.matches]


def test_an_unknown_word_names_the_value_it_resembles_with_low_confidence(qu):
    assert groups(qu, "peony dress") == [("dress", "category", "Dresses", 1.0, "value"),
                                         ("peony", "colour", "Pink", INFERRED_CONFIDENCE, "inferred")]
    parsed = qu.parse("peony dress")
    assert parsed.unmatched == 0  # the word is understood now (at low confidence)
    assert parsed.text is None  # never a rewrite of the searched text


def test_no_margin_no_value(qu):
    assert groups(qu, "strawberry dress") == [("dress", "category", "Dresses", 1.0, "value")]
    assert qu.parse("strawberry dress").unmatched == 1


def test_only_fields_the_parser_left_unnamed(qu):
    # "red" already names the colour: "peony" infers nothing for it (and resembles nothing else)
    assert [g[1:] for g in groups(qu, "red peony")] == [("colour", "Red", 1.0, "value")]
    # two unknown words: each names a different field
    assert [g[:3] for g in groups(qu, "peony shirt for mum")] == [
        ("shirt", "category", "Shirts"), ("peony", "colour", "Pink"), ("mum", "gender", "Women")]
    # side by side ("pewter sweats"): the run names one field (mum's Women is the stronger), then each word another
    parsed = qu.parse("peony mum dress")
    assert [(g.words, g.matches[0].value) for g in parsed.groups] == [
        ("dress", "Dresses"), ("peony mum", "Women"), ("peony", "Pink")]
    assert parsed.unmatched == 0


def test_products_holding_an_inferred_value_score_it(qu):
    scores = qu.match_scores(qu.parse("peony dress"))
    # p1 is a pink dress: the dress group (factor 2 with type first) and the inferred colour
    assert scores[1] == pytest.approx(2 * 1.0 + INFERRED_CONFIDENCE)
    assert scores[0] == 0 and scores[2] == 0


def test_spans_are_encoded_once(qu, encoder):
    before = encoder.calls
    qu.parse("peony dress")
    qu.parse.cache_clear()
    qu.parse("peony shirt")
    assert encoder.calls == before + 1


def test_brands_and_large_fields_are_not_inferred(encoder):
    inference = ValueInference({"brand": ["Acme", "Birch"], "colour": ["Red", "Pink"],
                                "sku": [f"s{i}" for i in range(400)]}, encoder)
    assert set(inference.names) == {"colour"}


def test_off_unless_the_setting_says_so(monkeypatch):
    monkeypatch.delenv(value_inference.ENV, raising=False)
    assert not value_inference.enabled()
    monkeypatch.setenv(value_inference.ENV, "1")
    assert value_inference.enabled()
    plain = QueryUnderstanding.build(PRODUCTS, parse_synonyms(""))
    assert plain.inference is None and plain.parse("peony dress").unmatched == 1
