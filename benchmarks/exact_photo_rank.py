"""Photo queries of indexed products (issue #13): where does the product itself come, by mode? Asserts nothing.

Uploads, for every product of the index that has one, the photo ``<images-root>/<product id>.<suffix>`` (on the fashion
catalog: ``images_224``, a larger copy of the ``images_60x80`` photo the index holds, as a shopper's copy would be)
and reports, per mode (`eval` modes: ``default`` is the engine's own settings, ``visual`` the photo similarity
alone), how often the product comes first, in the top 10, and the MRR (rank <= 100). Products are grouped:

- *own photo*: the index holds the product's photo and no other product has an identical one;
- *shared photo*: another product of the index has an identical photo (cosine >= 1 - 1e-4). The upload is then a
  photo of each of them, so only "in the first ``group size``" can be asked (reported as ``in group``);
- *no indexed photo*: the catalog row has no photo (the larger copy exists, the indexed one does not).

    .venv/bin/python benchmarks/exact_photo_rank.py --index IDX \\
        --images-root ../shared/datasets/fashion-product-images/images_224 [--n 0] [--show 20] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

IDENTICAL = 1e-4  # two photos whose cosine is within this of 1 are the same picture
MRR_DEPTH = 100
MODES = ("default", "visual")


def shared_photo_groups(vectors: np.ndarray, photo_product: np.ndarray, rows: np.ndarray,
                        chunk: int = 1024) -> dict[int, int]:
    """For each product row in ``rows``: how many products (itself included) hold a photo identical to one of its
    own. ``vectors``: every indexed photo's unit vector; ``photo_product``: the product row of each photo."""
    groups = {}
    own = {int(r): np.flatnonzero(photo_product == r) for r in rows}
    wanted = [r for r in rows.tolist() if len(own[r])]
    for start in range(0, len(wanted), chunk):
        block = wanted[start:start + chunk]
        photos = np.concatenate([own[r] for r in block])
        owner = np.concatenate([[r] * len(own[r]) for r in block])
        sims = vectors[photos] @ vectors.T
        for r in block:
            same = (sims[owner == r] >= 1 - IDENTICAL).any(axis=0)
            groups[r] = len(np.unique(photo_product[same]))
    return groups


def rank_of(ranked: list[str], product_id: str) -> int:
    """1-based rank of ``product_id`` in ``ranked``; 0 when absent."""
    return ranked.index(product_id) + 1 if product_id in ranked else 0


def summarise(ranks: np.ndarray, group: np.ndarray | None = None) -> dict[str, float]:
    """First / top-10 / MRR@100 (and, for shared photos, within the group of identical photos) of 1-based ranks."""
    found = ranks > 0
    out = {"n": int(len(ranks)), "first": int((found & (ranks == 1)).sum()), "top10": int((found & (ranks <= 10)).sum()),
           "mrr": round(float(np.where(found, 1.0 / np.maximum(ranks, 1), 0.0).mean()) if len(ranks) else 0.0, 4)}
    if group is not None:
        out["in_group"] = int((found & (ranks <= group)).sum())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--images-root", type=Path, required=True)
    parser.add_argument("--suffix", default="jpg", help="photo file names: <product id>.<suffix>")
    parser.add_argument("--n", type=int, default=0, help="a seeded sample of this many products (0: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", type=int, default=20, help="own-photo queries the default misses, listed")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures and every rank here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not args.images_root.is_dir():
        print(f"SKIPPED: no photo folder at {args.images_root}")
        return 0
    from eval.modes import resolve_modes
    from eval.relevance import Query
    from eval.runner import open_searcher, run_modes

    searcher = open_searcher(args.index)
    index = searcher.index
    products = index.store.products
    rows = np.array([r for r, p in enumerate(products) if (args.images_root / f"{p.id}.{args.suffix}").is_file()], np.int64)
    if args.n and len(rows) > args.n:
        rows = np.sort(np.random.default_rng(args.seed).choice(rows, args.n, replace=False))
    if not len(rows):
        print(f"no photos named <product id>.{args.suffix} under {args.images_root}", file=sys.stderr)
        return 2
    photo_product = np.asarray(index.image_rows)
    vectors = index.stored_vectors("image", np.arange(len(photo_product)))
    groups = shared_photo_groups(vectors, photo_product, rows)
    queries = [Query(id=products[r].id, image=args.images_root / f"{products[r].id}.{args.suffix}", kind="image")
               for r in rows.tolist()]
    run = run_modes(searcher, resolve_modes(list(MODES)), queries, k=MRR_DEPTH)
    ranks = {m: np.array([rank_of(run.runs[m].ranked[q.id], q.id) for q in queries]) for m in MODES}
    group = np.array([groups.get(r, 0) for r in rows.tolist()])
    parts = {"own photo": group == 1, "shared photo": group > 1, "no indexed photo": group == 0}
    figures: dict[str, dict[str, dict[str, float]]] = {}
    print(f"{len(rows)} products with a photo under {args.images_root}; exact-photo rule {searcher.exact_photo_rule()}")
    print("| products | n | mode | first | top 10 | MRR@100 | in group |")
    print("|---|---|---|---|---|---|---|")
    for part, keep in [*parts.items(), ("indexed photo (own + shared)", group > 0)]:
        for m in MODES:
            s = summarise(ranks[m][keep], group[keep] if part == "shared photo" else None)
            figures.setdefault(part, {})[m] = s
            print(f"| {part} | {s['n']} | {m} | {s['first']} ({s['first'] / max(s['n'], 1):.2%}) | {s['top10']} | "
                  f"{s['mrr']:.4f} | {s.get('in_group', '')} |")
    own = np.flatnonzero(parts["own photo"] & (ranks["default"] != 1))
    if args.show and len(own):
        print(f"\nown-photo queries the default does not put first ({len(own)}; default rank / visual rank, 0 = "
              f"not in the first {MRR_DEPTH}):")
        for i in own[:args.show].tolist():
            print(f"  {queries[i].id}: {ranks['default'][i]} / {ranks['visual'][i]}  first: "
                  f"{run.runs['default'].ranked[queries[i].id][:1]}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "ranks": {q.id: {m: int(ranks[m][i]) for m in MODES} | {
            "group": int(group[i])} for i, q in enumerate(queries)}}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
