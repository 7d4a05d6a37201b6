"""ANN search parameters: a config sets them on the index, `eval tune --latency-budget-ms` searches them above the
recall floor (fixture catalog with fake encoders, an IVF text field and an HNSW image field)."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import pytest
from support import REPO, FakeClipEncoder, FakeTextEncoder

from eval.tune_ann import ann_space, search_param_of, using_search_params
from prodsearch.cli import main
from search.config import ConfigError, SearchConfig, load_search_config

FIXTURES = REPO / "fixtures"
REL = ["--queries", str(FIXTURES / "relevance" / "queries.jsonl"), "--qrels", str(FIXTURES / "relevance" / "qrels.txt")]


@pytest.fixture(scope="module")
def ann_index(tmp_path_factory) -> Path:
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import Encoders
    from indexer.index_specs import VectorBuild
    from indexer.vector_store import FieldSpec

    out = tmp_path_factory.mktemp("ann") / "idx"
    vb = VectorBuild(default=FieldSpec("IVF16,Flat", {"nprobe": 1}), specs={"image": FieldSpec("HNSW8", {"efSearch": 16})},
                     min_recall=0.0)
    build_index(load_catalog(FIXTURES / "catalog.jsonl"), out, Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder()),
                progress=False, vector_build=vb)
    return out


@pytest.fixture
def ann_cli(monkeypatch, ann_index):
    import eval.runner
    from indexer.encoder_cache import cached_encoders
    from indexer.encoders import Encoders
    from search.searcher import Searcher

    monkeypatch.setattr(eval.runner, "open_searcher", lambda index, encoders=None, config=None, **models: Searcher(
        index, cached_encoders(Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())), config))
    return ann_index


def _searcher(index: Path, config: SearchConfig | None = None):
    from indexer.encoders import Encoders
    from search.searcher import Searcher

    return Searcher.open(index, Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder()), config)


def test_a_config_sets_the_search_parameters_and_rejects_what_does_not_apply(ann_index, tmp_path):
    store = _searcher(ann_index).index.vector_store
    assert search_param_of(store.faiss_index("text")) == ("nprobe", 1)
    assert search_param_of(store.faiss_index("image")) == ("efSearch", 16)
    searcher = _searcher(ann_index, SearchConfig(search_params={"text": {"nprobe": 8}, "image": {"efSearch": 64}}))
    store = searcher.index.vector_store
    assert faiss.extract_index_ivf(store.faiss_index("text")).nprobe == 8
    assert faiss.downcast_index(store.faiss_index("image")).hnsw.efSearch == 64
    with pytest.raises(ConfigError, match="efSearch=64 does not apply"):
        _searcher(ann_index, SearchConfig(search_params={"text": {"efSearch": 64}}))
    with pytest.raises(ConfigError, match="no vector field 'nope'"):
        _searcher(ann_index, SearchConfig(search_params={"nope": {"nprobe": 2}}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"search_params": {"text": {"probes": 3}}}))
    with pytest.raises(ConfigError, match="unknown parameter"):
        load_search_config(bad)
    bad.write_text(json.dumps({"search_params": {"text": {"nprobe": 0}}}))
    with pytest.raises(ConfigError, match="values must be from 1"):
        load_search_config(bad)


def test_ann_space_keeps_only_values_above_the_floor_and_restores_the_index(ann_index):
    store = _searcher(ann_index).index.vector_store
    space = ann_space(store, min_recall=0.9)
    assert space is not None and space.params == {"text": "nprobe", "image": "efSearch", "clip_text": "nprobe"}
    assert space.recall["text"][16] == 1.0  # every list probed: exact
    assert space.recall["text"][1] < 0.9 and 1 not in space.choices["text"]  # the recorded value is under the floor
    for f in space.params:
        assert space.choices[f] and all(space.recall[f][v] >= 0.9 for v in space.choices[f])
    assert search_param_of(store.faiss_index("text")) == ("nprobe", 1)  # measured, then set back
    with using_search_params(store, {"text": {"nprobe": 4.0}}):
        assert search_param_of(store.faiss_index("text")) == ("nprobe", 4)
    assert search_param_of(store.faiss_index("text")) == ("nprobe", 1)


def test_budgeted_tune_searches_ann_parameters_and_the_tuned_mode_uses_them(ann_cli, tmp_path, capsys):
    out = tmp_path / "tune"
    assert main(["eval", "tune", "--index", str(ann_cli), *REL, "--latency-budget-ms", "1000", "--trials", "5",
                 "--latency-queries", "4", "--min-recall", "0.9", "--out", str(out), "--no-progress",
                 "--no-plots"]) == 0
    study = json.loads((out / "tune.json").read_text())
    ann = study["ann"]["fields"]
    assert ann["text"]["param"] == "nprobe" and ann["text"]["recorded"] == 1 and 1 not in ann["text"]["allowed"]
    for trial in study["all_trials"]:
        params = trial["config"]["search_params"]
        assert int(params["text"]["nprobe"]) in ann["text"]["allowed"]
        assert int(params["image"]["efSearch"]) in ann["image"]["allowed"]
    config = load_search_config(out / "search_config.json")
    assert int(config.search_params["text"]["nprobe"]) in ann["text"]["allowed"]
    report = json.loads((out / "report.json").read_text())
    assert report["modes"]["tuned"]["config"]["search_params"] == config.search_params
    capsys.readouterr()
    # --no-ann: the parameters stay as the index records them
    assert main(["eval", "tune", "--index", str(ann_cli), *REL, "--latency-budget-ms", "1000", "--trials", "2",
                 "--latency-queries", "3", "--no-ann", "--out", str(tmp_path / "plain"), "--no-progress",
                 "--no-plots"]) == 0
    assert load_search_config(tmp_path / "plain" / "search_config.json").search_params == {}
    assert main(["eval", "tune", "--index", str(ann_cli), *REL, "--latency-budget-ms", "1000", "--min-recall", "2",
                 "--out", str(tmp_path / "x"), "--no-progress", "--no-plots"]) == 2
    assert "--min-recall 2.0: expected a number between 0 and 1" in capsys.readouterr().err
