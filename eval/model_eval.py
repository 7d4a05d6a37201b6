"""Held-out evaluation of a CLIP model on a catalog (`prodsearch eval model`).

Two tasks over products held out by id (see `indexer.training.data.is_held_out`):

1. Title -> its own photo. Gallery: every photo of the catalog (or the held-out photos only).
   Recall@1, Recall@10, MRR, plus Recall@10 counting any photo whose product has the same title.
   Plain numpy (chunked score matrix; a target's rank is the number of gallery scores above it),
   since a 4k x 44k run file would be needlessly large for ranx.
2. Attribute queries "<colour> <gender> <article type>", graded from attributes (2: all three
   match, 1: article type and one other match) over held-out products: precision@10 (grade >= 1)
   and nDCG@10 (linear gain, as ranx's ``ndcg``) for visual-only retrieval (query text vs photos),
   text-only retrieval (query text vs titles, both through the model's text tower) and their RRF
   fusion (k=60). Computed in numpy; `tests/eval/test_model_eval.py` checks them against ranx.

A random-embedding baseline goes through the same code.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)
QUERY_ATTRIBUTES = ("colour", "gender", "article_type")


# ---------- pure metrics ----------

def target_ranks(queries: np.ndarray, gallery: np.ndarray, targets: np.ndarray,
                 chunk: int = 512) -> np.ndarray:
    """0-based rank of gallery row ``targets[i]`` for query i (ties counted in the target's favour)."""
    ranks = np.empty(len(queries), dtype=np.int64)
    for s in range(0, len(queries), chunk):
        scores = queries[s:s + chunk] @ gallery.T
        own = scores[np.arange(scores.shape[0]), targets[s:s + chunk]]
        ranks[s:s + chunk] = (scores > own[:, None]).sum(1)
    return ranks


def group_ranks(queries: np.ndarray, gallery: np.ndarray, query_groups: np.ndarray, gallery_groups: np.ndarray,
                chunk: int = 512) -> np.ndarray:
    """0-based rank of the best-scored gallery row in the query's group (e.g. same title)."""
    ranks = np.empty(len(queries), dtype=np.int64)
    for s in range(0, len(queries), chunk):
        scores = queries[s:s + chunk] @ gallery.T
        same = gallery_groups[None, :] == query_groups[s:s + chunk, None]
        best = np.where(same, scores, -np.inf).max(1)
        ranks[s:s + chunk] = (scores > best[:, None]).sum(1)
    return ranks


def recall_at(ranks: np.ndarray, k: int) -> float:
    return float((ranks < k).mean()) if len(ranks) else 0.0


def mrr(ranks: np.ndarray) -> float:
    return float((1.0 / (ranks + 1)).mean()) if len(ranks) else 0.0


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores per row, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def rrf(rankings: Sequence[np.ndarray], k: int = 60, depth: int = 100) -> np.ndarray:
    """Reciprocal-rank fusion of full rankings (rows of indices, best first) with the engine's own
    `search.fusion.fuse`; returns the top ``depth`` per row."""
    from search.fusion import Run, fuse

    rows = []
    for q in range(rankings[0].shape[0]):
        runs = {str(i): Run(r[q].astype(np.int64), -np.arange(r.shape[1], dtype=np.float64))
                for i, r in enumerate(rankings)}
        rows.append(fuse(runs, "rrf", rrf_k=k).docs[:depth])
    return np.stack(rows)


def precision_ndcg_at(ranked: np.ndarray, grades: np.ndarray, k: int = 10) -> tuple[float, float]:
    """Mean precision@k (grade >= 1) and nDCG@k (linear gain) of ranked rows over a [Q, N] grade matrix."""
    top = ranked[:, :k]
    gains = np.take_along_axis(grades, top, 1).astype(float)
    precision = (gains > 0).sum(1) / k
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (gains * discounts[:gains.shape[1]]).sum(1)
    ideal = -np.sort(-grades, axis=1)[:, :k].astype(float)
    idcg = (ideal * discounts[:ideal.shape[1]]).sum(1)
    ndcg = np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)
    return float(precision.mean()), float(ndcg.mean())


