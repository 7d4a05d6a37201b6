"""Inferred values: the catalog value a query's unknown words most resemble, by the engine's own text model.

The parser (`search.understanding`) names a value only when a span is a value, a synonym of one, or a typo of
either; a shopper's word no rule holds ("peony", "toffee", "pewter", "henley") names nothing. Here each such span
(consecutive words that named no value and are not stop words) is embedded with the text encoder the Searcher
already runs, and compared with every value name of the catalog's small fields (embedded once, when the parser
turns inference on: `QueryUnderstanding.infer_with`; not kept on disk). A span names the best value of a field the
parser left unnamed only when its cosine is at least `MIN_SIMILARITY` and `MIN_MARGIN` above that field's runner-up
(chosen on `benchmarks/shopper_words.py`'s `core` list: 92% of accepted words right there), with the low confidence
`INFERRED_CONFIDENCE`: it feeds the `attributes` signal and the ranker like a parsed value, never a filter, never a
rewrite of the searched text.

Off by default (`PRODSEARCH_INFER_VALUES=1` turns it on in the Searcher): on the held-out `fresh` word list it helped
little (nDCG@10 0.644 -> 0.655; README, "Inferred values") for its cost: one extra encoder call per query with unknown
words (cached per span), far over the understanding's latency budget.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from search.vocabulary import BRAND

logger = logging.getLogger(__name__)

ENV = "PRODSEARCH_INFER_VALUES"
MIN_SIMILARITY = 0.6  # cosine of span and value name (MiniLM), chosen on the core word list
MIN_MARGIN = 0.1  # over the same field's second-best value
INFERRED_CONFIDENCE = 0.5  # below a typo'd synonym's (0.9 * 0.8)
MAX_FIELD_VALUES = 300  # larger fields (brands, years, ids) are not inferred
MAX_SPAN_WORDS = 3
SPAN_CACHE = 8192

Encode = Callable[[Sequence[str]], np.ndarray]


def enabled() -> bool:
    return os.environ.get(ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Inferred:
    field: str
    value: str
    code: int
    similarity: float
    margin: float


class ValueInference:
    """Value-name embeddings of a vocabulary's small fields, and the best (field, value) for an unknown span."""

    def __init__(self, fields: dict[str, list[str]], encode: Encode, *, min_similarity: float = MIN_SIMILARITY,
                 min_margin: float = MIN_MARGIN):
        """``fields``: field -> its value names by code; ``encode``: texts -> L2-normalised rows."""
        self.encode = encode
        self.min_similarity = min_similarity
        self.min_margin = min_margin
        self.names = {f: v for f, v in fields.items() if 2 <= len(v) <= MAX_FIELD_VALUES and f != BRAND}
        every = [v for values in self.names.values() for v in values]
        vectors = np.asarray(encode(every), dtype=np.float32) if every else np.zeros((0, 1), np.float32)
        self._vectors: dict[str, np.ndarray] = {}
        at = 0
        for name, values in self.names.items():
            self._vectors[name] = vectors[at:at + len(values)]
            at += len(values)
        self._cache: dict[str, tuple[Inferred, ...]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget the texts seen (benchmarks time cold parses)."""
        with self._lock:
            self._cache.clear()

    def _guesses(self, texts: list[str]) -> dict[str, tuple[Inferred, ...]]:
        """Per text, per field, its best value when above the similarity and the margin, best first; the texts not
        seen before are encoded in one call."""
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            vectors = np.asarray(self.encode(missing), dtype=np.float32)
            for text, vector in zip(missing, vectors, strict=True):
                known[text] = self._best(vector)
            with self._lock:
                if len(self._cache) > SPAN_CACHE:
                    self._cache.clear()
                self._cache.update({t: known[t] for t in missing})
        return known

    def _best(self, vector: np.ndarray) -> tuple[Inferred, ...]:
        out = []
        for name, vectors in self._vectors.items():
            sims = vectors @ vector
            order = np.argsort(-sims)[:2]
            best, second = float(sims[order[0]]), float(sims[order[1]])
            if best >= self.min_similarity and best - second >= self.min_margin:
                out.append(Inferred(name, self.names[name][int(order[0])], int(order[0]), best, best - second))
        return tuple(sorted(out, key=lambda i: -i.similarity))

    def infer(self, spans: Sequence[Sequence[str]], named: set[str]) -> list[tuple[str, Inferred, int]]:
        """For each run of unknown words, values of fields not in ``named`` (nor inferred before): the run's, then
        each of its words' (a run of several words: "pewter sweats"), at most one a text; with how many of the run's
        words each newly understood."""
        texts = [" ".join(span) for span in spans]
        singles = [w for span in spans if len(span) > 1 for w in span]
        guesses = self._guesses(texts + singles)
        out: list[tuple[str, Inferred, int]] = []
        taken = set(named)
        for span, text in zip(spans, texts, strict=True):
            whole = False  # the run itself named a value: all its words are understood
            for candidate in dict.fromkeys([text, *span]):
                guess = next((g for g in guesses[candidate] if g.field not in taken), None)
                if guess is not None:
                    taken.add(guess.field)
                    out.append((candidate, guess, len(span) if candidate == text else 0 if whole else 1))
                    whole = whole or candidate == text
        return out
