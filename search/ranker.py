"""The learned second stage: a LightGBM lambdarank model re-orders the fused top N.

Features per (query, candidate), derived from the signal registry (`search.signals`) so that a new
signal (e.g. `attributes`) becomes features without touching this file:

- for each signal: its raw score (NaN when the signal did not return the product), its reciprocal
  rank (0 when absent) and its min-max normalised score within its run (0 when absent);
- the fused score (divided by the top fused score) and the fused reciprocal rank;
- word overlap of the query with the product's title, brand, and attribute values + category
  (the fraction of query words found there), and the number of query words;
- what the query has (text, photo, product) and whether the product has a photo.

A model file (``ranker.json``) holds the LightGBM model text and the feature names it was trained
with; at search time missing signals become NaN features, so an older model keeps working when a
signal is registered later. `prodsearch eval train-ranker` (eval.train_ranker) writes it.
"""

from __future__ import annotations

import ctypes
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.catalog import Product
from indexer.errors import ProdsearchError
from indexer.json_input import read_json_file
from search.fusion import Run
from search.signals import signal_names

logger = logging.getLogger(__name__)

FORMAT = "prodsearch-ranker/1"
DEFAULT_DEPTH = 200
MIN_DEPTH, MAX_DEPTH = 2, 10_000  # a ranker file's depth, and a config's ranker_depth (search.config)
MAX_MODEL_BYTES = 256 << 20  # a 100-round model is ~0.2 MB; an endless file is not read whole
_WORD = re.compile(r"\w+")
TEXT_FEATURES = ("query_words", "title_overlap", "brand_overlap", "attribute_overlap", "any_overlap")
QUERY_FEATURES = ("has_text", "has_photo", "has_product", "product_has_photo")
FUSED_FEATURES = ("fused_score", "fused_rrank")


class RankerError(ProdsearchError):
    """A ranker model file is missing, unreadable, or not a ranker this version can use."""


def words(text: str | None) -> set[str]:
    return set(_WORD.findall(text.lower())) if text else set()


def feature_names(signals: Sequence[str] | None = None) -> list[str]:
    """The features for ``signals`` (default: every registered signal), in the order a model sees them."""
    signals = signal_names() if signals is None else signals
    per_signal = [f"{s}_{part}" for s in signals for part in ("score", "rrank", "norm")]
    return [*per_signal, *FUSED_FEATURES, *TEXT_FEATURES, *QUERY_FEATURES]


@dataclass(frozen=True)
class QueryInfo:
    """What the features need to know about the request."""

    text: str | None
    has_photo: bool
    has_product: bool


class ProductWords:
    """The products' words per field (title, brand, attribute values + category, any of them) as one sparse
    0/1 matrix, so that the query-word overlaps of 200 candidates are one sparse product (built once)."""

    FIELDS = 4

    def __init__(self, products: Sequence[Product]):
        from scipy.sparse import csr_matrix

        self.vocabulary: dict[str, int] = {}
        indptr, indices = [0], []
        for p in products:
            title, brand = words(p.title), words(p.brand)
            attrs = words(" ".join([*map(str, p.attributes.values()), *p.category]))
            row: set[int] = set()
            for f, field_words in enumerate((title, brand, attrs, title | brand | attrs)):
                row.update(self.FIELDS * self.vocabulary.setdefault(w, len(self.vocabulary)) + f
                           for w in field_words)
            indices.extend(sorted(row))
            indptr.append(len(indices))
        self.matrix = csr_matrix((np.ones(len(indices), np.float32), np.array(indices, np.int64), indptr),
                                 shape=(len(products), self.FIELDS * max(len(self.vocabulary), 1)))

    def overlaps(self, query_words: set[str], rows: np.ndarray) -> np.ndarray:
        """(len(rows), 4): how many of ``query_words`` each row's title, brand, attributes, any field has."""
        from search.tree_kernels import count_overlaps

        ids = np.array([self.vocabulary[w] for w in query_words if w in self.vocabulary], np.int64)
        counts = np.zeros((len(rows), self.FIELDS))
        if len(ids) and len(rows):  # a compiled walk over the candidates' stored words (~20 us for 200)
            count_overlaps(self.matrix.indptr, self.matrix.indices, np.asarray(rows, np.int64), np.unique(ids),
                           self.FIELDS, counts)
        return counts


