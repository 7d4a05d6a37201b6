"""The fashion benchmarks' photo queries come from the dataset folder, outside the catalog's: the scripts must allow
that folder (as `index build --images-root` does), or a derived set has no photo query and its loader refuses the
larger photos (both happened once photo paths were confined)."""

from __future__ import annotations

import csv
import json

import pytest
from support import SHARED_FASHION, load_benchmark

ranker_bench = load_benchmark("fashion_ranker")


@pytest.mark.shared
def test_fashion_ranker_derives_larger_photo_queries_its_eval_accepts(tmp_path):
    if not (SHARED_FASHION / "images_224").is_dir() or not (SHARED_FASHION / "products.csv").is_file():
        pytest.skip(f"fashion dataset (with images_224) absent at {SHARED_FASHION}")
    from eval.relevance import RelevanceError, load_relevance
    from indexer.adapters.fashion import fashion_row_to_product

    with open(SHARED_FASHION / "products.csv", encoding="utf-8", newline="") as fh:
        rows = []
        for row in csv.DictReader(fh):
            product = fashion_row_to_product(row, SHARED_FASHION / "images_60x80")
            if product and product["images"] and (SHARED_FASHION / "images_224" / f"{product['id']}.jpg").is_file():
                rows.append(product)
            if len(rows) == 300:
                break
    catalog = tmp_path / "catalog.jsonl"  # photos stay in the dataset, outside this folder
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "relevance"
    ranker_bench.derive(catalog, out, n_text=10, n_photo=5, seed=13)
    photos = [json.loads(line) for line in (out / "queries.jsonl").read_text().splitlines() if '"image"' in line]
    assert len(photos) == 5 and all("/images_224/" in q["image"] for q in photos)
    with pytest.raises(RelevanceError, match="outside the allowed image folders"):
        load_relevance(out / "queries.jsonl", out / "qrels.txt")
    loaded = load_relevance(out / "queries.jsonl", out / "qrels.txt", image_roots=[SHARED_FASHION])
    assert sum(q.kind == "image" for q in loaded.queries) == 5
