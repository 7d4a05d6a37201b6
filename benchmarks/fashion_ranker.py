"""Issue #13 sections 2-4 on the real fashion catalog: ranker vs fusion, exact photo first, per-kind figures.

Given a built fashion index and its catalog (e.g. from `benchmarks/fashion_eval.py`), this derives a
relevance set whose photo queries upload the product's *larger* photo (``images_224``, while the index
holds ``images_60x80``), adds typo and synonym variants, trains the ranker on the train split, and runs
`eval run` on the test split with and without it. It then uploads the larger photo of products and
counts how often the product comes first, with and without the exact-photo rule.

    .venv/bin/python benchmarks/fashion_ranker.py --index .prodsearch/fashion-eval/index-10000-Flat \
        --catalog .prodsearch/fashion-eval/catalog-10000.jsonl [--out .prodsearch/fashion-ranker]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATASET = REPO.parent / "shared" / "datasets" / "fashion-product-images"
logger = logging.getLogger("fashion_ranker")


def derive(catalog_path: Path, out: Path, n_text: int, n_photo: int, seed: int) -> None:
    from eval.derive import derive_relevance, write_derived
    from eval.perturb import catalog_value_keys, catalog_words, load_shop_synonyms, perturb_queries
    from indexer.catalog import load_catalog

    catalog = load_catalog(catalog_path, skip_invalid=True)
    catalog.images_root = DATASET  # the photos stay in the dataset folder, outside the catalog's (as built)
    derived = derive_relevance(catalog, n_text=n_text, n_photo=n_photo, seed=seed, queries_dir=out)
    for q in derived.queries:  # upload the larger photo of the product, as a shopper's copy would be
        if q.get("image"):
            large = DATASET / "images_224" / Path(q["image"]).name
            if large.is_file():
                q["image"] = os.path.relpath(large, out.resolve())
    keys = catalog_value_keys(catalog.products)
    variants = perturb_queries(derived.queries, ["typos", "synonyms"], seed,
                               synonyms=lambda: load_shop_synonyms(catalog_keys=keys),
                               known_words=catalog_words(catalog.products))
    for v in variants:
        derived.qrels[v["id"]] = derived.qrels[v["of"]]
    derived.queries.extend(variants)
    write_derived(derived, out)


def exact_photo_check(index: Path, catalog_path: Path, n: int, seed: int) -> dict[str, float]:
    """Upload the larger photo of ``n`` seeded products: how often is the product first, with and without the rule."""
    import random

    from PIL import Image

    from eval.runner import open_searcher
    from search.types import SearchRequest

    searcher = open_searcher(index)
    rows = [json.loads(line) for line in catalog_path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if (DATASET / "images_224" / f"{r['id']}.jpg").is_file()
            and r["id"] in searcher.index.store.row_of]
    sample = random.Random(seed).sample(rows, min(n, len(rows)))
    first = {True: 0, False: 0}
    start = time.perf_counter()
    for r in sample:
        with Image.open(DATASET / "images_224" / f"{r['id']}.jpg") as im:
            photo = im.convert("RGB")
        for rule in (True, False):
            searcher.config = searcher.config.model_copy(update={"exact_photo_first": rule})
            hits = searcher.search(SearchRequest(k=10), photo).hits
            first[rule] += bool(hits) and hits[0].product.id == r["id"]
    return {"photos": len(sample), "first_with_rule": first[True], "first_without_rule": first[False],
            "rule": searcher.exact_photo_rule(), "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=REPO / ".prodsearch" / "fashion-ranker")
    parser.add_argument("--text-queries", type=int, default=400)
    parser.add_argument("--photo-queries", type=int, default=150)
    parser.add_argument("--exact-photos", type=int, default=300)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    if not (DATASET / "images_224").is_dir() or not args.index.is_dir():
        print(f"SKIPPED: needs {DATASET}/images_224 and a built index at {args.index}")
        return 0
    from prodsearch.cli import main as cli

    out = args.out
    rel = out / "relevance"
    steps: dict[str, float] = {}
    t = time.perf_counter()
    derive(args.catalog, rel, args.text_queries, args.photo_queries, args.seed)
    steps["derive"] = time.perf_counter() - t
    common = ["--index", str(args.index), "--queries", str(rel / "queries.jsonl"), "--qrels", str(rel / "qrels.txt"),
              "--images-root", str(DATASET), "--no-progress"]
    t = time.perf_counter()
    if cli(["eval", "train-ranker", *common, "--out", str(out / "ranker")]):
        return 1
    steps["train_ranker"] = time.perf_counter() - t
    t = time.perf_counter()
    if cli(["eval", "run", *common, "--split", "test", "--out", str(out / "report"), "--baseline", "default",
            "--modes", f"default,lexical,semantic,visual,config:{out / 'ranker' / 'search_config.json'}"]):
        return 1
    steps["eval_test"] = time.perf_counter() - t
    t = time.perf_counter()
    exact = exact_photo_check(args.index, args.catalog, args.exact_photos, args.seed)
    steps["exact_photo"] = time.perf_counter() - t
    summary = {"exact_photo": exact, "steps_s": {k: round(v, 1) for k, v in steps.items()}}
    (out / "fashion_ranker.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
