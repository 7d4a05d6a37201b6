"""Metrics of `prodsearch eval model` on hand-computed cases, against ranx, and end to end."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from eval.model_eval import (
    add_model_command,
    attribute_queries,
    compute_metrics,
    group_ranks,
    mrr,
    precision_ndcg_at,
    random_unit,
    recall_at,
    rrf,
    target_ranks,
    top_k,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURE_CATALOG = REPO / "fixtures" / "catalog.jsonl"


def test_ranks_recall_mrr_by_hand():
    gallery = np.eye(3, dtype=np.float32)
    queries = np.array([[0.9, 0.1, 0.0], [0.6, 0.5, 0.0]], dtype=np.float32)
    ranks = target_ranks(queries, gallery, np.array([0, 1]))
    assert ranks.tolist() == [0, 1]
    assert recall_at(ranks, 1) == 0.5 and recall_at(ranks, 2) == 1.0
    assert mrr(ranks) == pytest.approx((1 + 0.5) / 2)
    # same title: query 0's only same-title photo is row 2 (two rows above it); query 1's group
    # also holds row 0, which it ranks first
    assert group_ranks(queries, gallery, np.array([9, 8]), np.array([8, 8, 9])).tolist() == [2, 0]


def test_top_k_and_rrf():
    scores = np.array([[0.1, 0.9, 0.5]])
    assert top_k(scores, 2).tolist() == [[1, 2]]
    lists = [np.array([[0, 2, 1]]), np.array([[1, 2, 0]]), np.array([[2, 0, 1]])]
    expected = {item: sum(1 / (61 + list(r[0]).index(item)) for r in lists) for item in range(3)}
    assert rrf(lists, k=60)[0].tolist() == sorted(expected, key=expected.get, reverse=True) == [2, 0, 1]


def test_precision_and_ndcg_by_hand():
    grades = np.array([[2, 0, 1, 0]])
    ranked = np.array([[1, 0, 2, 3]])
    p, ndcg = precision_ndcg_at(ranked, grades, k=2)
    assert p == 0.5
    dcg = 2 / np.log2(3)
    idcg = 2 + 1 / np.log2(3)
    assert ndcg == pytest.approx(dcg / idcg)


@pytest.mark.slow  # ranx compiles its numba kernels on first use
def test_metrics_agree_with_ranx():
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(0)
    grades = rng.integers(0, 3, size=(5, 30))
    ranked = np.stack([rng.permutation(30) for _ in range(5)])
    p, ndcg = precision_ndcg_at(ranked, grades, k=10)
    qrels = ranx.Qrels({f"q{q}": {f"d{d}": int(g) for d, g in enumerate(grades[q]) if g > 0} for q in range(5)})
    run = ranx.Run({f"q{q}": {f"d{d}": float(30 - r) for r, d in enumerate(ranked[q])} for q in range(5)})
    theirs = ranx.evaluate(qrels, run, ["precision@10", "ndcg@10"])
    assert p == pytest.approx(theirs["precision@10"])
    assert ndcg == pytest.approx(theirs["ndcg@10"])


def test_attribute_queries_are_graded():
    attrs = [{"colour": "Red", "gender": "Men", "article_type": "Shirts"},
             {"colour": "Blue", "gender": "Men", "article_type": "Shirts"},
             {"colour": "Red", "gender": "Women", "article_type": "Heels"},
             {"colour": "Red"}]
    queries, grades = attribute_queries(attrs)
    assert queries == ["blue men shirts", "red men shirts", "red women heels"]
    assert grades.tolist() == [[1, 2, 0, 0], [2, 1, 0, 0], [0, 0, 2, 0]]


def test_random_baseline_is_near_chance_and_perfect_embeddings_score_one():
    rng = np.random.default_rng(1)
    n, d = 400, 32
    held = np.zeros(n, bool)
    held[::4] = True
    titles = [f"t{i}" for i in range(n)]
    attrs = [{"colour": f"c{i % 5}", "gender": "g", "article_type": f"a{i % 3}"} for i in np.flatnonzero(held)]
    queries, grades = attribute_queries(attrs)
    rand = compute_metrics(random_unit(n, d, rng), random_unit(n, d, rng), random_unit(len(queries), d, rng),
                           held, titles, grades)
    assert rand["title2photo_all_R@10"] < 0.15
    same = random_unit(n, d, rng)
    perfect = compute_metrics(same, same, random_unit(len(queries), d, rng), held, titles, grades)
    assert perfect["title2photo_all_R@1"] == 1.0 and perfect["title2photo_heldout_MRR"] == 1.0


@pytest.mark.slow
def test_eval_model_command_on_fixture_catalog(tmp_path, capsys):
    if not FIXTURE_CATALOG.is_file():
        pytest.skip("fixtures/catalog.jsonl not generated")
    parser = argparse.ArgumentParser()
    add_model_command(parser.add_subparsers(dest="cmd"))
    out = tmp_path / "metrics.json"
    args = parser.parse_args(["model", "--catalog", str(FIXTURE_CATALOG), "--cache-dir", str(tmp_path),
                              "--json", str(out)])
    assert args.func(args) == 0
    table = capsys.readouterr().out
    assert "title2photo_all_R@10" in table and "random" in table
    import json

    results = json.loads(out.read_text())
    for name in ("model", "random"):
        assert 0.0 <= results[name]["attr_visual_nDCG@10"] <= 1.0
        assert results[name]["held_out_products"] > 0


def _catalog_with_photos_elsewhere(tmp_path: Path, n: int = 12) -> tuple[Path, Path]:
    """The first ``n`` fixture rows in tmp/cat/, their photos copied to tmp/x/ and named by absolute path."""
    import json

    (tmp_path / "cat").mkdir()
    (tmp_path / "x").mkdir()
    rows = []
    for line in FIXTURE_CATALOG.read_text().splitlines()[:n]:
        row = json.loads(line)
        src = FIXTURE_CATALOG.parent / row["images"][0]
        (tmp_path / "x" / src.name).write_bytes(src.read_bytes())
        row["images"] = [str(tmp_path / "x" / src.name)]
        rows.append(json.dumps(row))
    (tmp_path / "cat" / "catalog.jsonl").write_text("\n".join(rows) + "\n")
    return tmp_path / "cat" / "catalog.jsonl", tmp_path / "x"


def test_eval_model_reads_photos_only_where_index_build_would(tmp_path, monkeypatch):
    """`eval model` used to open every local photo a catalog named; `index build` refuses those outside its folder."""
    import indexer.clip_models
    import indexer.training.data
    from indexer.training.data import TrainingDataError

    catalog, elsewhere = _catalog_with_photos_elsewhere(tmp_path)
    monkeypatch.setattr(indexer.clip_models, "create_clip", lambda *a, **k: argparse.Namespace(preprocess=None))
    opened: list[list[str]] = []

    def record(paths, *a, **k):
        opened.append(list(paths))
        raise RuntimeError("stop after choosing the photos")

    monkeypatch.setattr(indexer.training.data, "load_photos", record)
    parser = argparse.ArgumentParser()
    add_model_command(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["model", "--catalog", str(catalog), "--cache-dir", ""])
    with pytest.raises(TrainingDataError, match="12 outside the allowed image folders; pass --images-root"):
        args.func(args)
    assert opened == []
    args = parser.parse_args(["model", "--catalog", str(catalog), "--cache-dir", "", "--images-root", str(elsewhere)])
    with pytest.raises(RuntimeError, match="stop after"):
        args.func(args)
    assert len(opened[0]) == 12 and all(Path(p).parent == elsewhere.resolve() for p in opened[0])
