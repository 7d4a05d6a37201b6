"""Photo queries: `Searcher.search` wall time as served, without the `matched_product` signal, and without the
pixel check of exact photo matches (`search.photo_pixels`) (issue #13), side by side in one process (interleaved
per query, so machine load hits all alike), plus how often the exact product came first and how often the signal
ran (an exact photo match was found). Asserts nothing.

    .venv/bin/python benchmarks/photo_matched_latency.py --index IDX \\
        --images-root ../shared/datasets/fashion-product-images/images_224 [--n 60] [--repeats 2]

Photos are `<images-root>/<product id>.jpg` of a seeded sample of the index's products.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--images-root", type=Path, required=True)
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from PIL import Image

    from eval.runner import open_searcher
    from search.types import SearchRequest

    searcher = open_searcher(args.index)
    products = searcher.index.store.products
    photos = []
    for row in np.random.default_rng(args.seed).permutation(len(products)).tolist():
        path = args.images_root / f"{products[row].id}.jpg"
        if path.is_file():
            with Image.open(path) as im:
                photos.append((products[row].id, im.convert("RGB")))
        if len(photos) >= args.n:
            break
    if not photos:
        print(f"no photos named <product id>.jpg under {args.images_root}", file=sys.stderr)
        return 2
    searcher.encoders.clip.prime_images([im for _, im in photos])  # embeddings out of the timings
    searcher.search(SearchRequest(k=10), photos[0][1])  # calibration and first-call costs
    served = searcher.config
    arms = {"as served": (served, None), "without matched_product": (served, {"matched_product": 0.0}),
            "without the pixel check": (served.model_copy(update={"exact_photo_pixel_rmse": None}), None)}
    times: dict[str, list[float]] = {name: [] for name in arms}
    first = dict.fromkeys(arms, 0)
    ran = dict.fromkeys(arms, 0)
    for repeat in range(args.repeats):
        for product_id, photo in photos:
            for name, (config, weights) in arms.items():
                searcher.config = config
                start = time.perf_counter()
                response = searcher.search(SearchRequest(k=10, weights=weights), photo)
                times[name].append((time.perf_counter() - start) * 1000)
                if repeat == 0:
                    first[name] += response.hits[0].product.id == product_id
                    ran[name] += "matched_product" in response.signals
    searcher.config = served
    print("| photo queries | p50 ms | p95 ms | searches | exact product first | matched_product ran |")
    print("|---|---|---|---|---|---|")
    for name, ms in times.items():
        print(f"| {name} | {np.percentile(ms, 50):.2f} | {np.percentile(ms, 95):.2f} | {len(ms)} | "
              f"{first[name]}/{len(photos)} | {ran[name]}/{len(photos)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
