"""ANN search parameters for `eval tune --latency-budget-ms`: what each approximate field may be searched with.

For each vector field of the index whose FAISS index is approximate (IVF: ``nprobe``; HNSW: ``efSearch``), the
candidate values are a ladder of powers of two (capped at the IVF's list count) plus the value the build recorded.
Each value's recall@10 is measured once, as the build measures it (`indexer.recall`: a seeded sample of the vectors
the field is queried with, against exact search over the stored vectors), and a value under the recall floor
(`--min-recall`, default the build's) is never offered to the study. The study then picks one value per field
per trial; the trial's quality is scored from runs retrieved with those values, its latency timed with them.

Note: the Searcher asks every signal for ``candidate_depth`` hits, and an HNSW search widens efSearch to that
depth (`indexer.vector_index`), so an efSearch under the depth changes nothing in the engine's own searches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import faiss
import numpy as np

from indexer.index_specs import DEFAULT_MIN_RECALL
from indexer.ivf_codes import ivf_of
from indexer.recall import recall_at_k, recall_queries
from search.config import apply_search_params

logger = logging.getLogger(__name__)

NPROBE_LADDER = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
EF_SEARCH_LADDER = (16, 32, 64, 128, 256, 512, 1024)
RECALL_QUERIES = 500


@dataclass
class AnnSpace:
    """Per approximate field: its parameter name, the values allowed (recall >= floor) and each value's recall."""

    min_recall: float
    params: dict[str, str] = field(default_factory=dict)  # field -> "nprobe" | "efSearch"
    choices: dict[str, list[int]] = field(default_factory=dict)
    recall: dict[str, dict[int, float]] = field(default_factory=dict)
    recorded: dict[str, int] = field(default_factory=dict)  # the value the index was opened with

    def to_dict(self) -> dict:
        return {"min_recall": self.min_recall, "fields": {
            f: {"param": self.params[f], "recorded": self.recorded[f], "allowed": self.choices[f],
                "recall_at_10": {str(v): r for v, r in self.recall[f].items()}} for f in self.params}}


def search_param_of(index: faiss.Index) -> tuple[str, int] | None:
    """The index's ANN search parameter and its current value, or None for an exact (Flat) index."""
    ivf = ivf_of(index)
    if ivf is not None:
        return "nprobe", int(ivf.nprobe)
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    return ("efSearch", int(hnsw.efSearch)) if hnsw is not None else None


def ladder(param: str, index: faiss.Index, recorded: int) -> list[int]:
    if param == "nprobe":
        nlist = int(faiss.extract_index_ivf(index).nlist)
        values = [v for v in NPROBE_LADDER if v < nlist] + [nlist]
    else:
        values = list(EF_SEARCH_LADDER)
    return sorted({*values, recorded})


def current_params(store: object, fields: Mapping[str, str]) -> dict[str, dict[str, float]]:
    return {f: {p: float(search_param_of(store.faiss_index(f))[1])} for f, p in fields.items()}  # type: ignore[attr-defined]


@contextmanager
def using_search_params(store: object, params: dict[str, dict[str, float]]) -> Iterator[None]:
    """The store's fields searched with ``params`` for a block, then set back to what they were."""
    saved = current_params(store, {f: next(iter(p)) for f, p in params.items()})
    apply_search_params(store, params)
    try:
        yield
    finally:
        apply_search_params(store, saved)


def ann_space(store: object, min_recall: float = DEFAULT_MIN_RECALL, n_queries: int = RECALL_QUERIES,
              seed: int = 0) -> AnnSpace | None:
    """The values each approximate field may take (recall@10 >= ``min_recall``); None when every field is exact."""
    faiss_index = getattr(store, "faiss_index", None)
    if faiss_index is None:
        logger.info("ANN search parameters are tuned on the faiss backend only")
        return None
    fields = {f: p for f in store.fields() if (p := search_param_of(faiss_index(f))) is not None}  # type: ignore[attr-defined]
    if not fields:
        return None
    vectors = {f: store.vectors(f, np.arange(store.count(f))) for f in store.fields()}  # type: ignore[attr-defined]
    queries = recall_queries(vectors, n=n_queries, seed=seed)
    space = AnnSpace(min_recall)
    for f, (param, recorded) in fields.items():
        space.params[f], space.recorded[f], space.recall[f] = param, recorded, {}
        for value in ladder(param, faiss_index(f), recorded):
            with using_search_params(store, {f: {param: float(value)}}):
                space.recall[f][value] = round(recall_at_k(store, f, queries[f], vectors[f]), 4)  # type: ignore[arg-type]
        allowed = [v for v, r in space.recall[f].items() if r >= min_recall]
        # nothing reaches the floor: keep the best value only (the build's own recall check is the guard there)
        space.choices[f] = allowed or [max(space.recall[f], key=lambda v: (space.recall[f][v], -v))]
        logger.info("field %s: %s recall@10 %s; allowed %s", f, param, space.recall[f], space.choices[f])
    return space
