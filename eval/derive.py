"""`eval build-qrels`: a graded relevance set derived from catalog attributes (no human labels).

Rule (also in the README and in every ``relevance.json`` this writes):

- Text queries come from attribute combinations present in the catalog: the category
  (``article_type`` attribute, else the last category level) plus one to three of colour,
  gender, brand and usage, each phrased several natural ways ("red dresses", "dresses in red",
  "women's red dresses"...).
- Grade 2: the product has the category and every other query attribute.
  Grade 1: the category matches and exactly one other query attribute fails.
  A "Unisex" product matches a gender query. Matching is case-insensitive.
- Photo queries use a product's own photo: that product is grade 2, others of the same
  category and colour grade 1.
- Combinations with fewer than ``min_support`` grade-2 products, or more than ``max_judged``
  judged products, are skipped (too vague to grade). The train/test split is seeded and made
  per combination, so two phrasings of one need never straddle the split.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.relevance import META_NAME, Qrels, write_qrels, write_queries
from indexer.catalog import Catalog, Product
from indexer.errors import ProdsearchError
from indexer.sources import ImageSourceError

logger = logging.getLogger(__name__)


class DeriveError(ProdsearchError, ValueError):
    """A `build-qrels` option is out of range or names something that is not there."""

RULE = ("derived from catalog attributes: grade 2 = category and every other query attribute match; grade 1 = "
        "category matches and exactly one other attribute fails; Unisex matches a gender; photo queries: "
        "the product itself grade 2, same category + colour grade 1")
FACETS = ("colour", "gender", "brand", "usage")
COMBOS: tuple[tuple[str, ...], ...] = (
    ("colour",), ("gender",), ("brand",), ("usage",), ("colour", "gender"), ("colour", "usage"),
    ("brand", "colour"), ("gender", "usage"), ("colour", "gender", "usage"),
)
TEMPLATES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("colour",): ("{c} {t}", "{t} in {c}"),
    ("gender",): ("{gp} {t}", "{t} {gf}"),
    ("brand",): ("{b} {t}", "{t} by {b}"),
    ("usage",): ("{u} {t}", "{t} for {u} wear"),
    ("colour", "gender"): ("{gp} {c} {t}", "{c} {t} {gf}"),
    ("colour", "usage"): ("{c} {u} {t}", "{u} {t} in {c}"),
    ("brand", "colour"): ("{c} {b} {t}", "{b} {t} in {c}"),
    ("gender", "usage"): ("{gp} {u} {t}", "{u} {t} {gf}"),
    ("colour", "gender", "usage"): ("{gp} {c} {u} {t}", "{c} {u} {t} {gf}"),
}
GENDER_WORDS = {"men": ("men's", "for men"), "women": ("women's", "for women"), "boys": ("boys'", "for boys"),
                "girls": ("girls'", "for girls"), "unisex": ("unisex", "unisex")}
ALIASES = {"colour": ("colour", "color", "basecolour", "base_colour"), "gender": ("gender",),
           "usage": ("usage",), "article_type": ("article_type", "articletype", "type")}


@dataclass(frozen=True)
class Facets:
    """A product's values for the facets queries are built from (lower-cased, '' when missing)."""

    type: str
    colour: str
    gender: str
    brand: str
    usage: str

    def get(self, name: str) -> str:
        return getattr(self, name)


def product_facets(product: Product) -> Facets:
    attrs = {k.lower(): v.strip().lower() for k, v in product.attributes.items()}
    pick = lambda name: next((attrs[a] for a in ALIASES[name] if attrs.get(a)), "")  # noqa: E731
    kind = pick("article_type") or (product.category[-1].lower() if product.category else "")
    return Facets(kind, pick("colour"), pick("gender"), product.brand.strip().lower(), pick("usage"))


def _matches(facets: Facets, name: str, value: str) -> bool:
    actual = facets.get(name)
    return actual == value or (name == "gender" and actual == "unisex" and value in ("men", "women"))


def grade_text(facets: Facets, intent: dict[str, str]) -> int:
    """2: category and every other attribute match; 1: category matches, exactly one other fails; else 0."""
    if facets.type != intent["type"]:
        return 0
    misses = sum(not _matches(facets, k, v) for k, v in intent.items() if k != "type")
    return 2 if misses == 0 else 1 if misses == 1 else 0


