"""`prodsearch train`: adapt an open_clip model (or train the default one) on a catalog's photos."""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path

from indexer.errors import ProdsearchError

logger = logging.getLogger(__name__)


class TrainOptionsError(ProdsearchError):
    """Inconsistent `prodsearch train` options."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `train` sub-command."""
    p = sub.add_parser("train", help="contrastive (CLIP) training on a catalog's (photo, text) pairs",
                       description="Train an open_clip model on (product photo, product caption) pairs. "
                                   "Held-out products (by id) are evaluated at the end.")
    p.add_argument("--catalog", required=True, help="catalog (JSONL/CSV) with local photos")
    p.add_argument("--images-root", type=Path, default=None,
                   help="also read photos from this folder (default: only inside the catalog's folder, as `index "
                        "build` reads them; others are left out with a warning)")
    p.add_argument("--out", required=True, help="output directory (open_clip local-dir layout + checkpoint)")
    p.add_argument("--base", default="minilm-resnet18h",
                   help="start model: minilm-resnet18h / minilm-vit-tiny (untrained, MiniLM text tower), "
                        "default (the shipped model), local-dir:PATH, or an open_clip name (with --pretrained)")
    p.add_argument("--pretrained", default=None, help="open_clip pretrained tag or checkpoint file for --base")
    p.add_argument("--lock-text", action="store_true", help="freeze the text tower (LiT); its embeddings are cached")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--time-budget", type=float, metavar="MIN", help="train for this many minutes of compute")
    budget.add_argument("--epochs", type=float, help="train for this many epochs")
    budget.add_argument("--steps", type=int, help="train for exactly this many steps (to compare variants)")
    p.add_argument("--image-size", type=int, nargs="+", metavar="PX",
                   help="training/inference resolution: one size or H W (default: the model's own)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--holdout", type=float, default=0.1, help="held-out fraction by product id (0.1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-augment", action="store_true", help="no random flips/shifts")
    p.add_argument("--phrase-weight", type=float, default=1.0,
                   help="weight of a second contrastive loss between each photo and one of its short shopper "
                        "phrases ('<colour> <gender> <type>', '<colour> <type>', '<gender> <type>', from the "
                        "attributes); 0 trains on captions only (default 1)")
    p.add_argument("--workers", type=int, default=2, help="DataLoader workers decoding photos")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice; use fewer when other jobs share the cores)")
    p.add_argument("--cache-dir", default=".prodsearch/cache", help="decoded photos and text embeddings")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Handler of `prodsearch train`; returns an exit code."""
    import torch

    from eval.model_eval import evaluate_model, format_table
    from indexer.catalog import load_catalog
    from indexer.clip_models import build_from_config, create_clip
    from indexer.training.data import build_pairs, cached_text_embeddings, load_photos, phrase_targets
    from indexer.training.loop import TrainConfig, save_model, train

    if not (args.time_budget or args.epochs or args.steps):
        raise TrainOptionsError("give one of --time-budget MIN, --epochs N or --steps N")
    for name in ("time_budget", "epochs", "steps", "batch_size", "lr"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise TrainOptionsError(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.phrase_weight < 0:
        raise TrainOptionsError(f"--phrase-weight must be 0 or more, got {args.phrase_weight}")
    if args.images_root is not None and not args.images_root.is_dir():
        raise TrainOptionsError(f"--images-root {args.images_root}: not a folder")
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    out = Path(args.out)
    cache = Path(args.cache_dir) if args.cache_dir else None
    loaded = create_clip(args.base, args.pretrained)
    if args.image_size:
        if loaded.config is None:
            raise TrainOptionsError("--image-size applies to project configs (minilm-*, default, placeholder "
                                    "local-dir); open_clip models keep their own resolution")
        size = args.image_size * 2 if len(args.image_size) == 1 else args.image_size[:2]
        config = loaded.config
        config["model_cfg"]["vision_cfg"]["image_size"] = list(size)
        state = {k: v for k, v in loaded.model.state_dict().items()}
        loaded = build_from_config(config, None, name=loaded.name)
        loaded.model.load_state_dict(state, strict=False)
    catalog = load_catalog(args.catalog, skip_invalid=True)
    catalog.images_root = args.images_root
    pairs = build_pairs(catalog, args.holdout, catalog.image_sources)  # photos only where `index build` reads them
    logger.info("%d pairs: %d train, %d held out (%d distinct captions)", len(pairs), int((~pairs.held_out).sum()),
                int(pairs.held_out.sum()), int(pairs.text_ids.max()) + 1)
    photos = load_photos(pairs.paths, loaded.preprocess, cache, num_workers=args.workers)
    phrases = phrase_targets(pairs) if args.phrase_weight > 0 else None
    if phrases is not None:
        logger.info("%d distinct shopper phrases; %d pairs have none", len(phrases.texts),
                    int((phrases.table < 0).all(1).sum()))
    text_emb = phrase_emb = None
    if args.lock_text:
        # the cache key names the text tower itself, so architectures sharing MiniLM share the cache
        text_key = (json.dumps(loaded.config["model_cfg"]["text_cfg"], sort_keys=True) if loaded.config
                    else f"{args.base}:{args.pretrained}")
        text_emb = cached_text_embeddings(loaded.model, loaded.tokenizer, pairs.captions, text_key, cache)
        if phrases is not None and phrases.texts:
            phrase_emb = cached_text_embeddings(loaded.model, loaded.tokenizer, phrases.texts, text_key, cache)
    cfg = TrainConfig(base=args.base, lock_text=args.lock_text, epochs=args.epochs, time_budget_min=args.time_budget,
                      max_steps=args.steps, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                      warmup_steps=args.warmup_steps, seed=args.seed, holdout_fraction=args.holdout,
                      augment=not args.no_augment, phrase_weight=args.phrase_weight)
    summary = train(loaded, pairs, photos, text_emb, cfg, out, resume=args.resume, phrases=phrases,
                    phrase_emb=phrase_emb)
    save_model(loaded, out, args.lock_text)
    losses = summary.pop("losses")
    k = max(1, len(losses) // 10)
    summary["loss_first"] = float(sum(losses[:k]) / k)
    summary["loss_last"] = float(sum(losses[-k:]) / k)
    summary.update(command=" ".join(["prodsearch", *sys.argv[1:]]) if sys.argv else "", cpu=platform.processor()
                   or platform.machine(), threads=torch.get_num_threads(), wall_seconds_to_save=time.time() - started)
    logger.info("saved %s (steps %d, %.2f epochs, %.1f min training; loss %.3f -> %.3f)", out, summary["steps"],
                summary["epochs"], summary["train_seconds"] / 60, summary["loss_first"], summary["loss_last"])
    if not args.no_eval:
        results = evaluate_model(loaded, catalog, args.holdout, cache, photos=photos, sources=catalog.image_sources)
        print(format_table(results))
        summary["metrics"] = results
    summary["wall_seconds"] = time.time() - started
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0
