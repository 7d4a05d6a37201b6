"""Embedding a catalog once per distinct content, through the on-disk cache, on every core.

- Texts: each distinct text is looked up in the cache; the misses are embedded in large
  length-sorted batches (little padding), each batch committed to the cache at once.
- Photos: a background thread reads each photo's bytes, hashes them, and decodes (and
  thumbnails) only the photos whose vector or thumbnail is not cached; decoded photos reach
  the main thread in bounded chunks, embedded between text batches, so decoding overlaps
  text embedding and memory stays bounded. Each distinct photo (by bytes) is embedded once.
- With a shared text tower and the caption recipe, one embedding per product serves both
  ``semantic`` and ``cross_modal``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from PIL import Image

from indexer.catalog import Catalog
from indexer.embedding_cache import EmbeddingCache, VectorCache, photo_hash
from indexer.images import DECODE_MIN_SIDE, ImageFailure, decode_photo, read_photo_bytes
from indexer.progress import StageProgress
from indexer.sources import is_url
from indexer.store import encode_thumbnail

logger = logging.getLogger(__name__)

TEXT_BATCH = 256
PHOTO_CHUNK = 256
# A photo vector depends on how its bytes were decoded (JPEG draft size) besides the model's transform.
PHOTO_KIND = f"photo:decode-min-side={DECODE_MIN_SIDE}"
PHOTO_QUEUE_CHUNKS = 8  # decoded photos waiting for the CLIP image tower: at most 8 x 256


@dataclass
class EmbedCounts:
    """What the build embedded and what came from the cache (distinct texts / photos)."""

    texts_embedded: int = 0
    texts_cached: int = 0
    photos_embedded: int = 0
    photos_cached: int = 0
    photos_decoded: int = 0

    def format(self) -> str:
        return (f"texts: {self.texts_embedded} embedded, {self.texts_cached} from cache; "
                f"photos: {self.photos_embedded} embedded, {self.photos_cached} from cache "
                f"({self.photos_decoded} decoded)")


@dataclass
class PhotoResults:
    """Filled by the photo thread: successes in catalog order, failures, vectors by photo hash."""

    records: list[tuple[int, str]] = field(default_factory=list)  # (product row, photo hash)
    failures: list[tuple[str, ImageFailure]] = field(default_factory=list)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    error: BaseException | None = None


@contextlib.contextmanager
def bulk_threads() -> Iterator[Callable[[], None]]:
    """torch on every core for bulk embedding (restored afterwards: serving keeps its own setting).

    Yields the function to call before each embedding: torch is imported and set up then, so a build
    that embeds nothing never imports it (`indexer.encoder_profiles`)."""
    before: list[int] = []

    def ensure() -> None:
        if not before:
            import torch

            before.append(torch.get_num_threads())
            torch.set_num_threads(max(1, os.cpu_count() or 1))

    try:
        yield ensure
    finally:
        if before:
            import torch

            torch.set_num_threads(before[0])


def embed_texts_cached(encoder: Any, cache: VectorCache, texts: Sequence[str], progress: StageProgress,
                       between_batches: Callable[[], None] = lambda: None,
                       batch_size: int | None = None,
                       before_encode: Callable[[], None] = lambda: None) -> tuple[dict[str, np.ndarray], int, int]:
    """Vectors of the distinct ``texts``: cached ones read, the rest embedded length-sorted and cached.

    Returns (vectors by text, embedded count, from-cache count).
    """
    distinct = list(dict.fromkeys(texts))
    found = cache.get_many("text", distinct)
    cached = len(found)
    progress.update(cached)
    todo = sorted((t for t in distinct if t not in found), key=len)
    batch_size = batch_size or TEXT_BATCH
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        before_encode()
        vectors = encoder.encode_texts(batch)
        cache.put_many("text", batch, vectors)
        found.update(zip(batch, np.asarray(vectors, np.float32), strict=True))
        progress.update(len(batch))
        between_batches()
    return found, len(todo), cached


class PhotoPipeline:
    """Reads, hashes and (when needed) decodes photos in a background thread; see the module docstring."""

    def __init__(self, catalog: Catalog, clip: Any, cache: EmbeddingCache, workers: int, progress: StageProgress,
                 counts: EmbedCounts):
        self.jobs = [(row, p.id, catalog.resolve_image(ref))
                     for row, p in enumerate(catalog.products) for ref in p.images]
        self.clip, self.cache, self.workers = clip, cache, max(1, workers)
        self.sources = catalog.image_sources
        self.vector_cache = cache.vectors(clip)
        self.progress, self.counts = progress, counts
        self.results = PhotoResults()
        self.chunks: queue.Queue = queue.Queue(maxsize=PHOTO_QUEUE_CHUNKS)
        self._queued: set[str] = set()
        self._refs: dict[str, str] = {}  # photo hash -> a photo read with those bytes (`thumbnail`)
        self._folders: dict[str, str | OSError] = {}  # `_checked_folder`
        self.before_encode: Callable[[], None] = lambda: None  # `bulk_threads`
        self.done = False
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="photo-reader", daemon=True)

    def start(self) -> PhotoPipeline:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for start in range(0, len(self.jobs), PHOTO_CHUNK):
                    if self._cancelled.is_set():
                        break
                    self._chunk(self.jobs[start:start + PHOTO_CHUNK], pool)
        except BaseException as exc:  # handed to the main thread
            self.results.error = exc
        finally:
            self.chunks.put(None)

    def _stat_key(self, ref: str) -> str | None:
        """(resolved path, size, mtime, inode, ctime) of a local photo inside the allowed folders, else None.

        ctime as git keeps it: rewriting a file in place and restoring its mtime (`touch -d`, a restore
        tool) leaves size, mtime and inode as they were, but the kernel sets ctime on every change and no
        call sets it back. (Keys from before ctime was added are never hit: those photos are read once.)

        A photo that is no symlink is resolved through its folder, resolved and checked once per folder
        (`_checked_folder`), not component by component per photo (~6 s of the 44k rebuild before)."""
        if is_url(ref):
            return None
        folder, name = os.path.split(ref)
        try:
            info = os.lstat(ref)
            if stat.S_ISLNK(info.st_mode) or name in ("", ".", ".."):
                real = str(self.sources.check_path(ref))  # the full check, symlinks followed
                info = os.stat(real)
            else:
                real = os.path.join(self._checked_folder(folder), name)
        except (OSError, ValueError):  # ValueError: an embedded NUL byte
            return None  # reading it below reports the reason
        if not stat.S_ISREG(info.st_mode):
            return None
        return f"{real}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}\0{info.st_ctime_ns}"

    def _checked_folder(self, folder: str) -> str:
        """A folder's resolved path once `ImageSources.check_path` allowed it (an `OSError` when it does not)."""
        if folder not in self._folders:
            try:
                self._folders[folder] = str(self.sources.check_path(folder or "."))
            except OSError as exc:
                self._folders[folder] = exc
        checked = self._folders[folder]
        if isinstance(checked, OSError):
            raise checked
        return checked

    def _chunk(self, jobs: list[tuple[int, str, str]], pool: ThreadPoolExecutor) -> None:
        read = partial(read_photo_bytes, sources=self.sources)
        refs = [ref for _, _, ref in jobs]
        stat_keys = [self._stat_key(ref) for ref in refs]  # lstat only: a pool's futures cost more than the calls
        known_files = self.cache.files.get_many([k for k in stat_keys if k])
        to_read = [i for i, k in enumerate(stat_keys) if not (k and k in known_files)]
        datas: list[bytes | ImageFailure | None] = [None] * len(jobs)  # None: unchanged file, not read
        for i, data in zip(to_read, pool.map(read, [refs[i] for i in to_read]), strict=True):
            datas[i] = data
        digests = [known_files[k] if datas[i] is None and k else photo_hash(datas[i]) if isinstance(datas[i], bytes) else ""
                   for i, k in enumerate(stat_keys)]
        self.cache.files.put_many([(stat_keys[i], digests[i]) for i in to_read if stat_keys[i] and digests[i]])
        known = [d for d in digests if d]
        cached = self.vector_cache.get_many(PHOTO_KIND, known)
        have_thumb = self.cache.thumbnails.has_many(known)
        self.results.vectors.update(cached)
        decode_idx = [i for i, d in enumerate(digests)
                      if d and (d not in have_thumb or (d not in cached and d not in self._queued))]
        def decode(i: int) -> Image.Image | ImageFailure:
            data = datas[i] if datas[i] is not None else read(refs[i])  # an unchanged file whose image is needed
            return data if isinstance(data, ImageFailure) else decode_photo(data, refs[i])

        decoded = dict(zip(decode_idx, pool.map(decode, decode_idx), strict=True))
        self.counts.photos_decoded += len(decoded)
        thumbs, to_embed, to_embed_keys = [], [], []
        for i, image in decoded.items():
            if isinstance(image, ImageFailure):
                continue
            if digests[i] not in have_thumb:
                thumbs.append((digests[i], encode_thumbnail(image)))
                have_thumb.add(digests[i])
            if digests[i] not in cached and digests[i] not in self._queued:
                self._queued.add(digests[i])
                to_embed.append(image)
                to_embed_keys.append(digests[i])
        if thumbs:
            self.cache.thumbnails.put_many(thumbs)
        for (row, product_id, ref), data, digest, i in zip(jobs, datas, digests, range(len(jobs)), strict=True):
            failure = data if isinstance(data, ImageFailure) else decoded.get(i)
            if isinstance(failure, ImageFailure):
                self.results.failures.append((product_id, failure))
            else:
                self.results.records.append((row, digest))
                self._refs.setdefault(digest, ref)
        self.counts.photos_cached += len({d for d in known if d in cached})
        if to_embed:
            self.chunks.put((to_embed_keys, to_embed, len(jobs)))
        else:
            self.progress.update(len(jobs))

    def thumbnail(self, digest: str) -> bytes | None:
        """The thumbnail of the photo with hash ``digest``, made again: the cached one was lost when a
        damaged thumbnails file was moved aside mid-build. None if the photo no longer has those bytes."""
        ref = self._refs.get(digest)
        if ref is None:
            return None
        data = read_photo_bytes(ref, sources=self.sources)
        if not isinstance(data, bytes) or photo_hash(data) != digest:
            return None
        image = decode_photo(data, ref)
        return None if isinstance(image, ImageFailure) else encode_thumbnail(image)

    def cancel(self) -> None:
        """Stop reading photos (the build failed or was interrupted) and wait for the reader to stop."""
        self._cancelled.set()
        while not self.done:
            if self.chunks.get() is None:
                self.done = True
        self._thread.join()

    def embed_ready(self, block: bool = False) -> bool:
        """Embed one waiting chunk of decoded photos (between two text batches, so neither starves), or
        with ``block`` every chunk until the reader is done; False once done."""
        while not self.done:
            try:
                item = self.chunks.get(block=block)
            except queue.Empty:
                return True
            if item is None:
                self.done = True
                self._thread.join()
                if self.results.error is not None:
                    raise self.results.error
                return False
            keys, images, n_jobs = item
            self.before_encode()
            vectors = self.clip.encode_images(images)
            self.vector_cache.put_many(PHOTO_KIND, keys, vectors)
            self.results.vectors.update(zip(keys, np.asarray(vectors, np.float32), strict=True))
            self.counts.photos_embedded += len(keys)
            self.progress.update(n_jobs)
            if not block:
                return True
        return False