def phrasings(intent: dict[str, str], names: tuple[str, ...], display: dict[str, str]) -> list[str]:
    """Natural phrasings of one attribute combination."""
    g = intent.get("gender", "")
    gp, gf = GENDER_WORDS.get(g, (g, f"for {g}"))
    values = {"t": intent["type"], "c": intent.get("colour", ""), "b": display.get(intent.get("brand", ""), ""),
              "u": intent.get("usage", ""), "gp": gp, "gf": gf}
    return [" ".join(t.format(**values).split()) for t in TEMPLATES[names]]


@dataclass
class DerivedSet:
    queries: list[dict[str, Any]]
    qrels: Qrels
    meta: dict[str, Any]


def check_derive_options(*, n_text: int = 300, n_photo: int = 100, phrasings_per_combo: int = 2,
                         min_support: int = 3, max_judged: int = 1500, test_fraction: float = 0.5) -> None:
    """Refuse counts the rule cannot honour (`DeriveError`), before the catalog is read: a negative count used to
    crash in random.sample, a test fraction over 1 left no train query, --text-queries 0 still wrote two."""
    problems = [f"--{name} must be {rule}, got {value!r}" for name, value, rule, ok in (
        ("text-queries", n_text, "0 or more", n_text >= 0),
        ("photo-queries", n_photo, "0 or more", n_photo >= 0),
        ("phrasings", phrasings_per_combo, "at least 1", phrasings_per_combo >= 1),
        ("min-support", min_support, "at least 1", min_support >= 1),
        ("max-judged", max_judged, "at least 1", max_judged >= 1),
        ("test-fraction", test_fraction, "a number from 0 to 1", math.isfinite(test_fraction)
         and 0 <= test_fraction <= 1),
    ) if not ok]
    if not problems and n_text == 0 and n_photo == 0:
        problems.append("--text-queries and --photo-queries are both 0: nothing to derive")
    if problems:
        raise DeriveError("; ".join(problems))


