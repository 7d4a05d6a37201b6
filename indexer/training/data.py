"""Training data: (photo, caption) pairs from a catalog, shopper phrases, a deterministic split, photos held in RAM.

Photos are decoded once by DataLoader workers through the model's own preprocessing (minus
ToTensor/Normalize) and kept as uint8 at training resolution, cached under a cache directory;
locked text embeddings are computed once and cached too.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from indexer.catalog import Catalog, Product, product_caption
from indexer.errors import ProdsearchError
from indexer.images import ImageDecodeError, check_image_file
from indexer.sources import ImageSourceError, ImageSources

logger = logging.getLogger(__name__)


class TrainingDataError(ProdsearchError):
    """The catalog cannot be used for training (no photos, unreadable photos...)."""


def is_held_out(product_id: str, fraction: float = 0.1) -> bool:
    """Deterministic split by product id: sha1(id) decides, independent of file order."""
    bucket = int(hashlib.sha1(product_id.encode("utf-8")).hexdigest()[:8], 16) % 10_000
    return bucket < round(fraction * 10_000)


@dataclass
class PairSet:
    """Every product with a photo: its id, title, caption, photo path, text id and split."""

    ids: list[str]
    titles: list[str]
    captions: list[str]
    paths: list[str]
    attributes: list[dict[str, str]]
    held_out: np.ndarray  # bool [N]
    text_ids: np.ndarray  # int [N]: products with an identical caption share an id
    phrases: list[list[str]] = field(default_factory=list)  # short shopper phrases per pair (may be empty)

    def __len__(self) -> int:
        return len(self.ids)


def shopper_phrases(product: Product) -> list[str]:
    """Short queries a shopper might type for this product: "<colour> <gender> <type>", "<colour> <type>",
    "<gender> <type>", from its attributes (type: ``article_type``, else the category leaf). Lower-case;
    empty when the product has no type or neither colour nor gender."""
    attrs = {k.lower(): v.strip().lower() for k, v in product.attributes.items() if v and v.strip()}
    kind = attrs.get("article_type") or (product.category[-1].strip().lower() if product.category else "")
    colour = attrs.get("colour") or attrs.get("color") or ""
    gender = attrs.get("gender", "")
    if not kind:
        return []
    candidates = [(colour, gender, kind), (colour, kind), (gender, kind)]
    phrases = [" ".join(parts) for parts in candidates if all(parts)]
    return list(dict.fromkeys(phrases))


@dataclass
class PhraseTargets:
    """Distinct shopper phrases and, per pair, up to three of them as indices into ``texts`` (-1: none)."""

    texts: list[str]
    table: np.ndarray  # int [N, 3]


def phrase_targets(pairs: PairSet) -> PhraseTargets:
    """Index the pairs' shopper phrases: identical phrases share an index (so they count as positives)."""
    index: dict[str, int] = {}
    table = np.full((len(pairs), 3), -1, dtype=np.int64)
    for row, phrases in enumerate(pairs.phrases):
        for col, phrase in enumerate(phrases[:3]):
            table[row, col] = index.setdefault(phrase, len(index))
    return PhraseTargets(list(index), table)


def build_pairs(catalog: Catalog, holdout_fraction: float = 0.1, sources: ImageSources | None = None) -> PairSet:
    """Pairs (first photo, caption) for every product that has a photo. With ``sources`` (a catalog's
    `image_sources`: its folder, plus --images-root) a photo outside those folders is left out, as `index build`
    refuses it, so a catalog cannot make the caller open files it names elsewhere. A photo `index build` would not
    decode (missing, not an image, a decompression bomb by its header) is left out too, before any model loads."""
    ids, titles, captions, paths, attrs, phrases = [], [], [], [], [], []
    refused: list[str] = []
    unreadable: list[str] = []
    for product in catalog.products:
        if not product.images:
            continue
        ref = catalog.resolve_image(product.images[0])
        if ref.startswith(("http://", "https://")):
            continue
        if sources is not None:
            try:
                ref = str(sources.check_path(ref))
            except ImageSourceError as exc:
                refused.append(f"{product.id}: {exc}")
                continue
        try:
            check_image_file(ref)
        except ImageDecodeError as exc:
            unreadable.append(f"{product.id}: {exc}")
            continue
        ids.append(product.id)
        titles.append(product.title)
        captions.append(product_caption(product))
        paths.append(ref)
        attrs.append(dict(product.attributes))
        phrases.append(shopper_phrases(product))
    if refused:
        logger.warning("%s: %d photo(s) left out, outside the allowed image folders (first: %s)", catalog.path,
                       len(refused), refused[0])
    if unreadable:
        logger.warning("%s: %d photo(s) left out, not decodable (first: %s)", catalog.path, len(unreadable),
                       unreadable[0])
    if not ids:
        more = f" ({len(refused)} outside the allowed image folders; pass --images-root DIR)" if refused else ""
        more += f" ({len(unreadable)} not decodable, first: {unreadable[0]})" if unreadable else ""
        raise TrainingDataError(f"{catalog.path}: no product has a local photo{more}; nothing to train on")
    index: dict[str, int] = {}
    text_ids = np.array([index.setdefault(c, len(index)) for c in captions], dtype=np.int64)
    held = np.array([is_held_out(i, holdout_fraction) for i in ids], dtype=bool)
    return PairSet(ids, titles, captions, paths, attrs, held, text_ids, phrases)


