"""The CLIP encoder: an open_clip model (images and texts in one space), see `indexer.clip_models` for the names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from indexer.encoder_parts import l2_normalize, pick_device, weights_fingerprint


def _packaged_text_tower(config: dict | None) -> str | None:
    """`all-MiniLM-L6-v2` when the CLIP text tower is the packaged MiniLM, mean pooled, unprojected:
    it then embeds a short text exactly as the default text encoder does."""
    from indexer.clip_models import MINILM_PLACEHOLDER

    text_cfg = (config or {}).get("model_cfg", {}).get("text_cfg", {})
    if text_cfg.get("hf_model_name") == MINILM_PLACEHOLDER and text_cfg.get("hf_proj_type") is None \
            and text_cfg.get("hf_pooler_type") == "mean_pooler":
        return "all-MiniLM-L6-v2"
    return None


class OpenClipEncoder:
    """An open_clip model (see `indexer.clip_models.create_clip` for the accepted names)."""

    def __init__(self, model_name: str = "default", pretrained: str | None = None, device: str | None = None,
                 batch_size: int = 64):
        import torch

        from indexer.clip_models import create_clip

        self.device = pick_device() if device in (None, "auto") else device
        # A fixed seed makes an untrained model the same in every process, so an index built
        # with it can be queried with it; trained weights overwrite the initialisation anyway.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            self.loaded = create_clip(model_name, pretrained=pretrained, device=self.device)
        if self.device == "cuda":
            self.loaded.model.half()
        base = model_name if pretrained is None else f"{model_name}:{pretrained}"
        # The weights' fingerprint goes into the name, so an index built with other weights
        # under the same model name (a retrained default, an untrained model) is refused on load.
        self.name = f"open_clip:{base}@{weights_fingerprint(self.loaded.model)}"
        self.dim = self.loaded.dim
        self.trained = self.loaded.trained
        self.spec = {"clip_model": model_name, "clip_pretrained": pretrained}
        self.text_tower = _packaged_text_tower(self.loaded.config)
        self.batch_size = batch_size
        context = getattr(self.loaded.tokenizer, "context_length", None)
        self.preprocessing = {"text": f"context_length={context}", "photo": repr(self.loaded.preprocess)}

    def _run(self, fn, batch):  # type: ignore[no-untyped-def]
        import torch

        with torch.inference_mode():
            if self.device == "cuda":
                with torch.autocast("cuda", dtype=torch.float16):
                    out = fn(batch.to(self.device))
            else:
                out = fn(batch.to(self.device))
        return out.float().cpu().numpy()

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        import torch

        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = torch.stack([self.loaded.preprocess(im.convert("RGB")) for im in images[start:start + self.batch_size]])
            chunks.append(self._run(self.loaded.model.encode_image, batch))
        return l2_normalize(np.concatenate(chunks))

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        chunks = []
        for start in range(0, len(texts), self.batch_size):
            tokens = self.loaded.tokenizer(list(texts[start:start + self.batch_size]))
            chunks.append(self._run(self.loaded.model.encode_text, tokens))
        return l2_normalize(np.concatenate(chunks))
