"""The runner, report, tuning and compare on the synthetic index with the fake encoders (fast)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval.compare import compare_reports, render_compare
from eval.derive import derive_relevance, write_derived
from eval.modes import resolve_modes
from eval.pipeline import evaluate_modes, relevance_for, tune_and_evaluate
from eval.relevance import load_relevance
from eval.runner import cached_encoders, run_modes
from indexer.catalog import load_catalog
from indexer.encoders import Encoders
from search.config import load_search_config
from search.searcher import Searcher
from search.types import SearchRequest


class Counting:
    """Counts calls reaching the wrapped encoder."""

    def __init__(self, inner):
        self.inner, self.name, self.dim, self.calls = inner, inner.name, inner.dim, 0
        self.trained = True

    def encode_texts(self, texts):
        self.calls += 1
        return self.inner.encode_texts(texts)

    def encode_images(self, images):
        self.calls += 1
        return self.inner.encode_images(images)


@pytest.fixture(scope="module")
def relevance_dir(synthetic_catalog, tmp_path_factory):
    out = tmp_path_factory.mktemp("rel")
    derived = derive_relevance(load_catalog(synthetic_catalog), n_text=24, n_photo=6, min_support=2, seed=1,
                               queries_dir=out)
    write_derived(derived, out)
    return out


def test_every_query_is_encoded_once_in_batch(synthetic_index, fake_encoders, relevance_dir):
    counting = Encoders(text=Counting(fake_encoders.text), clip=Counting(fake_encoders.clip))
    searcher = Searcher.open(synthetic_index, cached_encoders(counting))
    rel = relevance_for(searcher, relevance_dir / "queries.jsonl", relevance_dir / "qrels.txt")
    result = run_modes(searcher, resolve_modes(["lexical", "semantic", "visual", "fused-rrf", "fused-weighted"]),
                       rel.queries, progress=False)
    assert counting.text.calls == 1          # one batch of every query text
    assert counting.clip.calls == 2          # one batch of texts, one of photos
    lexical = result.runs["lexical"]
    photo_ids = {q.id for q in rel.queries if q.kind == "image"}
    assert set(lexical.unanswered) == photo_ids and all(lexical.ranked[q] == [] for q in photo_ids)
    assert not result.runs["fused-rrf"].unanswered
    assert len(result.runs["semantic"].latencies_ms) == len(rel.queries) - len(photo_ids)
    # the eval ranking is exactly what the Searcher returns for that request
    q = next(q for q in rel.queries if q.kind == "text")
    direct = Searcher.open(synthetic_index, fake_encoders).search(
        SearchRequest(text=q.text, k=50, **resolve_modes(["fused-rrf"])[0].request_overrides()))
    assert result.runs["fused-rrf"].ranked[q.id][:50] == [h.product.id for h in direct.hits]


def test_report_tune_and_compare_end_to_end(synthetic_index, synthetic_catalog, fake_encoders, relevance_dir,
                                            tmp_path):
    searcher = Searcher.open(synthetic_index, cached_encoders(fake_encoders))
    rel = load_relevance(relevance_dir / "queries.jsonl", relevance_dir / "qrels.txt",
                         image_roots=[synthetic_catalog.parent])
    modes = resolve_modes(["bm25", "semantic", "visual", "fused-rrf"])
    report = evaluate_modes(searcher, rel, modes, tmp_path / "a", baseline="bm25", progress=False)
    for name in ("report.md", "report.json", "qrels.txt", "metrics.png", "latency.png", "recall_at_k.png",
                 "runs/bm25.trec", "runs/fused-rrf.trec"):
        assert (tmp_path / "a" / name).is_file(), name
    saved = json.loads((tmp_path / "a" / "report.json").read_text())
    assert saved["meta"]["relevance"]["derived"] is True
    assert set(saved["modes"]["semantic"]["metrics"]) >= {"recall@10", "recall@50", "recall@100", "ndcg@10", "mrr",
                                                         "map@100", "precision@10"}
    assert set(saved["modes"]["semantic"]["latency_ms"]) >= {"p50", "p95", "p99", "qps"}
    assert saved["significance"]["semantic"]["ndcg@10"]["p_value"] is not None
    md = (tmp_path / "a" / "report.md").read_text()
    assert "Derived relevance set" in md and "| fused-rrf |" in md
    first = (tmp_path / "a" / "runs" / "fused-rrf.trec").read_text().splitlines()[0].split()
    assert first[1] == "Q0" and first[3] == "1"
    assert report["targets"]["best_single"] in ("bm25", "semantic", "visual")

    config, tuned, test_report = tune_and_evaluate(searcher, rel, tmp_path / "t", progress=False, plots=False,
                                                   modes=modes, baseline="bm25")
    loaded = load_search_config(tmp_path / "t" / "search_config.json")
    assert loaded.weights == config.weights and loaded.fusion == config.fusion
    assert tuned.best_score >= tuned.default_score
    assert "tuned" in test_report["modes"] and test_report["meta"]["split"] == "test"
    tune_summary = json.loads((tmp_path / "t" / "tune.json").read_text())
    assert tune_summary["train_queries"] > 0
    assert loaded.relevance_cutoff == tune_summary["relevance_cutoff"]["cutoff"]  # calibrated on train, written
    # the Searcher serves the tuned config
    tuned_searcher = Searcher.open(synthetic_index, fake_encoders, loaded)
    assert tuned_searcher.search(SearchRequest(text="red shoes")).hits

    with pytest.raises(Exception, match="qrels differ"):
        compare_reports([tmp_path / "a", tmp_path / "t"], mode="bm25")
    evaluate_modes(searcher, rel, resolve_modes(["bm25", "fused-weighted", "fused-rrf"]), tmp_path / "b",
                   progress=False, plots=False)
    result = compare_reports([tmp_path / "a", tmp_path / "b"], labels=["A", "B"])
    assert result["mode"] == "fused-rrf"
    b = result["variants"][1]
    assert b["significance"]["ndcg@10"]["delta"] == pytest.approx(0.0)
    assert "latency_delta_ms" in b
    assert "| B |" in render_compare(result)
    two_weightings = compare_reports([f"{tmp_path / 'b'}:fused-weighted", f"{tmp_path / 'b'}:fused-rrf"])
    assert [v["mode"] for v in two_weightings["variants"]] == ["fused-weighted", "fused-rrf"]


def test_shared_text_tower_still_encodes_every_query_once(tmp_path, synthetic_catalog, relevance_dir):
    """With a CLIP whose text tower is the text encoder, `visual` mode (no `semantic`) must hit the cache too."""
    from support import FakeClipEncoder

    from indexer.build import build_index

    class Tower(FakeClipEncoder):
        name, text_tower = "tower-as-text", "same"

    class SharedClip(FakeClipEncoder):
        text_tower = "same"

    text, clip = Counting(Tower()), Counting(SharedClip())
    text.text_tower = clip.text_tower = "same"
    build_index(load_catalog(synthetic_catalog), tmp_path / "idx", Encoders(text=Tower(), clip=SharedClip()),
                progress=False)
    searcher = Searcher.open(tmp_path / "idx", cached_encoders(Encoders(text=text, clip=clip)))
    rel = relevance_for(searcher, relevance_dir / "queries.jsonl", relevance_dir / "qrels.txt")
    run_modes(searcher, resolve_modes(["semantic", "visual", "fused-rrf"]), rel.queries, progress=False)
    assert searcher.encoders.text.misses == 0 and searcher.encoders.clip.misses == 0
    assert text.calls == 1 and clip.calls == 2  # texts once per encoder (visual runs alone), photos once


def test_photo_cache_is_keyed_by_pixels_not_object_identity(fake_encoders):
    """A freed photo's id() can be reused by a new one; the cache must not hand back the old embedding."""
    from PIL import Image

    cached = cached_encoders(fake_encoders).clip
    for colour in [(220, 30, 30), (30, 60, 220), (30, 170, 40), (20, 20, 20)] * 3:
        photo = Image.new("RGB", (32, 32), colour)
        got = cached.encode_images([photo])
        assert np.allclose(got, fake_encoders.clip.encode_images([photo])), colour
        del photo
    assert len(cached.images) == 4  # one entry per distinct photo