def _signal_columns(run: Run, docs: np.ndarray, slot: np.ndarray | None = None,
                    out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score, reciprocal rank and min-max score of ``docs`` in ``run`` (NaN / 0 / 0 where absent). ``slot``: per
    product row, its position in ``docs`` or -1 (made once per query by `build_features`; long enough for every
    row of ``run``). ``out``: a (len(docs), 3) array to write them into (a slice of the feature matrix)."""
    n = len(docs)
    if out is None:
        out = np.empty((n, 3), order="F")
    score, rrank, norm = out[:, 0], out[:, 1], out[:, 2]
    score.fill(np.nan)
    rrank.fill(0.0)
    norm.fill(0.0)
    if not len(run) or not n:
        return score, rrank, norm
    if slot is None:
        slot = _slots(docs, [run])
    at = slot[run.docs]
    pos = np.flatnonzero(at >= 0)  # positions in the run of the candidates it has
    where = at[pos]
    s = run.scores.astype(np.float64, copy=False)
    lo, hi = float(s.min()), float(s.max())
    found = s[pos]
    score[where] = found
    rrank[where] = 1.0 / (pos + 1)
    norm[where] = (found - lo) / (hi - lo) if hi > lo else 1.0
    return score, rrank, norm


def _slots(docs: np.ndarray, runs: Sequence[Run]) -> np.ndarray:
    """Per product row up to the largest row in ``docs`` and ``runs``: its position in ``docs``, or -1."""
    size = max([int(docs.max(initial=-1)), *(int(r.docs.max(initial=-1)) for r in runs)]) + 1
    slot = np.full(size, -1, dtype=np.int64)
    slot[docs] = np.arange(len(docs))
    return slot


def build_features(runs: Mapping[str, Run], fused: Run, query: QueryInfo, product_words: ProductWords,
                   has_photo: np.ndarray, signals: Sequence[str]) -> np.ndarray:
    """One row of `feature_names(signals)` per candidate in ``fused`` (its order), written column by column into
    one column-major matrix (LightGBM reads either layout)."""
    docs = np.asarray(fused.docs, dtype=np.int64)
    n = len(docs)
    width = 3 * len(signals) + len(FUSED_FEATURES) + len(TEXT_FEATURES) + len(QUERY_FEATURES)
    if not n:
        return np.zeros((0, width))
    out = np.empty((n, width), order="F")
    slot = _slots(docs, [r for r in runs.values() if len(r)])
    for i, name in enumerate(signals):
        run = runs.get(name)
        _signal_columns(run if run is not None else _EMPTY, docs, slot, out[:, 3 * i:3 * i + 3])
    c = 3 * len(signals)
    top = float(fused.scores[0]) if fused.scores[0] != 0 else 1.0
    out[:, c] = fused.scores / top
    out[:, c + 1] = 1.0 / np.arange(1, n + 1)
    q = words(query.text)
    out[:, c + 2] = float(len(q))
    out[:, c + 3:c + 7] = product_words.overlaps(q, docs) / max(len(q), 1)
    c += 7
    out[:, c] = float(query.text is not None)
    out[:, c + 1] = float(query.has_photo)
    out[:, c + 2] = float(query.has_product)
    out[:, c + 3] = has_photo[docs]
    return out


_EMPTY = Run(np.zeros(0, np.int64), np.zeros(0, np.float64))


def _probe(booster: Any, n_features: int, rng: np.random.Generator) -> np.ndarray:
    """Rows that reach every kind of branch: each feature at the model's thresholds and next to them, 0, within
    1e-35 of 0, NaN, or anywhere in its range."""
    cuts: dict[int, list[float]] = {}
    for tree in booster.dump_model().get("tree_info", []):
        stack = [tree.get("tree_structure", {})]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                cuts.setdefault(int(node["split_feature"]), []).append(float(node["threshold"]))
                stack += [node["left_child"], node["right_child"]]
    x = rng.normal(0, 1, (256, n_features))
    for f in range(n_features):
        at = np.array(cuts.get(f, [0.0]))
        pick = at[rng.integers(len(at), size=256)]
        kind = rng.integers(7, size=256)
        x[:, f] = np.select([kind == 0, kind == 1, kind == 2, kind == 3, kind == 4, kind == 5],
                            [pick, np.nextafter(pick, np.inf), np.nextafter(pick, -np.inf), 0.0, 1e-36, np.nan],
                            pick + x[:, f])
    return x


def _compiled_predictor(booster: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """The model's trees walked by `search.tree_kernels` (~10x LightGBM's own prediction for 200 rows), once it
    has given exactly LightGBM's numbers on probe rows; None (LightGBM predicts) otherwise."""
    try:
        from search.tree_kernels import TreeEnsemble

        trees = TreeEnsemble.from_model_string(booster.model_to_string())
        if trees is None:
            return None
        if booster.best_iteration > 0:  # what `Booster.predict` uses when not told
            trees = trees.first(booster.best_iteration)
        probe = _probe(booster, trees.n_features, np.random.default_rng(0))
        expected = np.asarray(booster.predict(probe, num_threads=1), np.float64)
        if np.array_equal(trees.predict(probe), expected) and \
                np.array_equal(trees.predict(np.asfortranarray(probe)), expected):
            return trees.predict
        logger.warning("the compiled ranker scores differ from LightGBM's on probe rows; LightGBM predicts")
    except Exception as exc:  # any failure here only costs speed: LightGBM predicts
        logger.warning("the ranker's trees cannot be compiled (%s); LightGBM predicts", exc)
    return None


