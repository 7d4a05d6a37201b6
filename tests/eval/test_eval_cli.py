"""The CI end-to-end check: the fixture catalog indexed with the REAL default encoders, then `prodsearch eval run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prodsearch.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"


def test_eval_commands_are_registered():
    parser = build_parser()
    args = parser.parse_args(["eval", "run", "--index", "i", "--queries", "q", "--qrels", "r", "--modes", "bm25,tuned"])
    assert args.modes == ["bm25", "tuned"]
    for action in ("build-qrels", "tune", "compare", "load"):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(["eval", action, "--help"])
        assert exc.value.code == 0


def test_bad_relevance_file_exits_with_a_clear_error(tmp_path, capsys, synthetic_index):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "text": "red"}\n{"id": "a", "text": "blue"}\n{"id": "b", "product_id": "zz"}\n')
    qrels = tmp_path / "r.txt"
    qrels.write_text("a 0 s001 1\n")
    # relevance files are checked against the index before any model loads
    code = main(["eval", "run", "--index", str(synthetic_index), "--queries", str(queries), "--qrels", str(qrels),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(queries) in err and "line 2: duplicate query id 'a'" in err
    assert "line 3: query b: unknown product_id 'zz' (not in the index)" in err


@pytest.mark.slow
def test_report_end_to_end_on_the_fixture_catalog_with_real_encoders(tmp_path, capsys):
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import load_encoders

    index = tmp_path / "index"
    build_index(load_catalog(FIXTURES / "catalog.jsonl"), index, load_encoders(device="cpu"), progress=False)
    out = tmp_path / "report"
    code = main(["eval", "run", "--index", str(index), "--queries", str(FIXTURES / "relevance" / "queries.jsonl"),
                 "--qrels", str(FIXTURES / "relevance" / "qrels.txt"), "--out", str(out), "--no-progress",
                 "--device", "cpu"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| fused-rrf |" in printed and "p95 ms" in printed
    report = json.loads((out / "report.json").read_text())
    assert set(report["modes"]) == {"lexical", "semantic", "visual", "attributes", "fused-rrf", "fused-weighted"}
    assert report["meta"]["queries"] == 84 and report["baseline"] == "lexical"
    assert report["modes"]["semantic"]["metrics"]["ndcg@10"] > 0.3  # real text model finds the right products
    assert report["modes"]["lexical"]["unanswered"] == 40  # photo and product-id queries: no lexical signal
    for name in ("report.md", "metrics.png", "latency.png", "recall_at_k.png", "runs/semantic.trec", "qrels.txt"):
        assert (out / name).is_file(), name