def pil_stage(preprocess: Any) -> Callable[[Any], Any]:
    """The part of an open_clip eval transform that works on PIL images (before ToTensor)."""
    from torchvision import transforms as T

    steps = []
    for t in getattr(preprocess, "transforms", []):
        if type(t).__name__ in ("ToTensor", "MaybeToTensor", "Normalize"):
            continue
        steps.append(t)
    return T.Compose(steps)


def normalize_stage(preprocess: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) of the transform's Normalize, shaped [1,3,1,1]."""
    for t in getattr(preprocess, "transforms", []):
        if type(t).__name__ == "Normalize":
            return (torch.tensor(t.mean).view(1, 3, 1, 1), torch.tensor(t.std).view(1, 3, 1, 1))
    return torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)


class _PhotoDataset(torch.utils.data.Dataset):
    def __init__(self, paths: Sequence[str], stage: Callable[[Any], Any]):
        self.paths, self.stage = paths, stage

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> np.ndarray:
        from PIL import Image

        with Image.open(self.paths[i]) as img:
            out = self.stage(img.convert("RGB"))
        return np.asarray(out, dtype=np.uint8).copy()


def _key(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def load_photos(paths: Sequence[str], preprocess: Any, cache_dir: Path | None = None,
                num_workers: int = 2, desc: str = "decode photos") -> torch.Tensor:
    """All photos as a uint8 tensor [N, H, W, 3] at the model's resolution (cached on disk)."""
    stage = pil_stage(preprocess)
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"photos-{_key(list(paths), repr(stage))}.npy"
        if cache.is_file():
            logger.info("photos from cache %s", cache)
            return torch.from_numpy(np.load(cache))
    loader = torch.utils.data.DataLoader(_PhotoDataset(paths, stage), batch_size=256, num_workers=num_workers,
                                         collate_fn=lambda rows: rows)
    chunks: list[np.ndarray] = []
    try:
        for rows in tqdm(loader, desc=desc, unit="batch", mininterval=5):
            shapes = {r.shape for r in rows}
            if len(shapes) != 1:
                raise TrainingDataError(f"photos decode to different sizes {shapes}: the preprocessing must resize")
            chunks.append(np.stack(rows))
    except OSError as exc:
        raise TrainingDataError(f"cannot read a photo: {exc}") from exc
    photos = np.concatenate(chunks)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, photos)
    return torch.from_numpy(photos)


def to_model_input(batch_u8: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 [B,H,W,3] -> normalised float [B,3,H,W], as the model's preprocess would give."""
    x = batch_u8.permute(0, 3, 1, 2).float().div_(255.0)
    return (x - mean) / std


@torch.no_grad()
def encode_texts(model: Any, tokenizer: Callable[[list[str]], torch.Tensor], texts: Sequence[str],
                 batch_size: int = 256, desc: str | None = None) -> np.ndarray:
    """L2-normalised text embeddings (float32), in batches sorted by length with padding trimmed."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    result: np.ndarray | None = None
    pad_id = getattr(getattr(getattr(model, "text", None), "config", None), "pad_token_id", None)
    for start in tqdm(range(0, len(order), batch_size), desc=desc or "encode texts", unit="batch",
                      disable=len(order) <= batch_size, mininterval=5):
        idx = order[start:start + batch_size]
        tokens = tokenizer([texts[i] for i in idx])
        if pad_id is not None:  # HF text tower: drop all-padding columns (attention mask ignores them anyway)
            length = int((tokens != pad_id).sum(1).max())
            tokens = tokens[:, :max(length, 1)]
        emb = model.encode_text(tokens, normalize=True).float().numpy()
        if result is None:
            result = np.zeros((len(texts), emb.shape[1]), dtype=np.float32)
        result[idx] = emb
    return result if result is not None else np.zeros((0, 0), dtype=np.float32)


def cached_text_embeddings(model: Any, tokenizer: Any, texts: Sequence[str], model_key: str,
                           cache_dir: Path | None) -> np.ndarray:
    """`encode_texts`, cached on disk by (model_key, texts)."""
    cache = Path(cache_dir) / f"text-{_key(model_key, list(texts))}.npy" if cache_dir else None
    if cache is not None and cache.is_file():
        return np.load(cache)
    emb = encode_texts(model, tokenizer, texts)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, emb)
    return emb
