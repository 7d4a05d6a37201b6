"""`eval tune --latency-budget-ms` on the fixtures (fake encoders, few trials): study, Pareto plot, config in budget."""

from __future__ import annotations

import json
from pathlib import Path

from eval.tune_budget import Trial, pareto_front
from prodsearch.cli import main
from search.config import SearchConfig, load_search_config

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REL = ["--queries", str(FIXTURES / "relevance" / "queries.jsonl"), "--qrels", str(FIXTURES / "relevance" / "qrels.txt")]


def test_pareto_front_keeps_the_trials_nothing_beats_on_both():
    c = SearchConfig()
    trials = [Trial(0, c, 0.8, 10.0), Trial(1, c, 0.7, 5.0), Trial(2, c, 0.6, 8.0), Trial(3, c, 0.9, 30.0),
              Trial(4, c, 0.8, 12.0)]
    assert [t.number for t in pareto_front(trials)] == [1, 0, 3]


def test_tune_with_a_latency_budget_writes_the_best_config_within_it(fake_fixture_cli, tmp_path, capsys):
    ranker_dir = tmp_path / "ranker"
    assert main(["eval", "train-ranker", "--index", str(fake_fixture_cli), *REL, "--out", str(ranker_dir),
                 "--no-progress", "--rounds", "10", "--depth", "50"]) == 0
    out = tmp_path / "tune"
    code = main(["eval", "tune", "--index", str(fake_fixture_cli), *REL, "--latency-budget-ms", "1000",
                 "--trials", "6", "--latency-queries", "5", "--ranker", str(ranker_dir / "ranker.json"),
                 "--out", str(out), "--no-progress", "--no-plots"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "best within 1000 ms p95" in printed and "| tuned |" in printed
    study = json.loads((out / "tune.json").read_text())
    assert study["trials"] == 6 and study["latency_budget_ms"] == 1000
    assert study["best"]["p95_ms"] <= 1000 and study["pareto_front"]
    assert study["best"]["quality"] == max(t["quality"] for t in study["all_trials"] if t["p95_ms"] <= 1000)
    # the first trial is the engine's defaults (all signals, full depth), so the result is never worse than them
    assert study["all_trials"][0]["config"]["fusion"] == "weighted"
    assert (out / "pareto.png").stat().st_size > 1000
    config = load_search_config(out / "search_config.json")
    assert config.candidate_depth in (100, 200, min(SearchConfig().candidate_depth, 312))  # capped at the default depth
    assert config.ranker in (None, str((ranker_dir / "ranker.json").resolve()))


def test_an_impossible_budget_is_a_clear_error_with_the_study_kept(fake_fixture_cli, tmp_path, capsys):
    out = tmp_path / "tune"
    code = main(["eval", "tune", "--index", str(fake_fixture_cli), *REL, "--latency-budget-ms", "0.0001",
                 "--trials", "2", "--latency-queries", "3", "--out", str(out), "--no-progress", "--no-plots"])
    assert code == 2
    assert "no setting tried has p95 <= 0.0001 ms" in capsys.readouterr().err
    assert (out / "tune.json").is_file() and (out / "pareto.png").is_file()
    assert not (out / "search_config.json").exists()
