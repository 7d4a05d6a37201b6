"""Test support: deterministic fake encoders, a tiny synthetic catalog, the CLI runner.

The fakes make retrieval checkable by hand: the fake text encoder is a hashed bag
of words, and the fake CLIP maps a photo to its mean colour and a colour word in a
text to that colour, so "red" finds red photos.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_FASHION = REPO.parent / "shared" / "datasets" / "fashion-product-images"

COLOURS = {
    "red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220),
    "yellow": (235, 220, 40), "black": (20, 20, 20), "pink": (240, 120, 180),
}


def _hash_index(token: str, dim: int) -> int:
    return int(hashlib.md5(token.encode()).hexdigest(), 16) % dim


class FakeTextEncoder:
    """Hashed bag of words, L2-normalised."""

    name = "fake-text"
    dim = 64

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for token in text.lower().replace(".", " ").split():
                out[i, _hash_index(token, self.dim)] += 1.0
        out[:, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class FakeClipEncoder:
    """Photo -> its mean non-white colour; text -> the colour it names (or a hashed fallback)."""

    name = "fake-clip"
    dim = 8
    trained = True

    def _colour_vector(self, rgb: np.ndarray) -> np.ndarray:
        vec = np.zeros(self.dim, np.float32)
        vec[:3] = rgb / 255.0 - 0.45
        vec[3] = 0.05
        return vec / np.linalg.norm(vec)

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        rows = []
        for im in images:
            px = np.asarray(im.convert("RGB"), dtype=np.float32).reshape(-1, 3)
            ink = px[px.sum(axis=1) < 700]
            rows.append(self._colour_vector(ink.mean(axis=0) if len(ink) else px.mean(axis=0)))
        return np.stack(rows) if rows else np.zeros((0, self.dim), np.float32)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            named = [c for c in COLOURS if c in text.lower()]
            if named:
                rows.append(self._colour_vector(np.array(COLOURS[named[0]], np.float32)))
            else:
                vec = np.zeros(self.dim, np.float32)
                vec[4 + _hash_index(text, 4)] = 1.0
                rows.append(vec)
        return np.stack(rows) if rows else np.zeros((0, self.dim), np.float32)




KINDS = [("t-shirt", "Topwear"), ("shoes", "Footwear"), ("bag", "Bags")]
BRANDS = ["Acme", "Birch", "Cobalt"]


def write_synthetic_catalog(directory: Path, n_per_cell: int = 2) -> Path:
    """A deterministic catalog: every colour x kind x brand, a solid-colour photo each (36 x n_per_cell)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "img").mkdir(exist_ok=True)
    rows = []
    i = 0
    for colour, rgb in COLOURS.items():
        for kind, group in KINDS:
            for b, brand in enumerate(BRANDS[:2]):
                for j in range(n_per_cell):
                    pid = f"s{i:03d}"
                    im = Image.new("RGB", (32, 32), "white")
                    im.paste(Image.new("RGB", (20, 20), rgb), (6, 6))
                    im.save(directory / "img" / f"{pid}.png")
                    rows.append({
                        "id": pid, "title": f"{brand} {colour} {kind} {j}",
                        "description": f"A {colour} {kind} made by {brand}.",
                        "brand": brand, "category": ["Apparel", group],
                        "attributes": {"colour": colour.title(), "gender": "Women" if b else "Men"},
                        "price": float(10 + 5 * j + 3 * i % 40), "currency": "USD",
                        "images": [f"img/{pid}.png"],
                    })
                    i += 1
    path = directory / "catalog.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def searcher_over(rows: Sequence[dict], folder: Path):  # type: ignore[no-untyped-def]
    """A Searcher (fake encoders) over an index built from catalog ``rows`` written into ``folder``; close its index."""
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import Encoders
    from search.searcher import Searcher

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    encoders = Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())
    build_index(load_catalog(path), folder / "idx", encoders, progress=False)
    return Searcher.open(folder / "idx", encoders)


def load_benchmark(name: str):
    """``benchmarks/<name>.py`` as a module, loaded once (registered in ``sys.modules`` under ``name``: dataclasses look
    their module up there; ``benchmarks/`` goes on ``sys.path`` for the scripts that import each other)."""
    if name in sys.modules:
        return sys.modules[name]
    if str(REPO / "benchmarks") not in sys.path:
        sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed `prodsearch` console script (as a user would) and capture its output."""
    exe = Path(sys.executable).with_name("prodsearch")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "prodsearch"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


def studio_photo(colour: tuple[int, int, int], at: int = 12, size: tuple[int, int] = (60, 80)) -> Image.Image:
    """A product shot on white: a coloured shirt-like shape, its left edge at ``at``."""
    im = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(im)
    draw.rectangle([at, 14, at + 34, 70], fill=colour)
    draw.rectangle([at - 8, 14, at + 42, 30], fill=colour)
    return im


def as_jpeg(image: Image.Image, quality: int = 88) -> Image.Image:
    """``image`` after a round trip through JPEG (as a stored thumbnail or an upload is)."""
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