def derive_relevance(catalog: Catalog, *, n_text: int = 300, n_photo: int = 100, phrasings_per_combo: int = 2,
                     min_support: int = 3, max_judged: int = 1500, test_fraction: float = 0.5, seed: int = 13,
                     queries_dir: Path | None = None) -> DerivedSet:
    """Build text and photo queries with graded judgements from ``catalog``'s attributes."""
    check_derive_options(n_text=n_text, n_photo=n_photo, phrasings_per_combo=phrasings_per_combo,
                         min_support=min_support, max_judged=max_judged, test_fraction=test_fraction)
    rng = random.Random(seed)
    products = catalog.products
    facets = [product_facets(p) for p in products]
    display_brand = {f.brand: p.brand for p, f in zip(products, facets, strict=True) if f.brand}
    by_type: dict[str, list[int]] = defaultdict(list)
    for row, f in enumerate(facets):
        if f.type:
            by_type[f.type].append(row)
    # candidate combinations, grouped by which facets they use
    candidates: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for names in COMBOS:
        seen: dict[tuple[str, ...], int] = defaultdict(int)
        for f in facets:
            if f.type and all(f.get(n) for n in names):
                seen[(f.type, *(f.get(n) for n in names))] += 1
        candidates[names] = [dict(zip(("type", *names), key, strict=True)) for key, count in sorted(seen.items())
                             if count >= min_support]
        rng.shuffle(candidates[names])
    queries: list[dict[str, Any]] = []
    qrels: Qrels = {}
    n_combos = max(1, n_text // phrasings_per_combo) if n_text else 0  # --text-queries 0: none
    groups: list[list[str]] = []
    skipped = 0
    pools = [(names, iter(cands)) for names, cands in candidates.items() if cands]
    while len(groups) < n_combos and pools:
        for names, pool in list(pools):
            if len(groups) >= n_combos:
                break
            intent = next(pool, None)
            if intent is None:
                pools.remove((names, pool))
                continue
            grades = {products[r].id: g for r in by_type[intent["type"]] if (g := grade_text(facets[r], intent))}
            if sum(g == 2 for g in grades.values()) < min_support or len(grades) > max_judged:
                skipped += 1
                continue
            texts = phrasings(intent, names, display_brand)
            chosen = rng.sample(texts, min(phrasings_per_combo, len(texts)))
            group = []
            for text in chosen:
                qid = f"t{len(queries) + 1:05d}"
                queries.append({"id": qid, "text": text, "kind": "text", "family": "+".join(sorted(intent)),
                                "intent": intent, "derived": True})
                qrels[qid] = grades
                group.append(qid)
            groups.append(group)
    photo_groups = _photo_queries(catalog, facets, by_type, rng, n_photo, max_judged, queries, qrels, queries_dir)
    _assign_splits(queries, groups, photo_groups, rng, test_fraction)
    meta = {"derived": True, "rule": RULE, "catalog": str(catalog.path.resolve()), "catalog_sha256": catalog.sha256,
            "seed": seed, "text_queries": sum(q["kind"] == "text" for q in queries),
            "photo_queries": sum(q["kind"] == "image" for q in queries), "combinations": len(groups),
            "skipped_combinations": skipped, "min_support": min_support, "max_judged": max_judged,
            "test_fraction": test_fraction,
            "splits": {s: sum(q["split"] == s for q in queries) for s in ("train", "test")}}
    return DerivedSet(queries, qrels, meta)


def _photo_queries(catalog: Catalog, facets: list[Facets], by_type: dict[str, list[int]], rng: random.Random,
                   n_photo: int, max_judged: int, queries: list[dict[str, Any]], qrels: Qrels,
                   queries_dir: Path | None) -> list[list[str]]:
    products = catalog.products
    eligible = [r for r, p in enumerate(products) if p.images and facets[r].type and facets[r].colour
                and not p.images[0].startswith(("http://", "https://"))]
    groups = []
    refused: list[str] = []
    for row in sorted(rng.sample(eligible, min(n_photo, len(eligible)))):
        f = facets[row]
        grades = {products[r].id: 1 for r in by_type[f.type] if facets[r].colour == f.colour}
        if len(grades) > max_judged:
            continue
        grades[products[row].id] = 2
        try:  # the build's rule: a photo outside the catalog's folder (or images_root) is not read, nor written
            path = catalog.image_sources.check_path(catalog.resolve_image(products[row].images[0]))
        except ImageSourceError as exc:
            refused.append(f"{products[row].id}: {exc}")
            continue
        if not path.is_file():
            continue
        ref = os.path.relpath(path, queries_dir.resolve()) if queries_dir else str(path)
        qid = f"p{len(groups) + 1:05d}"
        queries.append({"id": qid, "image": ref, "kind": "image", "intent": {"type": f.type, "colour": f.colour,
                                                                              "product": products[row].id},
                        "derived": True})
        qrels[qid] = grades
        groups.append([qid])
    if refused:
        logger.warning("%d photo query(ies) left out: photo outside the allowed image folders (first: %s)",
                       len(refused), refused[0])
    return groups


def _assign_splits(queries: list[dict[str, Any]], text_groups: list[list[str]], photo_groups: list[list[str]],
                   rng: random.Random, test_fraction: float) -> None:
    split_of: dict[str, str] = {}
    for groups in (text_groups, photo_groups):
        order = list(range(len(groups)))
        rng.shuffle(order)
        n_test = round(len(groups) * test_fraction)
        for rank, idx in enumerate(order):
            for qid in groups[idx]:
                split_of[qid] = "test" if rank < n_test else "train"
    for q in queries:
        q["split"] = split_of[q["id"]]


def write_derived(derived: DerivedSet, out_dir: Path) -> list[Path]:
    """Write ``queries.jsonl``, ``qrels.txt`` and ``relevance.json`` (marked derived) under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "queries.jsonl", out_dir / "qrels.txt", out_dir / META_NAME]
    write_queries(derived.queries, paths[0])
    write_qrels(derived.qrels, paths[1])
    paths[2].write_text(json.dumps(derived.meta, indent=2) + "\n")
    logger.info("derived relevance set in %s: %d queries (%s)", out_dir, len(derived.queries), derived.meta["splits"])
    return paths
