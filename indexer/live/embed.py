"""A product -> its vectors and thumbnail, the way a build makes them (same encoders, texts, photo
decoding, embedding cache), so a live write and a later rebuild or compaction agree bit for bit.

Photos come from URLs (the SSRF-safe fetcher, `indexer.fetch`), paths under the configured images
root, or bytes uploaded with the write (embedded from memory, then stored in
``DIR/live/uploads/<sha256>.<ext>`` once the write is accepted, so a compaction or rebuild can read
them again and a refused upload leaves nothing behind). A replayed log entry names its photos by sha256: their
vectors and thumbnail come from the cache without reading any photo.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.catalog import Product, product_caption
from indexer.embedding import PHOTO_KIND, embed_texts_cached
from indexer.embedding_cache import EmbeddingCache, photo_hash
from indexer.errors import ProdsearchError
from indexer.images import ImageFailure, decode_photo, read_photo_bytes
from indexer.live.log import LogEntry
from indexer.progress import StageProgress
from indexer.sources import ImageSources, is_url
from indexer.store import encode_thumbnail
from indexer.text_recipe import text_recipe

logger = logging.getLogger(__name__)

PHOTO_THREADS = 4  # reading and decoding photos (PIL and network I/O release the GIL)
PHOTO_BATCH = 32  # photos per CLIP image-tower call
UPLOAD_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png", b"RIFF": ".webp", b"GIF8": ".gif"}


class PhotoError(ProdsearchError, ValueError):
    """A photo of a written product cannot be used; ``field`` names it (``images.0``), the message says why."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class EmbeddedProduct:
    """What the index holds of one product besides its fields."""

    product: Product
    dense_text: str
    caption: str
    text_vector: np.ndarray  # (d_text,)
    clip_text_vector: np.ndarray  # (d_clip,), or the text vector when the index shares them
    image_vectors: np.ndarray  # (photos, d_clip)
    photos: tuple[str, ...]  # sha256 per usable photo
    thumbnail: bytes | None
    keep_photos: bool = False  # photos not embedded here: they stay those of the product's current row


class ProductEmbedder:
    """Embeds written products for one index (its text recipe, shared vectors) through one cache."""

    def __init__(self, encoders: Any, cache: EmbeddingCache, *, recipe: str, shared_text_vectors: bool,
                 sources: ImageSources, images_root: Path | None, uploads: Path):
        self.encoders, self.cache = encoders, cache
        self.dense_text = text_recipe(recipe)
        self.shared = shared_text_vectors
        self.sources, self.images_root, self.uploads = sources, images_root, uploads

    def texts(self, product: Product) -> tuple[str, str]:
        """(dense text, caption) as the build embeds them."""
        dense = self.dense_text(product)
        return dense, dense if self.shared else product_caption(product)

    def resolve(self, ref: str) -> str:
        """A photo reference as a URL or absolute path (relative paths are under the images root)."""
        if is_url(ref) or os.path.isabs(ref) or self.images_root is None:
            return ref
        return str(self.images_root / ref)

    def upload_path(self, data: bytes) -> str:
        """The path uploaded photo bytes are stored at (`save_upload`), and that the product names."""
        digest = photo_hash(data)
        suffix = next((ext for magic, ext in UPLOAD_TYPES.items() if data.startswith(magic)), ".img")
        return str(self.uploads / f"{digest}{suffix}")

    def save_upload(self, data: bytes) -> str:
        """Store uploaded photo bytes durably under ``uploads/`` (call it once the write is accepted: `embed`
        takes the bytes themselves through ``uploads``); returns `upload_path`."""
        path = Path(self.upload_path(data))
        if not path.exists():
            self.uploads.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return str(path)

    def embed(self, products: Sequence[Product], known_photos: Sequence[Sequence[str] | None] | None = None,
              progress: StageProgress | None = None, keep_photos: Sequence[bool] | None = None,
              photo_errors: str = "raise", uploads: Mapping[str, bytes] | None = None
              ) -> list[EmbeddedProduct | PhotoError]:
        """Embed ``products``: texts in batches, photos read and decoded on `PHOTO_THREADS` threads and
        embedded in batches, everything through the cache; `PhotoError` for an unusable photo.

        ``known_photos[i]``, when given, are the photo hashes a log entry recorded for product i: their
        vectors and thumbnail are read from the cache (the photos are read only on a cache miss).
        ``keep_photos[i]``: embed product i's texts only (a PATCH; `LiveState.apply` keeps its photos).
        ``photo_errors="return"``: a product whose photo is unusable gets its `PhotoError` in the list.
        ``uploads``: bytes by `upload_path` for photos uploaded with the write, not stored yet.
        """
        known_photos = known_photos or [None] * len(products)
        keep_photos = keep_photos or [False] * len(products)
        texts = [self.texts(p) for p in products]
        text_vectors = self._embed_texts(self.encoders.text, [t for t, _ in texts])
        clip_vectors = text_vectors if self.shared else self._embed_texts(self.encoders.clip, [c for _, c in texts])
        todo = [i for i in range(len(products)) if not keep_photos[i]]
        with ThreadPoolExecutor(max_workers=PHOTO_THREADS) as pool:
            read = dict(zip(todo, pool.map(lambda i: self._read_photos(products[i], known_photos[i], uploads or {}), todo),
                            strict=True))
        ok = [r for r in read.values() if isinstance(r, tuple)]
        vectors = self._embed_photos({d for r in ok for d in r[0]},
                                     {d: im for r in ok if r[1] is not None for d, im in r[1].items()})
        out: list[EmbeddedProduct | PhotoError] = []
        dim = self.encoders.clip.dim
        thumbs: list[tuple[str, bytes]] = []
        for i, product in enumerate(products):
            if progress is not None:
                progress.update(1)
            photos: tuple[str, ...] = ()
            image_vectors, thumbnail = np.zeros((0, dim), np.float32), None
            if not keep_photos[i]:
                result = read[i]
                if isinstance(result, PhotoError):
                    if photo_errors == "raise":
                        raise result
                    out.append(result)
                    continue
                photos, images, thumbnail = result
                if photos:
                    image_vectors = np.stack([vectors[d] for d in photos]).astype(np.float32)
                if images is not None and photos:
                    thumbnail = encode_thumbnail(images[photos[0]])
                    thumbs.append((photos[0], thumbnail))
            out.append(EmbeddedProduct(product, texts[i][0], texts[i][1], text_vectors[texts[i][0]],
                                       clip_vectors[texts[i][1]], image_vectors, photos, thumbnail, keep_photos[i]))
        if thumbs:
            self.cache.thumbnails.put_many(thumbs)
        return out

    def _embed_texts(self, encoder: Any, texts: list[str]) -> dict[str, np.ndarray]:
        found, _, _ = embed_texts_cached(encoder, self.cache.vectors(encoder), texts, StageProgress("", 0, "", "off"))
        return found

    def _read_photos(self, product: Product, known: Sequence[str] | None, uploads: Mapping[str, bytes]
                     ) -> tuple[tuple[str, ...], dict[str, Any] | None, bytes | None] | PhotoError:
        """(photo hashes, decoded photos by hash or None when all came from the cache, cached thumbnail)."""
        if known is not None:
            cached = self.cache.vectors(self.encoders.clip).get_many(PHOTO_KIND, list(known))
            thumbs = self.cache.thumbnails.get_many(list(known[:1]))
            if len(cached) == len(set(known)) and (not known or known[0] in thumbs):
                return tuple(known), None, thumbs.get(known[0]) if known else None
        digests: list[str] = []
        images: dict[str, Any] = {}
        for i, ref in enumerate(product.images):
            resolved = self.resolve(ref)
            data = uploads[resolved] if resolved in uploads else read_photo_bytes(resolved, self.sources)
            if isinstance(data, ImageFailure):
                return PhotoError(f"images.{i}", data.reason)
            digest = photo_hash(data)
            digests.append(digest)
            if digest in images:
                continue
            image = decode_photo(data, ref)
            if isinstance(image, ImageFailure):
                return PhotoError(f"images.{i}", image.reason)
            images[digest] = image
        return tuple(digests), images, None

    def _embed_photos(self, digests: set[str], images: dict[str, Any]) -> dict[str, np.ndarray]:
        """Vectors of photos by hash: the cached ones read, the decoded others embedded in batches and cached.
        (Photos named by hash only, from a log entry, are in the cache: `_read_photos` checked.)"""
        vector_cache = self.cache.vectors(self.encoders.clip)
        found = vector_cache.get_many(PHOTO_KIND, sorted(digests))
        todo = [d for d in images if d not in found]
        for start in range(0, len(todo), PHOTO_BATCH):
            batch = todo[start:start + PHOTO_BATCH]
            fresh = np.asarray(self.encoders.clip.encode_images([images[d] for d in batch]), np.float32)
            vector_cache.put_many(PHOTO_KIND, batch, fresh)
            found.update(zip(batch, fresh, strict=True))
        return found


