"""`prodsearch eval train-ranker` on the fixtures (fake encoders): model + config written, test metrics reported."""

from __future__ import annotations

import json
from pathlib import Path

from prodsearch.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REL = ["--queries", str(FIXTURES / "relevance" / "queries.jsonl"), "--qrels", str(FIXTURES / "relevance" / "qrels.txt")]


def test_train_ranker_cli_writes_a_model_the_engine_then_uses(fake_fixture_cli, fake_encoders, tmp_path, capsys):
    from search.config import load_search_config
    from search.searcher import Searcher
    from search.types import SearchRequest

    out = tmp_path / "ranker"
    code = main(["eval", "train-ranker", "--index", str(fake_fixture_cli), *REL, "--out", str(out), "--no-progress",
                 "--rounds", "20", "--depth", "50"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| all: fusion |" in printed and "| all: ranker |" in printed and "| text: ranker |" in printed
    summary = json.loads((out / "train_ranker.json").read_text())
    assert summary["train_queries"] > 10 and summary["test_queries"] == 42 and summary["depth"] == 50
    for side in ("fusion", "ranker"):
        assert 0 < summary["test"][side]["ndcg@10"] <= 1
        assert set(summary["test"][side]["by_kind"]) == {"text", "image", "product_id"}
    config = load_search_config(out / "search_config.json")
    assert config.ranker == str(out / "ranker.json")
    calibrated = summary["relevance_cutoff"]  # the photo and product queries' cutoff, chosen on the train split
    assert calibrated["calibrated"] and calibrated["only_cutoff_queries"] and config.relevance_cutoff == calibrated["cutoff"]
    assert calibrated["mean_f1"] >= calibrated["previous_mean_f1"]
    searcher = Searcher.open(fake_fixture_cli, fake_encoders, config)
    assert searcher.ranker is not None and searcher.ranker.depth == 50
    response = searcher.search(SearchRequest(text="red t-shirt", k=10))
    assert len(response.hits) == 10 and "rerank" in response.timings_ms
    searcher.index.close()


def test_train_ranker_rejects_a_bad_depth(fake_fixture_cli, tmp_path, capsys):
    code = main(["eval", "train-ranker", "--index", str(fake_fixture_cli), *REL, "--out", str(tmp_path), "--depth", "1"])
    assert code == 2 and "--depth" in capsys.readouterr().err