def _direct_predictor(booster: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """LightGBM's own C prediction (``LGBM_BoosterPredictForMat``) with the arguments ``booster.predict(x,
    num_threads=1)`` passes, called directly: the same numbers without its per-call Python set-up (a predictor
    object, a parameter string, checks; ~0.1 ms of a 200-candidate re-rank). None (use `Booster.predict`) where
    this LightGBM lacks the pieces or the model predicts more than one number per row."""
    try:
        from lightgbm import basic

        lib, safe_call = basic._LIB, basic._safe_call
        f64, by_row, by_column = basic._C_API_DTYPE_FLOAT64, basic._C_API_IS_ROW_MAJOR, basic._C_API_IS_COL_MAJOR
        normal = basic._C_API_PREDICT_NORMAL
        if booster.num_model_per_iteration() != 1:
            return None
    except (ImportError, AttributeError):
        return None
    parameters = ctypes.c_char_p(basic._param_dict_to_str({"num_threads": 1}).encode())

    def predict(features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2:
            raise RankerError(f"features must be 2-D, got shape {x.shape}")
        if x.flags.f_contiguous:  # the layout LightGBM's own wrapper would choose
            layout = by_column
        else:
            x, layout = np.ascontiguousarray(x), by_row
        out = np.empty(x.shape[0], dtype=np.float64)
        written = ctypes.c_int64(0)
        safe_call(lib.LGBM_BoosterPredictForMat(
            booster._handle, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(f64), ctypes.c_int32(x.shape[0]),
            ctypes.c_int32(x.shape[1]), ctypes.c_int(layout), ctypes.c_int(normal), ctypes.c_int(0),
            ctypes.c_int(booster.best_iteration), parameters, ctypes.byref(written),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
        if written.value != len(out):
            raise RankerError(f"LightGBM wrote {written.value} predictions for {len(out)} rows")
        return out

    return predict


class Ranker:
    """A trained model and the features it expects; `rerank` re-orders a fused run's top `depth`."""

    def __init__(self, booster: Any, signals: Sequence[str], depth: int = DEFAULT_DEPTH,
                 meta: dict[str, Any] | None = None):
        self.booster = booster
        self.signals = tuple(signals)
        self.depth = depth
        self.meta = meta or {}
        self.path: Path | None = None  # the file it was loaded from or saved to
        expected = feature_names(self.signals)
        if list(booster.feature_name()) != expected:
            raise RankerError(f"the model's features {booster.feature_name()} are not {expected}")
        self._predict = _compiled_predictor(booster) or _direct_predictor(booster)

    def score(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        if self._predict is not None:
            return self._predict(features)
        return np.asarray(self.booster.predict(features, num_threads=1), np.float64)

    def rerank(self, runs: Mapping[str, Run], fused: Run, query: QueryInfo, product_words: ProductWords,
               has_photo: np.ndarray, depth: int | None = None) -> Run:
        """The fused run with its top ``depth`` re-ordered by the model (ties keep the fused order); the rest
        follows unchanged. Scores of the re-ordered part are the model's; the rest are shifted below them."""
        depth = self.depth if depth is None else depth
        head = Run(fused.docs[:depth], fused.scores[:depth])
        if len(head) < 2:
            return fused
        predicted = self.score(build_features(runs, head, query, product_words, has_photo, self.signals))
        order = np.lexsort((np.arange(len(head)), -predicted))
        tail_scores = fused.scores[depth:]
        if len(tail_scores):
            tail_scores = tail_scores - tail_scores[0] + float(predicted.min()) - 1.0
        return Run(np.concatenate([head.docs[order], fused.docs[depth:]]),
                   np.concatenate([predicted[order], tail_scores]))

    # -- files ------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "signals": list(self.signals), "depth": self.depth,
                "features": feature_names(self.signals), "meta": self.meta,
                "model": self.booster.model_to_string()}
        path.write_text(json.dumps(data) + "\n")
        self.path = path.resolve()
        return path


def _checked_fields(data: dict[str, Any]) -> tuple[str, list[str], int]:
    """The model text, signals and depth of a ranker file, or ValueError saying which is wrong."""
    model, signals, depth = data.get("model"), data.get("signals"), data.get("depth", DEFAULT_DEPTH)
    if not isinstance(model, str) or not model.strip():
        raise ValueError("\"model\" must be the LightGBM model text")
    if not isinstance(signals, list) or not all(isinstance(s, str) for s in signals) or \
            len(set(signals)) != len(signals):
        raise ValueError("\"signals\" must be a list of distinct signal names")
    unknown = [s for s in signals if s not in signal_names()]
    if unknown:  # its features would all be missing at search time, silently
        raise ValueError(f"unknown signal(s) {unknown[:5]}; registered: {', '.join(signal_names())}")
    if isinstance(depth, bool) or not isinstance(depth, int) or not MIN_DEPTH <= depth <= MAX_DEPTH:
        raise ValueError(f"\"depth\" must be a whole number from {MIN_DEPTH} to {MAX_DEPTH:,}, got {depth!r}")
    return model, signals, depth


def load_ranker(path: str | Path) -> Ranker:
    """A ranker written by `Ranker.save`; `RankerError` (naming the file) says what is wrong with it."""
    import lightgbm

    path = Path(path)
    try:
        data = read_json_file(path, MAX_MODEL_BYTES)
    except FileNotFoundError as exc:
        raise RankerError(f"ranker model not found: {path} (train one with `prodsearch eval train-ranker`)") from exc
    except ValueError as exc:
        raise RankerError(f"ranker model {path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RankerError(f"{path} is not a ranker model (format {FORMAT!r} expected)")
    try:
        model, signals, depth = _checked_fields(data)
        booster = lightgbm.Booster(model_str=model)
        meta = data.get("meta")
        ranker = Ranker(booster, signals, depth, meta if isinstance(meta, dict) else None)
    except (ValueError, RankerError, lightgbm.basic.LightGBMError) as exc:
        raise RankerError(f"ranker model {path} is invalid: {exc}") from None
    ranker.path = path.resolve()
    logger.info("loaded ranker %s (%d signals, re-ranks the top %d)", path, len(ranker.signals), ranker.depth)
    return ranker


# -- training -------------------------------------------------------------------------------------------
TRAIN_PARAMS: dict[str, Any] = {
    "objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": 0.1, "num_leaves": 15,
    "min_data_in_leaf": 10, "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1,
    "lambdarank_truncation_level": 20, "num_threads": 1, "deterministic": True, "force_row_wise": True,
    "verbosity": -1,
}


def train_ranker(features: Sequence[np.ndarray], labels: Sequence[np.ndarray], signals: Sequence[str], *,
                 depth: int = DEFAULT_DEPTH, rounds: int = 100, seed: int = 13,
                 params: Mapping[str, Any] | None = None, meta: dict[str, Any] | None = None) -> Ranker:
    """A lambdarank model from one feature matrix and one label (grade) vector per query."""
    import lightgbm

    groups = [(f, y) for f, y in zip(features, labels, strict=True) if len(y) > 1 and np.any(y > 0)]
    if not groups:
        raise RankerError("no training query has a relevant product among its candidates; nothing to learn")
    X = np.vstack([f for f, _ in groups])
    y = np.concatenate([y for _, y in groups]).astype(np.int32)
    merged = {**TRAIN_PARAMS, "seed": seed, **(params or {})}
    merged["min_data_in_leaf"] = min(int(merged["min_data_in_leaf"]), max(1, len(X) // 20))
    data = lightgbm.Dataset(X, y, group=[len(g) for _, g in groups], feature_name=feature_names(signals),
                            free_raw_data=False)
    booster = lightgbm.train(merged, data, num_boost_round=rounds)
    return Ranker(booster, signals, depth, {**(meta or {}), "train_queries": len(groups), "train_rows": len(X),
                                            "rounds": rounds})