def embed_entries(embedder: ProductEmbedder, entries: Sequence[LogEntry],
                  progress: StageProgress | None = None) -> list[tuple[LogEntry, EmbeddedProduct | None]]:
    """Log entries with the embeddings `LiveState.apply` needs (replay: texts and photos from the cache)."""
    upserts = [e for e in entries if e.op == "upsert"]
    products = [Product.model_validate(e.product) for e in upserts]
    embedded = embedder.embed(products, known_photos=[e.photos for e in upserts], progress=progress,
                              keep_photos=[e.keep_photos for e in upserts], photo_errors="return")
    for i, result in enumerate(embedded):
        if isinstance(result, PhotoError):  # accepted when written, unreadable now (and not in the cache)
            logger.warning("replaying the write of %r: %s; it is served without that photo", products[i].id, result)
            embedded[i] = embedder.embed([products[i].model_copy(update={"images": []})])[0]
    by_seq = {e.seq: m for e, m in zip(upserts, embedded, strict=True)}
    return [(e, by_seq.get(e.seq)) for e in entries]  # type: ignore[misc]


def embedder_for_index(manifest: Any, encoders: Any, root: Path, *, images_root: Path | None,
                       fetch: Any = None, extra_root: Path | None = None) -> ProductEmbedder:
    """The embedder of an index directory: its text recipe and shared vectors, its embedding cache
    (``root/cache``, else the manifest's); local photos under ``images_root`` (relative paths start
    there), ``extra_root`` and the uploads folder only."""
    from indexer.embedding_cache import CACHE_DIR_NAME
    from indexer.live.log import LIVE_DIR, UPLOADS_DIR
    from indexer.store import THUMBNAIL_SETTINGS

    own = Path(root) / CACHE_DIR_NAME  # the directory's own cache first: the manifest's path may be a moved copy's
    cache_dir = own if own.is_dir() or not manifest.embedding_cache else Path(manifest.embedding_cache)
    uploads = Path(root) / LIVE_DIR / UPLOADS_DIR
    sources = ImageSources.confined(images_root, extra_root, uploads, fetch=fetch)
    return ProductEmbedder(encoders, EmbeddingCache(cache_dir, THUMBNAIL_SETTINGS), recipe=manifest.text_recipe,
                           shared_text_vectors=manifest.shared_text_vectors, sources=sources,
                           images_root=images_root, uploads=uploads)
