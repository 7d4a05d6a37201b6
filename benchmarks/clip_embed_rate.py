"""Photos per second of a CLIP image tower on this machine (decode excluded, and included).

    .venv/bin/python benchmarks/clip_embed_rate.py [--model default] [--photos DIR] [--n 2000] [--threads 2]

"Decode excluded": photos already decoded and preprocessed into a tensor; only the image tower runs.
"Decode included": JPEG/PNG bytes -> PIL -> preprocess -> tower, in one process.
"""

from __future__ import annotations

import argparse
import glob
import time
from pathlib import Path

import torch
from PIL import Image

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fashion-product-images" / "images_60x80"
FIXTURE_PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "images"


def main() -> None:
    from indexer.clip_models import create_clip

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--photos", default=str(DEFAULT_PHOTOS if DEFAULT_PHOTOS.is_dir() else FIXTURE_PHOTOS))
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    paths = sorted(glob.glob(str(Path(args.photos) / "*.jpg")) + glob.glob(str(Path(args.photos) / "*.png")))
    paths = (paths * (args.n // max(len(paths), 1) + 1))[: args.n]
    clip = create_clip(args.model)
    model = clip.model.eval()

    def embed(x: torch.Tensor) -> None:
        with torch.no_grad():
            for s in range(0, len(x), args.batch):
                model.encode_image(x[s:s + args.batch], normalize=True)

    x = torch.stack([clip.preprocess(Image.open(p).convert("RGB")) for p in paths])
    embed(x[: args.batch])  # warm-up
    best_tower = 0.0
    for _ in range(args.repeats):
        t = time.perf_counter()
        embed(x)
        best_tower = max(best_tower, len(x) / (time.perf_counter() - t))
    t = time.perf_counter()
    for s in range(0, len(paths), args.batch):
        batch = torch.stack([clip.preprocess(Image.open(p).convert("RGB")) for p in paths[s:s + args.batch]])
        embed(batch)
    with_decode = len(paths) / (time.perf_counter() - t)
    print(f"model={args.model} input={tuple(x.shape[1:])} threads={args.threads} photos={len(paths)}")
    print(f"image tower only (decode excluded): {best_tower:.0f} photos/s (best of {args.repeats})")
    print(f"decode + preprocess + tower:        {with_decode:.0f} photos/s")


if __name__ == "__main__":
    main()
