"""Memoising encoder wrappers: embed each distinct query text or photo once.

The eval suite primes them in batch before timing any search; the facets endpoint
wraps a request's encoders so its several retrievals encode the query once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from indexer.encoders import Encoders


class CachingTextEncoder:
    """A text encoder that answers from a cache filled in batch by `prime`.

    Every other attribute (name, dim, spec, text_tower...) is the wrapped encoder's.
    """

    def __init__(self, inner: Any):
        self.inner = inner
        self.texts: dict[str, np.ndarray] = {}
        self.misses = 0

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (copy/pickle): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def prime(self, texts: Sequence[str]) -> float:
        """Encode the texts not cached yet in one batch; returns seconds spent."""
        todo = sorted({t for t in texts if t not in self.texts})
        start = time.perf_counter()
        if todo:
            encode = getattr(self.inner, "encode_queries", self.inner.encode_texts)  # queries: their own precision
            for text, vec in zip(todo, encode(todo), strict=True):
                self.texts[text] = vec
        return time.perf_counter() - start

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.texts]
        if missing:
            self.misses += len(missing)
            self.prime(missing)
        return np.stack([self.texts[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The cache holds queries: the same answers (else `__getattr__` would reach past it to the inner one)."""
        return self.encode_texts(texts)


def _image_key(image: Image.Image) -> tuple:
    """A cache key from the pixels (not `id()`, which a new image can reuse once an old one is freed)."""
    return image.size, image.mode, hashlib.blake2b(image.tobytes(), digest_size=16).digest()


class CachingClipEncoder(CachingTextEncoder):
    """A CLIP encoder whose photo embeddings are cached by pixel content."""

    def __init__(self, inner: Any):
        super().__init__(inner)
        self.images: dict[tuple, np.ndarray] = {}

    def _fill(self, keys: Sequence[tuple], images: Sequence[Image.Image]) -> None:
        """Encode, in one call (the inner encoder batches), the photos whose keys are not cached yet."""
        todo = {key: im for key, im in zip(keys, images, strict=True) if key not in self.images}
        if todo:
            self.images.update(zip(todo, self.inner.encode_images(list(todo.values())), strict=True))

    def prime_images(self, images: Sequence[Image.Image]) -> float:
        """Encode the photos not cached yet; returns seconds spent."""
        start = time.perf_counter()
        self._fill([_image_key(im) for im in images], images)
        return time.perf_counter() - start

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        keys = [_image_key(im) for im in images]
        self.misses += sum(key not in self.images for key in keys)
        self._fill(keys, images)
        return np.stack([self.images[key] for key in keys])


def cached_encoders(encoders: Encoders) -> Encoders:
    """Wrap both encoders in a memoising layer (idempotent)."""
    if isinstance(encoders.text, CachingTextEncoder):
        return encoders
    return Encoders(text=CachingTextEncoder(encoders.text), clip=CachingClipEncoder(encoders.clip))
