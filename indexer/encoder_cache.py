"""Memoising encoder wrappers: embed each distinct query text or photo once.

The eval suite primes them in batch before timing any search; the facets endpoint
wraps a request's encoders so its several retrievals encode the query once.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Sequence

import numpy as np
from PIL import Image

from indexer.encoders import Encoders


class CachingTextEncoder:
    """A text encoder that answers from a cache filled in batch by `prime`."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.spec = getattr(inner, "spec", {})
        self.trained = getattr(inner, "trained", True)
        self.text_tower = getattr(inner, "text_tower", None)  # keeps the Searcher's shared-tower shortcut
        self.texts: dict[str, np.ndarray] = {}
        self.misses = 0

    def prime(self, texts: Sequence[str]) -> float:
        """Encode the texts not cached yet in one batch; returns seconds spent."""
        todo = sorted({t for t in texts if t not in self.texts})
        start = time.perf_counter()
        if todo:
            for text, vec in zip(todo, self.inner.encode_texts(todo)):
                self.texts[text] = vec
        return time.perf_counter() - start

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.texts]
        if missing:
            self.misses += len(missing)
            self.prime(missing)
        return np.stack([self.texts[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def _image_key(image: Image.Image) -> tuple:
    """A cache key from the pixels (not `id()`, which a new image can reuse once an old one is freed)."""
    return image.size, image.mode, hashlib.blake2b(image.tobytes(), digest_size=16).digest()


class CachingClipEncoder(CachingTextEncoder):
    """A CLIP encoder whose photo embeddings are cached by pixel content."""

    def __init__(self, inner: Any):
        super().__init__(inner)
        self.images: dict[tuple, np.ndarray] = {}

    def prime_images(self, images: Sequence[Image.Image], batch: int = 64) -> float:
        start = time.perf_counter()
        todo = {}
        for im in images:
            key = _image_key(im)
            if key not in self.images:
                todo[key] = im
        keys = list(todo)
        for i in range(0, len(keys), batch):
            chunk = keys[i:i + batch]
            for key, vec in zip(chunk, self.inner.encode_images([todo[k] for k in chunk])):
                self.images[key] = vec
        return time.perf_counter() - start

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        keys = [_image_key(im) for im in images]
        missing = [im for im, key in zip(images, keys) if key not in self.images]
        if missing:
            self.misses += len(missing)
            self.prime_images(missing)
        return np.stack([self.images[key] for key in keys])


def cached_encoders(encoders: Encoders) -> Encoders:
    """Wrap both encoders in a memoising layer (idempotent)."""
    if isinstance(encoders.text, CachingTextEncoder):
        return encoders
    return Encoders(text=CachingTextEncoder(encoders.text), clip=CachingClipEncoder(encoders.clip))
