"""The console script end to end on the fixture catalog with the real default models."""

import json

import pytest
from support import REPO, run_cli

pytestmark = pytest.mark.slow


def test_build_prints_a_summary(real_fixture_index):
    out = (real_fixture_index / "build-output.txt").read_text()
    assert "products: 312" in out and "images indexed: 312" in out and "seconds per stage" in out
    info = run_cli("index", "info", str(real_fixture_index))
    assert info.returncode == 0 and json.loads(info.stdout)["counts"]["products"] == 312
    manifest = json.loads(info.stdout)
    # the default MiniLM + default CLIP share a text tower: captions embedded once, one vector set
    assert manifest["text_recipe"] == "caption" and manifest["shared_text_vectors"] is True
    assert not (real_fixture_index / "current" / "clip_text.faiss").exists()
    assert "embedded" in out and "from cache" in out


def test_query_red_tshirt_gives_red_tshirts(real_fixture_index):
    result = run_cli("query", "--index", str(real_fixture_index), "red t-shirt", "-k", "5", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    red_tees = [h for h in hits if h["product"]["attributes"]["colour"] == "Red"
                and h["product"]["attributes"]["article_type"] == "T-Shirts"]
    assert len(red_tees) >= 3, [h["product"]["title"] for h in hits]


def test_query_by_fixture_photo_finds_that_product(real_fixture_index):
    result = run_cli("query", "--index", str(real_fixture_index), "--image", str(REPO / "fixtures/images/p0007.png"),
                     "-k", "5", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    assert hits[0]["product"]["id"] == "p0007"
    assert hits[0]["signals"]["image"]["rank"] == 1


def test_bad_catalog_fails_listing_every_row_and_writes_nothing(tmp_path):
    out = tmp_path / "idx"
    result = run_cli("index", "build", "--catalog", str(REPO / "fixtures/bad_catalog.jsonl"), "--out", str(out))
    assert result.returncode == 2
    assert "invalid row(s); nothing was written" in result.stderr and "line 2:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args,needle", [
    (["index", "build", "--catalog", "nope.jsonl", "--out", "x"], "catalog not found"),
    (["index", "build", "--catalog", "fixtures/catalog.jsonl", "--out", "x", "--factory", "Bogus"], "invalid FAISS factory"),
    (["query", "--index", "does-not-exist", "red"], "no index at"),
    (["index", "build", "--catalog", "fixtures/catalog.jsonl", "--out", "x", "--text-recipe", "bogus"], "unknown text recipe"),
])
def test_user_errors_print_one_line_without_traceback(args, needle):
    result = run_cli(*args)
    assert result.returncode == 2 and needle in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["query", "serve"])
def test_a_bad_synonyms_file_fails_before_the_index_loads(command, tmp_path):
    wide = tmp_path / "wide.txt"
    wide.write_text(", ".join(f"p{i}" for i in range(4000)) + "\n", encoding="utf-8")
    args = ["--index", "does-not-exist", "--synonyms", str(wide)] + (["red"] if command == "query" else [])
    result = run_cli(command, *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{wide}:1: 4000 phrases; a rule lists at most" in result.stderr


@pytest.mark.parametrize("filters, says", [
    ('{"attributes":' + "[" * 30_000 + "]" * 30_000 + "}", "--filters: not valid JSON (nested too deeply)"),
    ('{"price_max": 1' + "0" * 5000 + "}", "--filters: not valid JSON (a number of more than"),
    ('{"price_max": -1}', "filters.price_max: Input should be greater than or equal to 0"),
])
def test_bad_filters_are_one_line_before_the_index_loads(filters, says):
    result = run_cli("query", "--index", "does-not-exist", "--filters", filters, "red")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and says in result.stderr
