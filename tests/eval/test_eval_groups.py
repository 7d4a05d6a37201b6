"""Eval per kind and family, and perturbed variants (`eval.groups`, `eval.perturb`, `build-qrels --perturb`)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from eval.perturb import PerturbError, add_typos, load_shop_synonyms, perturb_queries, swap_synonyms
from eval.relevance import load_queries
from prodsearch.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
QUERIES = [{"id": "a", "text": "red cotton shirts for women", "split": "train", "family": "colour+gender+type"},
           {"id": "b", "text": "black shoes", "split": "test"}, {"id": "c", "image": "x.png"},
           {"id": "d", "text": "tee", "split": "test"}]


def test_typos_are_seeded_per_query_and_keep_the_first_letter():
    one = perturb_queries(QUERIES, ["typos"], seed=7, synonyms=dict)
    again = perturb_queries(list(reversed(QUERIES)), ["typos"], seed=7, synonyms=dict)
    assert {v["id"]: v["text"] for v in one} == {v["id"]: v["text"] for v in again}  # order does not matter
    other = perturb_queries(QUERIES, ["typos"], seed=8, synonyms=dict)
    assert [v["text"] for v in one] != [v["text"] for v in other]
    by_id = {v["of"]: v for v in one}
    assert set(by_id) == {"a", "b"}  # no photo query; "tee" has no word of four letters
    a = by_id["a"]
    assert a["id"] == "a~typos" and a["perturb"] == "typos" and a["split"] == "train"
    assert a["family"] == "colour+gender+type" and a["text"] != "red cotton shirts for women"
    for clean, typo in zip(["red", "cotton", "shirts", "for", "women"], a["text"].split(), strict=True):
        assert clean[0] == typo[0] and abs(len(clean) - len(typo)) <= 1
    assert sum(c != t for c, t in zip(["red", "cotton", "shirts", "for", "women"], a["text"].split(), strict=True)) == 2


def test_add_typos_makes_one_slip_in_short_queries():
    text = add_typos("black shoes", random.Random(1))
    assert text != "black shoes" and sum(a != b for a, b in zip(text.split(), ["black", "shoes"], strict=True)) == 1


def test_synonyms_replace_phrases_longest_first():
    table = {"t-shirts": ["tees"], "women": ["ladies"], "black shoes": ["black footwear"]}
    assert swap_synonyms("women's t-shirts", table, random.Random(0)) == "women's tees"  # "women's" is not "women"
    assert swap_synonyms("black shoes for women", table, random.Random(0)) == "black footwear for ladies"
    out = perturb_queries(QUERIES, ["synonyms"], seed=1, synonyms=lambda: table)
    assert [v["text"] for v in out] == ["red cotton shirts for ladies", "black footwear"]


def test_unknown_perturbation_is_a_clear_error():
    with pytest.raises(PerturbError, match="unknown"):
        perturb_queries(QUERIES, ["emoji"], seed=1)


def test_shipped_synonyms_rephrase_catalog_values_the_way_shoppers_do(tmp_path):
    table = load_shop_synonyms()
    assert "ladies" in table["women"] and "frock" in table["dresses"]
    out = perturb_queries([{"id": "a", "text": "dresses for women"}], ["synonyms"], seed=3)
    assert len(out) == 1 and out[0]["text"] != "dresses for women" and "for for" not in out[0]["text"]
    shop = tmp_path / "shop.txt"
    shop.write_text("zibbet => Waistcoat\n")  # a shop's own word joins the shipped ones ("gilet", "waist coat"...)
    assert "zibbet" in load_shop_synonyms([str(shop)])["waistcoat"] and "zibbet" not in load_shop_synonyms()["waistcoat"]


def test_variants_must_name_an_original(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "text": "red"}\n{"id": "b", "text": "rde", "perturb": "typos", "of": "zz"}\n'
                    '{"id": "c", "text": "rde", "perturb": "typos"}\n')
    with pytest.raises(Exception) as exc:
        load_queries(path)
    assert "go together" in str(exc.value) and "not in the file: ['zz']" in str(exc.value)


def test_build_qrels_with_typos_then_a_report_per_kind_family_and_perturbation(fake_fixture_cli, tmp_path, capsys):
    rel = tmp_path / "rel"
    assert main(["eval", "build-qrels", "--catalog", str(FIXTURES / "catalog.jsonl"), "--out", str(rel),
                 "--text-queries", "40", "--photo-queries", "6", "--min-support", "2", "--perturb", "typos,synonyms"]) == 0
    assert "perturbed variants of the text queries: typos" in capsys.readouterr().out
    rows = [json.loads(line) for line in (rel / "queries.jsonl").read_text().splitlines()]
    variants = [r for r in rows if r.get("perturb") == "typos"]
    assert variants and all(r["family"] for r in rows if r["kind"] == "text")
    first = (rel / "queries.jsonl").read_text()
    assert main(["eval", "build-qrels", "--catalog", str(FIXTURES / "catalog.jsonl"), "--out", str(tmp_path / "again"),
                 "--text-queries", "40", "--photo-queries", "6", "--min-support", "2", "--perturb", "typos,synonyms"]) == 0
    assert (tmp_path / "again" / "queries.jsonl").read_text().replace(str(tmp_path / "again"), "") == \
        first.replace(str(rel), "")  # same seed, same variants

    out = tmp_path / "report"
    assert main(["eval", "run", "--index", str(fake_fixture_cli), "--queries", str(rel / "queries.jsonl"),
                 "--qrels", str(rel / "qrels.txt"), "--modes", "lexical,semantic,visual,default", "--out", str(out),
                 "--no-progress", "--no-plots"]) == 0
    report = json.loads((out / "report.json").read_text())
    default = report["modes"]["default"]
    assert set(default["by_kind"]) == {"text", "image"}
    assert default["by_kind"]["text"]["n"] == sum(r["kind"] == "text" and not r.get("perturb") for r in rows)
    families = {r["family"] for r in rows if r["kind"] == "text"}
    assert set(default["by_family"]) == families
    typo = default["by_perturbation"]["typos"]
    assert typo["n"] == len(variants) and typo["ratio"] == pytest.approx(typo["ndcg@10"] / typo["clean_ndcg@10"])
    groups = report["targets"]["groups"]
    assert set(groups["by_kind"]) == {"text", "image"} and set(groups["by_family"]) == families
    assert all(g["best_fused"] == "default" == g["reference_mode"] for g in groups["by_kind"].values())
    text = groups["by_kind"]["text"]
    single = report["modes"][text["best_single"]]["by_kind"]["text"]["ndcg@10"]
    assert text["reference"] == pytest.approx(default["by_kind"]["text"]["ndcg@10"])
    assert text["other"] == pytest.approx(single) and text["delta"] == pytest.approx(text["reference"] - single)
    assert text["n"] < 50 and not text["tested"] and text["verdict"].startswith("n < 50: not tested")
    assert 0 < text["p_value"] <= 1
    assert groups["robustness"]["typos"]["default"]["target"] == 0.95
    assert groups["robustness"]["synonyms"]["default"]["target"] == 0.97
    md = (out / "report.md").read_text()
    assert "## ndcg@10 by query family" in md and "## Robustness" in md and "| text |" in md and "n < 50: not tested" in md


def test_synonym_variants_mean_the_same_thing():
    """Each span is replaced once (never a replacement's own words again), a brand stays whole, no word doubles at
    a seam, and with the catalog's values a phrase naming two of them ("blouse" -> Tops, Shirts) replaces neither."""
    table = {"navy blue": ["dark blue"], "blue": ["royal blue"], "sports": ["workout"], "casual": ["casual wear"]}
    assert swap_synonyms("navy blue shorts", table, random.Random(0)) == "dark blue shorts"  # not "dark royal blue"
    assert swap_synonyms("F Sports shoes", table, random.Random(0), keep=["F Sports"]) == "F Sports shoes"
    assert swap_synonyms("tops for casual wear", table, random.Random(0)) == "tops for casual wear"  # no "wear wear"
    assert swap_synonyms("casual tops", table, random.Random(0)) == "casual wear tops"
    assert "blouse" in load_shop_synonyms()["shirts"]  # without the catalog: every rule's target
    fair = load_shop_synonyms(catalog_keys={"shirt", "top", "women", "navyblue"})
    assert "blouse" not in fair.get("shirts", []) and "blouse" not in fair.get("tops", [])
    assert "ladies" in fair["women"] and "midnight" in fair["navy blue"]  # "Navy" is no value here: one value named


def test_a_typo_never_makes_another_catalog_word():
    """"shorts" can slip to "shirts" (a neighbouring key); given the catalog's words, that slip is drawn again."""
    seeds = [s for s in range(200) if add_typos("shorts", random.Random(s)) == "shirts"]
    assert seeds  # the slip happens without the catalog's words
    for s in seeds:
        assert add_typos("shorts", random.Random(s), known={"shorts", "shirts"}) not in {"shirts", "shorts"}
