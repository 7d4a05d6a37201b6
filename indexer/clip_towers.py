"""Small image towers for CLIP models trained from scratch on CPU, registered with timm.

open_clip builds them from a config's ``vision_cfg.timm_model_name`` once this module is
imported (`indexer.clip_models` does). Sized for 60x80 product photos (80x64 input).
"""

from __future__ import annotations

from typing import Any

import timm
from timm.models import register_model
from timm.models.resnet import BasicBlock, ResNet
from timm.models.vision_transformer import VisionTransformer

_TIMM_ONLY_KWARGS = ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir", "pretrained_strict")


def _drop_timm_kwargs(kwargs: dict[str, Any]) -> None:
    """timm's factory passes these to every model function; our constructors take none of them."""
    for key in _TIMM_ONLY_KWARGS:
        kwargs.pop(key, None)


def _resnet18_half(pretrained: bool = False, **kwargs: Any) -> ResNet:
    """ResNet-18 at half width (32-64-128-256 channels; stride-4 conv+pool stem), ~2.8M parameters."""
    _drop_timm_kwargs(kwargs)
    model = ResNet(BasicBlock, (2, 2, 2, 2), channels=(32, 64, 128, 256), stem_width=32, **kwargs)
    model.default_cfg = {"pool_size": (3, 2)}  # what open_clip's timm adapter reads
    return model


def _vit_tiny_p8(pretrained: bool = False, **kwargs: Any) -> VisionTransformer:
    """A 6-layer, 192-wide ViT on 8x8 patches of an 80x64 image (80 tokens), ~2.7M parameters."""
    _drop_timm_kwargs(kwargs)
    kwargs.setdefault("img_size", (80, 64))
    model = VisionTransformer(patch_size=8, embed_dim=192, depth=6, num_heads=3, mlp_ratio=4.0, **kwargs)
    model.default_cfg = {}
    return model


TOWERS = {"ps_resnet18_half": _resnet18_half, "ps_vit_tiny_p8": _vit_tiny_p8}


def register_towers() -> None:
    """Register the towers with timm (idempotent)."""
    for name, fn in TOWERS.items():
        if not timm.is_model(name):
            fn.__name__ = name
            register_model(fn)


register_towers()
