"""The learned second stage (`search.ranker`): registry-derived features, a toy model, files, the fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.catalog import Product
from search.fusion import Run
from search.ranker import ProductWords, QueryInfo, RankerError, build_features, feature_names, load_ranker, train_ranker
from search.signals import LEXICAL, QUERY_TEXT, Signal, registered, signal_names

COLOURS = ("red", "blue", "green", "black")


def _products() -> list[Product]:
    return [Product(id=f"p{i}", title=f"{COLOURS[i % 4]} cotton shirt {i}", brand="Acme" if i % 2 else "Birch",
                    category=["Apparel", "Topwear"], attributes={"colour": COLOURS[i % 4].title()})
            for i in range(40)]


def _run(docs, scores) -> Run:
    return Run(np.array(docs, np.int64), np.array(scores, np.float64))


def test_features_derive_from_the_registry():
    names = feature_names()
    for signal in signal_names():
        assert {f"{signal}_score", f"{signal}_rrank", f"{signal}_norm"} <= set(names)
    extra = Signal("attributes_test", {"text": QUERY_TEXT}, LEXICAL, 1.0, "test signal")
    with registered(extra):
        assert "attributes_test_score" in feature_names()
    assert "attributes_test_score" not in feature_names()


def test_feature_values_by_hand():
    products = _products()
    words = ProductWords(products)
    runs = {"lexical": _run([5, 9, 2], [3.0, 2.0, 1.0])}
    fused = _run([9, 5, 7], [1.0, 0.5, 0.25])
    X = build_features(runs, fused, QueryInfo("red Acme shirt", False, False), words, np.ones(40, bool),
                       ["lexical", "semantic"])
    col = {name: X[:, i] for i, name in enumerate(feature_names(["lexical", "semantic"]))}
    assert col["lexical_score"][:2].tolist() == [2.0, 3.0] and np.isnan(col["lexical_score"][2])
    assert col["lexical_rrank"].tolist() == [0.5, 1.0, 0.0]
    assert col["lexical_norm"].tolist() == [0.5, 1.0, 0.0]
    assert np.isnan(col["semantic_score"]).all() and not col["semantic_rrank"].any()
    assert col["fused_score"].tolist() == [1.0, 0.5, 0.25] and col["fused_rrank"].tolist() == [1.0, 0.5, 1 / 3]
    # row 9: "blue cotton shirt 9" by Acme; row 5: "blue ... 5" by Acme; row 7: "black ... 7" by Acme
    assert col["title_overlap"].tolist() == pytest.approx([1 / 3] * 3)  # "shirt"
    assert col["brand_overlap"].tolist() == pytest.approx([1 / 3] * 3)  # "acme"
    assert col["any_overlap"].tolist() == pytest.approx([2 / 3] * 3)
    assert col["query_words"].tolist() == [3.0] * 3 and col["has_text"].tolist() == [1.0] * 3


def _toy_query(rng: np.random.Generator, colour: str) -> tuple[dict[str, Run], Run, QueryInfo, np.ndarray]:
    """Fusion puts the wrong colours first; the query's colour word is in the right products' titles."""
    docs = rng.permutation(40)
    relevant = np.array([COLOURS[d % 4] == colour for d in docs])
    docs = np.concatenate([docs[~relevant], docs[relevant]])  # the relevant ones last
    scores = np.linspace(1.0, 0.1, len(docs))
    run = _run(docs, scores)
    return {"lexical": run}, run, QueryInfo(f"{colour} shirt", False, False), np.sort(relevant)


def _toy_training(rng: np.random.Generator, queries: int) -> tuple[ProductWords, np.ndarray, list, list]:
    """Features and labels of ``queries`` toy queries (the colours in turn)."""
    words, has_photo = ProductWords(_products()), np.ones(40, bool)
    feats, labels = [], []
    for i in range(queries):
        runs, fused, query, relevant = _toy_query(rng, COLOURS[i % 4])
        feats.append(build_features(runs, fused, query, words, has_photo, ["lexical"]))
        labels.append(relevant.astype(int))
    return words, has_photo, feats, labels


def test_a_model_trained_on_a_toy_set_orders_a_toy_query_correctly():
    rng = np.random.default_rng(0)
    words, has_photo, feats, labels = _toy_training(rng, 24)
    ranker = train_ranker(feats, labels, ["lexical"], depth=40, rounds=30)
    runs, fused, query, _ = _toy_query(rng, "green")
    out = ranker.rerank(runs, fused, query, words, has_photo)
    assert [COLOURS[d % 4] for d in out.docs[:10].tolist()] == ["green"] * 10
    assert sorted(out.docs.tolist()) == sorted(fused.docs.tolist())  # same candidates, re-ordered
    assert np.all(np.diff(out.scores) <= 0)
    # only the top `depth` moves: the tail keeps the fused order
    partial = ranker.rerank(runs, fused, query, words, has_photo, depth=5)
    assert partial.docs[5:].tolist() == fused.docs[5:].tolist()


def test_training_without_any_relevant_candidate_is_a_clear_error():
    with pytest.raises(RankerError, match="no training query"):
        train_ranker([np.zeros((3, len(feature_names(["lexical"]))))], [np.zeros(3)], ["lexical"])


def test_save_load_round_trip_and_bad_files(tmp_path):
    rng = np.random.default_rng(1)
    words, has_photo, feats, labels = _toy_training(rng, 8)
    ranker = train_ranker(feats, labels, ["lexical"], depth=40, rounds=5)
    path = ranker.save(tmp_path / "ranker.json")
    loaded = load_ranker(path)
    assert loaded.signals == ("lexical",) and loaded.depth == 40
    assert np.allclose(loaded.score(feats[0]), ranker.score(feats[0]))
    with pytest.raises(RankerError, match="not found"):
        load_ranker(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(RankerError, match="not readable"):
        load_ranker(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(RankerError, match="not a ranker model"):
        load_ranker(tmp_path / "other.json")
    data = json.loads(path.read_text())
    data["model"] = "garbage"
    (tmp_path / "broken.json").write_text(json.dumps(data))
    with pytest.raises(RankerError, match="invalid"):
        load_ranker(tmp_path / "broken.json")


@pytest.fixture(scope="module")
def saved_ranker(tmp_path_factory):
    _, _, feats, labels = _toy_training(np.random.default_rng(1), 8)
    path = train_ranker(feats, labels, ["lexical"], depth=40, rounds=5).save(tmp_path_factory.mktemp("r") / "r.json")
    return json.loads(path.read_text())


def _renamed(data: dict) -> dict:
    """The model with its signal renamed to `bogus` both in "signals" and in the model's feature names."""
    return {**data, "signals": ["bogus"], "model": data["model"].replace("lexical_", "bogus_")}


