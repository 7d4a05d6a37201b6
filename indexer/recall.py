"""Recall@10 of an approximate vector field against exact search, measured at build time.

The queries are real ones: a seeded sample of the vectors a field is queried with (its own stored
vectors for "more like this", product caption vectors for the text -> photo signal, photo vectors
for the photo -> caption signal; see `recall_queries`). A hit counts when its exact score reaches
the exact 10th-best score (so equal-scored duplicates, common in catalogs, do not count as misses).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from indexer.errors import IndexError_
from indexer.index_specs import format_spec, recall_hint
from indexer.vector_index import exact_knn
from indexer.vector_store import FieldSpec, VectorStore

logger = logging.getLogger(__name__)

RECALL_K = 10
SAMPLE_QUERIES = 1000
TIE_TOLERANCE = 1e-5


class RecallTooLowError(IndexError_):
    """An approximate field's measured recall@10 is under ``--min-recall``; nothing was published."""


def _sample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return x if len(x) <= n else x[np.sort(rng.choice(len(x), n, replace=False))]


def recall_queries(vectors: Mapping[str, np.ndarray], n: int = SAMPLE_QUERIES, seed: int = 0) -> dict[str, np.ndarray]:
    """Per field, a sample of the vectors it is searched with (the signals of `search.signals`)."""
    rng = np.random.default_rng(seed)
    caption = vectors.get("clip_text", vectors.get("text"))
    queried_with = {"text": [vectors.get("text")], "image": [caption, vectors.get("image")],
                    "clip_text": [vectors.get("image")]}
    out = {}
    for name in vectors:
        sources = [s for s in queried_with.get(name, [vectors[name]]) if s is not None and len(s)
                   and s.shape[1] == vectors[name].shape[1]] or [vectors[name]]
        out[name] = np.concatenate([_sample(s, max(1, n // len(sources)), rng) for s in sources]).astype(np.float32)
    return out


def recall_at_k(store: VectorStore, field_name: str, queries: np.ndarray, vectors: np.ndarray,
                k: int = RECALL_K) -> float:
    """Mean fraction of the exact top-k (by score, ties included) that ``store`` returns for ``queries``."""
    k = min(k, len(vectors))
    if k == 0 or len(queries) == 0:
        return 1.0
    _, found = store.search(field_name, queries, k)
    return float(np.mean(recall_per_query(queries, vectors, found, k)))


def recall_per_query(queries: np.ndarray, vectors: np.ndarray, found: np.ndarray, k: int = RECALL_K) -> np.ndarray:
    """Per query, the share of its exact top-``k`` (by score, ties included) among ``found``'s first ``k`` rows
    (``-1``: no hit), e.g. of a search asked for more than ``k`` as a query is (`benchmarks/query_recall.py`)."""
    exact_scores, _ = exact_knn(queries, vectors, k)
    threshold = exact_scores[:, -1:] - TIE_TOLERANCE
    found = found[:, :k]
    valid = found >= 0
    true_scores = np.einsum("qd,qkd->qk", queries, vectors[np.maximum(found, 0)])
    hits = ((true_scores >= threshold) & valid).sum(axis=1)
    return np.minimum(hits, k) / k


def check_recall(store: VectorStore, vectors: Mapping[str, np.ndarray], specs: Mapping[str, FieldSpec],
                 approximate: Mapping[str, bool], min_recall: float) -> dict[str, float]:
    """Recall@10 of every approximate field; `RecallTooLowError` naming the parameter to raise when one is too low."""
    queries = recall_queries(vectors)
    recall = {name: round(recall_at_k(store, name, queries[name], vectors[name]), 4)
              for name in vectors if approximate.get(name)}
    for name, value in recall.items():
        logger.info("field %s (%s): recall@%d %.4f", name, format_spec(specs[name]), RECALL_K, value)
    low = {name: value for name, value in recall.items() if value < min_recall}
    if low:
        problems = "; ".join(f"field {name!r} ({format_spec(specs[name])}) has recall@{RECALL_K} {value:.3f} "
                             f"< --min-recall {min_recall:g}: {recall_hint(specs[name])}" for name, value in low.items())
        raise RecallTooLowError(f"{problems}. Nothing was published; the previous index stays current")
    return recall
