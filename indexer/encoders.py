"""Text and image encoders behind two small protocols, so tests can inject fakes.

Every encoder returns ``(n, dim)`` float32 arrays with L2-normalised rows, the
form every FAISS index of this project expects (inner product = cosine). The real
ones: `indexer.text_encoder` (sentence-transformers) and `indexer.clip_encoder`
(open_clip), loaded by name here; `indexer.encoder_parts` holds what they share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from indexer.clip_encoder import OpenClipEncoder
from indexer.encoder_parts import l2_normalize, pick_device, weights_fingerprint
from indexer.text_encoder import (
    DEFAULT_TEXT_MODEL,
    QUERY_CACHE_SIZE,
    QueryBatcher,
    SentenceTransformerEncoder,
    resolve_text_model,
)

__all__ = ["DEFAULT_TEXT_MODEL", "QUERY_CACHE_SIZE", "ClipEncoder", "Encoders", "OpenClipEncoder", "QueryBatcher",
           "SentenceTransformerEncoder", "TextEncoder", "l2_normalize", "load_encoders", "load_encoders_for_build",
           "load_encoders_for_index", "pick_device", "resolve_text_model", "shared_text_tower", "weights_fingerprint"]


@runtime_checkable
class TextEncoder(Protocol):
    """Maps texts to unit vectors in a semantic space."""

    name: str
    dim: int

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class ClipEncoder(Protocol):
    """Maps images and texts into one shared space."""

    name: str
    dim: int

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...


@dataclass
class Encoders:
    """The pair of encoders an index is built with and queried with."""

    text: TextEncoder
    clip: ClipEncoder


def shared_text_tower(encoders: Encoders) -> bool:
    """True when one text embedding can serve both the semantic and the visual signal."""
    tower = getattr(encoders.clip, "text_tower", None)
    return tower is not None and tower == getattr(encoders.text, "text_tower", None)


def load_encoders(text_model: str = DEFAULT_TEXT_MODEL, clip_model: str = "default",
                  clip_pretrained: str | None = None, device: str | None = None,
                  query_precision: str | None = None) -> Encoders:
    """The real encoders, by name; ``query_precision`` None: `indexer.onnx_text.query_precision`'s default."""
    return Encoders(text=SentenceTransformerEncoder(text_model, device=device, query_precision=query_precision),
                    clip=OpenClipEncoder(clip_model, pretrained=clip_pretrained, device=device))


def load_encoders_for_index(model_specs: dict[str, str | None], text_model: str | None = None,
                            clip_model: str | None = None, clip_pretrained: str | None = None,
                            device: str | None = None, query_precision: str | None = None) -> Encoders:
    """The encoders an index was built with (from its manifest), unless others are named."""
    return load_encoders(
        text_model=text_model or model_specs.get("text_model") or DEFAULT_TEXT_MODEL,
        clip_model=clip_model or model_specs.get("clip_model") or "default",
        clip_pretrained=clip_pretrained if clip_model else model_specs.get("clip_pretrained"),
        device=device, query_precision=query_precision,
    )


def _model_sources(text_model: str, clip_model: str, clip_pretrained: str | None) -> tuple[list[Path] | None, list[Path] | None]:
    """The files each encoder loads from (`indexer.encoder_profiles`), None where they cannot be listed."""
    from indexer.clip_models import ARCHITECTURES, DEFAULT_CLIP, SHIPPED_MODEL_DIR

    minilm = Path(resolve_text_model(DEFAULT_TEXT_MODEL))
    text = [minilm] if text_model == DEFAULT_TEXT_MODEL else [Path(text_model)] if Path(text_model).is_dir() else None
    if clip_pretrained:
        clip = None
    elif clip_model == DEFAULT_CLIP:
        clip = [SHIPPED_MODEL_DIR, minilm]  # an untrained model while the shipped weights are missing
    elif clip_model in ARCHITECTURES:
        clip = [minilm]  # seeded initialisation + the packaged MiniLM text tower
    elif clip_model.startswith("local-dir:") and Path(clip_model[len("local-dir:"):]).is_dir():
        clip = [Path(clip_model[len("local-dir:"):]), minilm]
    else:
        clip = None
    return text, clip


def load_encoders_for_build(text_model: str = DEFAULT_TEXT_MODEL, clip_model: str = "default",
                            clip_pretrained: str | None = None, device: str | None = None,
                            profiles_dir: Path | None = None) -> Encoders:
    """The real encoders, as `load_encoders`; with ``profiles_dir`` (the embedding cache), a model whose
    profile was recorded there for the same files loads only when a build must embed something
    (`indexer.encoder_profiles`): a rebuild of an unchanged catalog loads no model and imports no torch."""
    from indexer.encoder_profiles import ProfileStore, lazy_encoder

    store = ProfileStore(profiles_dir) if profiles_dir is not None else None
    text_sources, clip_sources = _model_sources(text_model, clip_model, clip_pretrained) if store else (None, None)
    return Encoders(
        text=lazy_encoder(lambda: SentenceTransformerEncoder(text_model, device=device), text_sources,
                          {"encoder": "text", "model": text_model}, store),
        clip=lazy_encoder(lambda: OpenClipEncoder(clip_model, pretrained=clip_pretrained, device=device), clip_sources,
                          {"encoder": "clip", "model": clip_model, "pretrained": clip_pretrained}, store),
    )
