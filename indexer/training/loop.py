"""The contrastive training loop: CLIP loss with same-text positives, checkpoints, resume, save."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from indexer.clip_models import CONFIG_NAME, WEIGHTS_NAME, LoadedClip, uses_placeholder
from indexer.errors import ProdsearchError
from indexer.training.data import PairSet, PhraseTargets, normalize_stage, to_model_input

logger = logging.getLogger(__name__)
CHECKPOINT_NAME = "checkpoint.pt"


class TrainingError(ProdsearchError):
    """Training cannot start or resume (bad options, mismatched checkpoint)."""


@dataclass
class TrainConfig:
    """Hyper-parameters; saved in checkpoints and checked on resume."""

    base: str = "default"
    lock_text: bool = True
    epochs: float | None = None
    time_budget_min: float | None = None
    max_steps: int | None = None
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 100
    seed: int = 0
    holdout_fraction: float = 0.1
    augment: bool = True
    checkpoint_every_s: float = 300.0
    phrase_weight: float = 1.0


def clip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor,
              text_ids: torch.Tensor) -> torch.Tensor:
    """Symmetric multi-positive InfoNCE: pairs whose texts are identical count as positives, not negatives.

    Each row's loss is logsumexp(all logits) - logsumexp(logits of its positives), so an image is
    not asked to prefer its own copy of a text over an identical one, nor a text its own photo over
    the photo of another product with the same text. (Soft uniform targets would not do this: with
    identical texts they give exactly the plain CLIP loss.) Without duplicates it is the CLIP loss.
    """
    logits = logit_scale * image_emb @ text_emb.t()
    positives = text_ids[:, None] == text_ids[None, :]
    masked = logits.masked_fill(~positives, float("-inf"))
    i2t = torch.logsumexp(logits, 1) - torch.logsumexp(masked, 1)
    t2i = torch.logsumexp(logits, 0) - torch.logsumexp(masked, 0)
    return 0.5 * (i2t.mean() + t2i.mean())


def augment(x: torch.Tensor, generator: torch.Generator, max_shift: int = 4) -> torch.Tensor:
    """Random horizontal flip per image, and one small random translation (reflect-padded) per batch."""
    flip = torch.rand(x.shape[0], generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if max_shift:
        h, w = x.shape[2:]
        padded = F.pad(x, (max_shift,) * 4, mode="reflect")
        dy, dx = torch.randint(0, 2 * max_shift + 1, (2,), generator=generator).tolist()
        x = padded[:, :, dy:dy + h, dx:dx + w]
    return x


def _trainable_state(model: torch.nn.Module, lock_text: bool) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if not (lock_text and k.startswith("text."))}


def save_model(loaded: LoadedClip, out_dir: Path, lock_text: bool) -> None:
    """Save in open_clip's local-dir layout; a packaged text tower (placeholder config) is not stored."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    if loaded.config is not None:
        config = loaded.config
        strip_text = uses_placeholder(config) and lock_text
    else:
        import open_clip

        if loaded.name.startswith("local-dir:"):
            source = Path(loaded.name[len("local-dir:"):]) / CONFIG_NAME
            model_cfg = json.loads(source.read_text(encoding="utf-8"))["model_cfg"] if source.is_file() else None
        else:
            model_cfg = open_clip.get_model_config(loaded.name.split(":")[0])
        if model_cfg is None:
            raise TrainingError(f"cannot save {loaded.name!r}: its open_clip config is unknown")
        pre = {k: getattr(loaded.model.visual, k, None) for k in ("image_mean", "image_std")}
        config = {"model_cfg": model_cfg,
                  "preprocess_cfg": {"mean": list(pre["image_mean"] or (0.48145466, 0.4578275, 0.40821073)),
                                     "std": list(pre["image_std"] or (0.26862954, 0.26130258, 0.27577711))}}
        strip_text = False
    state = {k: v.detach().contiguous().clone() for k, v in loaded.model.state_dict().items()
             if not (strip_text and k.startswith("text."))}
    save_file(state, str(out_dir / WEIGHTS_NAME))
    os.chmod(out_dir / WEIGHTS_NAME, 0o644)  # safetensors writes 0600; the model is meant to be shared
    (out_dir / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def _lr_at(cfg: TrainConfig, step: int, progress: float) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def pick_phrases(table: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One phrase index per row of ``table`` ([B, 3], -1 = none), uniformly among the row's phrases; -1 if none."""
    valid = table >= 0
    weights = valid.float() + (~valid.any(1, keepdim=True)).float()  # rows without phrases: any column (-1)
    col = torch.multinomial(weights, 1, generator=generator).squeeze(1)
    return table[torch.arange(len(table)), col]


def train(loaded: LoadedClip, pairs: PairSet, photos: torch.Tensor, text_emb: np.ndarray | None,
          cfg: TrainConfig, out_dir: Path, resume: bool = False, phrases: PhraseTargets | None = None,
          phrase_emb: np.ndarray | None = None) -> dict[str, Any]:
    """Train ``loaded.model`` in place on the training split; returns a summary (losses, time, steps).

    ``text_emb`` holds precomputed text embeddings (one row per pair) when the text tower is locked.
    With ``phrases`` and ``cfg.phrase_weight > 0`` each photo is also contrasted against one of its
    short shopper phrases ("blue men tshirts"), picked at random each step, so the image tower learns
    the region of text space that short queries fall in, not only that of full captions
    (``phrase_emb``: their precomputed embeddings when the text tower is locked).
    Stops at ``max_steps``, after ``epochs``, or when ``time_budget_min`` is spent (cosine schedule
    over whichever applies). Checkpoints to ``out_dir/checkpoint.pt`` every few minutes.
    """
    model = loaded.model
    torch.manual_seed(cfg.seed)
    train_idx = np.flatnonzero(~pairs.held_out)
    if len(train_idx) < 2:
        raise TrainingError("fewer than 2 training pairs after the held-out split")
    bs = min(cfg.batch_size, len(train_idx))
    steps_per_epoch = max(1, len(train_idx) // bs)
    total_steps = cfg.max_steps or (int(math.ceil(cfg.epochs * steps_per_epoch)) if cfg.epochs else None)
    if total_steps is None and not cfg.time_budget_min:
        raise TrainingError("give --epochs, --time-budget or --steps")
    if cfg.lock_text:
        model.lock_text_tower(unlocked_layers=0, freeze_layer_norm=True)
        if text_emb is None:
            raise TrainingError("locked text tower needs precomputed text embeddings")
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    mean, std = normalize_stage(loaded.preprocess)
    text_all = torch.from_numpy(text_emb) if text_emb is not None else None
    text_ids = torch.from_numpy(pairs.text_ids)
    use_phrases = phrases is not None and cfg.phrase_weight > 0 and bool(phrases.texts)
    if use_phrases and cfg.lock_text and phrase_emb is None:
        raise TrainingError("locked text tower needs precomputed phrase embeddings")
    phrase_table = torch.from_numpy(phrases.table) if use_phrases else None
    phrase_all = torch.from_numpy(phrase_emb) if use_phrases and phrase_emb is not None else None

    step, elapsed, losses = 0, 0.0, []
    ckpt_path = out_dir / CHECKPOINT_NAME
    if resume:
        if not ckpt_path.is_file():
            raise TrainingError(f"--resume: no checkpoint at {ckpt_path}")
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        saved = ckpt["config"]
        if (saved["base"], saved["batch_size"], saved.get("phrase_weight", 0.0)) != (cfg.base, cfg.batch_size,
                                                                                   cfg.phrase_weight):
            raise TrainingError(f"{ckpt_path} was made with other settings ({ckpt['config']}); start afresh")
        model.load_state_dict(ckpt["model"], strict=False)
        opt.load_state_dict(ckpt["optimizer"])
        step, elapsed, losses = ckpt["step"], ckpt["elapsed"], ckpt["losses"]
        logger.info("resumed from %s at step %d (%.1f min trained)", ckpt_path, step, elapsed / 60)
    out_dir.mkdir(parents=True, exist_ok=True)

    def checkpoint() -> None:
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": _trainable_state(model, cfg.lock_text), "optimizer": opt.state_dict(), "step": step,
                    "elapsed": elapsed, "losses": losses, "config": asdict(cfg)}, tmp)
        os.replace(tmp, ckpt_path)

    def progress() -> float:
        fractions = []
        if total_steps:
            fractions.append(step / total_steps)
        if cfg.time_budget_min:
            fractions.append(elapsed / (cfg.time_budget_min * 60))
        return max(fractions)

    model.train()
    if cfg.lock_text and hasattr(model, "text"):
        model.text.eval()  # HF towers: no dropout while locked
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    bar = tqdm(total=total_steps, initial=step, desc="train", unit="step", mininterval=10,
               dynamic_ncols=True)
    last_ckpt = time.monotonic()
    window: list[tuple[float, float]] = []
    while progress() < 1.0:
        epoch, pos = divmod(step, steps_per_epoch)
        perm = np.random.default_rng(cfg.seed * 100_003 + epoch).permutation(train_idx)
        batch = torch.from_numpy(perm[pos * bs:(pos + 1) * bs])
        gen.manual_seed(cfg.seed * 1_000_003 + step)
        t0 = time.monotonic()
        x = to_model_input(photos[batch], mean, std)
        if cfg.augment:
            x = augment(x, gen)
        for group in opt.param_groups:
            group["lr"] = _lr_at(cfg, step, progress())
        image = model.encode_image(x, normalize=True)
        if cfg.lock_text:
            text = text_all[batch]
        else:
            text = model.encode_text(loaded.tokenizer([pairs.captions[i] for i in batch.tolist()]), normalize=True)
        scale = model.logit_scale.exp().clamp(max=100.0)
        loss = clip_loss(image, text, scale, text_ids[batch])
        if use_phrases:
            chosen = pick_phrases(phrase_table[batch], gen)
            has = chosen >= 0
            if int(has.sum()) > 1:
                picked = chosen[has]
                if phrase_all is not None:
                    target = phrase_all[picked]
                else:
                    target = model.encode_text(loaded.tokenizer([phrases.texts[i] for i in picked.tolist()]),
                                               normalize=True)
                loss = loss + cfg.phrase_weight * clip_loss(image[has], target, scale, picked)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100.0))
        dt = time.monotonic() - t0
        elapsed += dt
        step += 1
        losses.append(loss.item())
        window = (window + [(dt, len(batch))])[-20:]
        rate = sum(n for _, n in window) / max(sum(t for t, _ in window), 1e-9)
        remaining = (1.0 - progress()) * (elapsed / max(progress(), 1e-9))
        bar.update(1)
        bar.set_postfix_str(f"epoch {step / steps_per_epoch:.2f} loss {np.mean(losses[-20:]):.3f} "
                            f"{rate:.0f} img/s T={1 / scale.item():.3f} eta {remaining / 60:.1f} min", refresh=False)
        if time.monotonic() - last_ckpt > cfg.checkpoint_every_s:
            checkpoint()
            last_ckpt = time.monotonic()
            logger.info("step %d epoch %.2f loss %.4f %.0f img/s", step, step / steps_per_epoch,
                        np.mean(losses[-50:]), rate)
    bar.close()
    checkpoint()
    model.eval()
    return {"steps": step, "epochs": step / steps_per_epoch, "train_seconds": elapsed, "losses": losses,
            "train_pairs": int(len(train_idx)), "held_out_pairs": int(pairs.held_out.sum())}