def attribute_keys(attributes: Sequence[dict[str, str]]) -> list[tuple[str, ...]]:
    """(colour, gender, article type) of each product, lower-cased; "" where missing."""
    return [tuple(a.get(k, "").strip().lower() for k in QUERY_ATTRIBUTES) for a in attributes]


def attribute_combinations(keys: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The distinct complete combinations among `attribute_keys`, sorted: one query each."""
    return sorted({k for k in keys if all(k)})


def attribute_queries(attributes: Sequence[dict[str, str]], min_relevant: int = 1) -> tuple[list[str], np.ndarray]:
    """Distinct "<colour> <gender> <article type>" queries and their [Q, N] grade matrix."""
    keys = attribute_keys(attributes)
    combos = attribute_combinations(keys)
    grades = np.zeros((len(combos), len(keys)), dtype=np.int8)
    for q, (colour, gender, article) in enumerate(combos):
        for i, (c, g, a) in enumerate(keys):
            if a == article and c == colour and g == gender:
                grades[q, i] = 2
            elif a == article and (c == colour or g == gender):
                grades[q, i] = 1
    keep = (grades == 2).sum(1) >= min_relevant
    return [" ".join(c) for c, k in zip(combos, keep, strict=True) if k], grades[keep]


# ---------- whole-model evaluation ----------

def compute_metrics(image_emb: np.ndarray, title_emb: np.ndarray, query_emb: np.ndarray, held_out: np.ndarray,
                    titles: Sequence[str], grades: np.ndarray) -> dict[str, float]:
    """All metrics from embeddings: images/titles one row per product-with-photo; queries/grades over held-out."""
    held = np.flatnonzero(held_out)
    metrics: dict[str, float] = {"held_out_products": float(len(held)), "gallery_all": float(len(image_emb)),
                                 "attribute_queries": float(len(query_emb))}
    title_ids = np.unique(np.asarray(titles), return_inverse=True)[1]
    q = title_emb[held]
    for name, gallery, targets, groups in (("all", image_emb, held, title_ids),
                                           ("heldout", image_emb[held], np.arange(len(held)), title_ids[held])):
        ranks = target_ranks(q, gallery, targets)
        metrics[f"title2photo_{name}_R@1"] = recall_at(ranks, 1)
        metrics[f"title2photo_{name}_R@10"] = recall_at(ranks, 10)
        metrics[f"title2photo_{name}_MRR"] = mrr(ranks)
        metrics[f"title2photo_{name}_sametitle_R@10"] = recall_at(group_ranks(q, gallery, title_ids[held], groups), 10)
    if len(query_emb):
        n = len(held)
        visual = top_k(query_emb @ image_emb[held].T, n)
        text = top_k(query_emb @ title_emb[held].T, n)
        for name, ranked in (("visual", visual), ("text", text), ("rrf", rrf([visual, text], depth=100))):
            p, nd = precision_ndcg_at(ranked, grades)
            metrics[f"attr_{name}_P@10"], metrics[f"attr_{name}_nDCG@10"] = p, nd
    return metrics


def random_unit(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def embed_photos(loaded: Any, photos: Any, batch_size: int = 512) -> np.ndarray:
    """L2-normalised image embeddings of uint8 photos [N, H, W, 3] (as `load_photos` gives), in batches."""
    import torch
    from tqdm import tqdm

    from indexer.training.data import normalize_stage, to_model_input

    mean, std = normalize_stage(loaded.preprocess)
    loaded.model.eval()
    chunks = []
    with torch.no_grad():
        for s in tqdm(range(0, len(photos), batch_size), desc="embed photos", unit="batch", mininterval=10):
            x = to_model_input(photos[s:s + batch_size], mean, std)
            chunks.append(loaded.model.encode_image(x, normalize=True).float().numpy())
    return np.concatenate(chunks)


def evaluate_model(loaded: Any, catalog: Any, holdout_fraction: float = 0.1, cache_dir: Path | None = None,
                   baseline: bool = True, photos: Any = None, seed: int = 0,
                   sources: Any = None) -> dict[str, dict[str, float]]:
    """Embed the catalog with ``loaded`` (a `LoadedClip`) and compute held-out metrics (+ random baseline).
    ``sources``: where photos may be read from (`build_pairs`; `eval model` passes the catalog's)."""
    from indexer.training.data import build_pairs, encode_texts, load_photos

    pairs = build_pairs(catalog, holdout_fraction, sources)
    if photos is None:
        photos = load_photos(pairs.paths, loaded.preprocess, cache_dir)
    image_emb = embed_photos(loaded, photos)
    held = np.flatnonzero(pairs.held_out)
    title_emb = np.zeros((len(pairs), image_emb.shape[1]), dtype=np.float32)
    title_emb[held] = encode_texts(loaded.model, loaded.tokenizer, [pairs.titles[i] for i in held])
    queries, grades = attribute_queries([pairs.attributes[i] for i in held])
    query_emb = encode_texts(loaded.model, loaded.tokenizer, queries) if queries else np.zeros((0, image_emb.shape[1]))
    results = {"model": compute_metrics(image_emb, title_emb, query_emb, pairs.held_out, pairs.titles, grades)}
    if baseline:
        rng = np.random.default_rng(seed)
        d = image_emb.shape[1]
        results["random"] = compute_metrics(random_unit(len(pairs), d, rng), random_unit(len(pairs), d, rng),
                                            random_unit(len(query_emb), d, rng), pairs.held_out, pairs.titles, grades)
    return results


def format_table(results: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per metric, one column per model."""
    names = list(results)
    keys = [k for k in results[names[0]]]
    width = max(len(k) for k in keys) + 2
    lines = ["metric".ljust(width) + "".join(n.rjust(10) for n in names)]
    for key in keys:
        cells = []
        for n in names:
            v = results[n].get(key, float("nan"))
            cells.append(f"{int(v):>10d}" if v == int(v) and v > 1 else f"{v:>10.3f}")
        lines.append(key.ljust(width) + "".join(cells))
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from indexer.catalog import load_catalog
    from indexer.clip_models import create_clip
    from indexer.errors import ProdsearchError

    if args.images_root is not None and not args.images_root.is_dir():
        raise ProdsearchError(f"--images-root {args.images_root}: not a folder")
    if args.json:
        from eval.options import check_out_file

        check_out_file(Path(args.json), "--json")  # before the photos are embedded, not after
    catalog = load_catalog(args.catalog, skip_invalid=True)
    catalog.images_root = args.images_root
    loaded = create_clip(args.model)
    # photos only from the catalog's folder (and --images-root), as `index build` reads them
    results = evaluate_model(loaded, catalog, args.holdout, Path(args.cache_dir) if args.cache_dir else None,
                             baseline=not args.no_baseline, sources=catalog.image_sources)
    print(format_table(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def add_model_command(eval_sub: argparse._SubParsersAction) -> None:
    """Add `eval model` to the `eval` command group."""
    p = eval_sub.add_parser("model", help="held-out retrieval metrics of a CLIP model on a catalog",
                            description=__doc__.split("\n\n")[1])
    p.add_argument("--model", default="default", help="CLIP spec: default, local-dir:PATH, an open_clip name")
    p.add_argument("--catalog", required=True, help="catalog (JSONL/CSV) with local photos")
    p.add_argument("--holdout", type=float, default=0.1, help="held-out fraction, split by product id (0.1)")
    p.add_argument("--cache-dir", default=".prodsearch/cache", help="decoded-photo cache ('' to disable)")
    p.add_argument("--images-root", type=Path, default=None,
                   help="also read local photos from this folder (default: only inside the catalog's folder)")
    p.add_argument("--json", help="also write the metrics as JSON here")
    p.add_argument("--no-baseline", action="store_true", help="skip the random-embedding baseline")
    p.set_defaults(func=_run)