@pytest.mark.parametrize("change, says", [
    ({"depth": 1e400}, "depth"),  # JSON's 1e400 is inf: int() of it overflowed
    ({"depth": 0}, "depth"),
    ({"depth": -5}, "depth"),
    ({"depth": 2.5}, "depth"),
    ({"depth": True}, "depth"),
    ({"depth": "50"}, "depth"),  # a number as a string: the file's JSON types are kept, as a config's are
    ({"model": 5}, '"model" must be the LightGBM model text'),
    ({"signals": "lexical"}, '"signals" must be a list'),
    ({"signals": ["lexical", "lexical"]}, '"signals" must be a list of distinct'),
    (_renamed, r"unknown signal\(s\) \['bogus'\]"),
    ({"signals": ["semantic"]}, "the model's features"),  # a feature-set mismatch
])
def test_bad_model_fields_are_errors_naming_the_file(tmp_path, saved_ranker, change, says):
    data = change(saved_ranker) if callable(change) else {**saved_ranker, **change}
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RankerError, match=f"ranker model {path} is invalid: .*{says}"):
        load_ranker(path)


def test_unreadable_model_files_name_the_file(tmp_path, saved_ranker):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for path in (tmp_path, deep):
        with pytest.raises(RankerError, match=f"ranker model {path} is not readable JSON"):
            load_ranker(path)
    path = tmp_path / "ok.json"
    path.write_text(json.dumps({**saved_ranker, "depth": 2}))
    assert load_ranker(path).depth == 2


def test_searcher_falls_back_to_fusion_without_a_model(synthetic_searcher):
    from search.fusion import fuse
    from search.types import SearchRequest

    assert synthetic_searcher.ranker is None
    request = SearchRequest(text="red shoes", k=20)
    hits = [h.product.id for h in synthetic_searcher.search(request).hits]
    runs = synthetic_searcher.retrieve(request)
    c = synthetic_searcher.config
    fused = fuse(runs, c.fusion, c.weights, c.rrf_k, c.norm)
    assert hits == [synthetic_searcher.index.store.products[d].id for d in fused.docs[:20].tolist()]


def test_a_config_naming_a_missing_model_fails_clearly(synthetic_index, fake_encoders, tmp_path):
    from search.config import load_search_config
    from search.searcher import Searcher

    (tmp_path / "c.json").write_text(json.dumps({"ranker": "nope.json"}))
    config = load_search_config(tmp_path / "c.json")
    assert config.ranker == str(tmp_path / "nope.json")  # relative to the config file
    with pytest.raises(RankerError, match="not found"):
        Searcher.open(synthetic_index, fake_encoders, config)
