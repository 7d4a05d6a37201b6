"""Visual-only attribute retrieval under different query wordings, for one or more CLIP models.

`prodsearch eval model` scores attribute queries worded "<colour> <gender> <article type>", which is
also one of the shopper phrases `prodsearch train` contrasts photos with. This benchmark re-asks the
same queries (same held-out products, same grades) in wordings that training never used, to show
how much of a model's score depends on the exact wording.

    .venv/bin/python benchmarks/attribute_query_wording.py default local-dir:runs/my-clip \
        [--catalog .prodsearch/fashion/catalog.jsonl]

The catalog comes from `python -m indexer.adapters.fashion`; without it the script says so and exits.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORDINGS = {
    "{colour} {gender} {type}": "eval model's wording, trained on",
    "{gender} {colour} {type}": "not trained on",
    "{type} for {gender} in {colour}": "not trained on",
    "{colour} {type} for {gender}": "not trained on",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="CLIP specs: default, local-dir:PATH, ...")
    parser.add_argument("--catalog", type=Path, default=REPO / ".prodsearch" / "fashion" / "catalog.jsonl")
    parser.add_argument("--holdout", type=float, default=0.1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not args.catalog.is_file():
        print(f"skipped: no catalog at {args.catalog} (python -m indexer.adapters.fashion --out {args.catalog})")
        return 0

    from eval.model_eval import attribute_combinations, attribute_keys, attribute_queries, embed_photos, precision_ndcg_at, top_k
    from indexer.catalog import load_catalog
    from indexer.clip_models import create_clip
    from indexer.training.data import build_pairs, encode_texts, load_photos

    pairs = build_pairs(load_catalog(args.catalog, skip_invalid=True), args.holdout)
    held = np.flatnonzero(pairs.held_out)
    attrs = [pairs.attributes[i] for i in held]
    queries, grades = attribute_queries(attrs)
    keys = attribute_keys(attrs)
    combos = attribute_combinations(keys)  # the queries, as (colour, gender, type), in the same order
    if [" ".join(c) for c in combos] != queries:
        raise SystemExit("attribute combinations do not line up with eval.model_eval.attribute_queries")
    print(f"{len(held)} held-out products, {len(queries)} attribute queries; visual-only retrieval\n")
    print("| model | wording | P@10 | nDCG@10 |\n|---|---|---|---|")
    misses: dict[str, dict[str, int]] = {}
    for spec in args.models:
        loaded = create_clip(spec)
        image = embed_photos(loaded, load_photos([pairs.paths[i] for i in held], loaded.preprocess, None))
        for wording, note in WORDINGS.items():
            texts = [wording.format(colour=c, gender=g, type=t) for c, g, t in combos]
            emb = encode_texts(loaded.model, loaded.tokenizer, texts)
            top = top_k(emb @ image.T, 10)
            p, ndcg = precision_ndcg_at(top, grades)
            print(f"| {spec} | \"{wording}\" ({note}) | {p:.3f} | {ndcg:.3f} |", flush=True)
            if wording == next(iter(WORDINGS)):
                misses[spec] = _misses(top, combos, keys)
    print("\nTop-10 hits of the first wording that are not exact matches, by what differs:\n")
    print("| model | other gender only | other colour only | other colour and gender | other type |\n|---|---|---|---|---|")
    for spec, counts in misses.items():
        total = max(sum(counts.values()), 1)
        print(f"| {spec} | " + " | ".join(f"{counts[k] / total:.0%}" for k in MISS_KINDS) + " |")
    return 0


MISS_KINDS = ("gender", "colour", "both", "type")


def _misses(top: np.ndarray, combos: list[tuple[str, ...]], keys: list[tuple[str, ...]]) -> dict[str, int]:
    """Count top-10 hits that are not exact matches by what differs from the query (keys: per product)."""
    counts = dict.fromkeys(MISS_KINDS, 0)
    for (colour, gender, kind), row in zip(combos, top, strict=True):
        for i in row:
            c, g, t = keys[i]
            if t != kind:
                counts["type"] += 1
            elif c != colour and g != gender:
                counts["both"] += 1
            elif g != gender:
                counts["gender"] += 1
            elif c != colour:
                counts["colour"] += 1
    return counts


if __name__ == "__main__":
    raise SystemExit(main())
