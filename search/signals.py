"""The signals, declared once: what each answers, what it searches, how its query is embedded, its weight.

Every other place that knows about signals derives from this registry: `Searcher.retrieve`
(which signals run for a query and how), the fusion defaults and the validation of `weights`
(`search.config`), the eval modes and presets (`eval.modes`, `eval.runner`), the API's
`GET /signals`, the OpenAPI description of `weights`, and the page's "Why this rank?" panel.

A signal answers one or more query kinds (``text``, ``photo``, ``product`` = "more like this");
for each kind a `QueryEncoder` turns the query into what the signal searches with (the raw
text, a vector from the text encoder or a CLIP tower, or a product's stored vector). Its
retrieval searches the lexical index or one vector field of the index; a signal may bring its
own retrieval function instead. To add a signal: declare a `Signal` (plus a `QueryEncoder` if
none fits) and `register` it, or use `registered(...)` for the length of a ``with`` block.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from indexer.errors import ProdsearchError
from search import exact_photo
from search.attribute_scoring import retrieve_attributes
from search.fusion import Run
from search.timing import timed
from search.understanding import ATTRIBUTES_SIGNAL, parse_query, product_type

if TYPE_CHECKING:
    from PIL import Image

    from indexer.encoders import Encoders
    from search.searcher import Searcher

QueryKind = Literal["text", "photo", "product"]
QUERY_KINDS: tuple[QueryKind, ...] = ("text", "photo", "product")  # the order signals run in
LEXICAL = "lexical"  # `Signal.searches` for the BM25 index; anything else names a vector field of the index
# Up to this many words a query stays inside CLIP's 77-token context, where a shared
# MiniLM text tower gives exactly the text encoder's vector.
SHARED_MAX_WORDS = 40


class SignalError(ProdsearchError, ValueError):
    """A signal declaration that cannot be registered (duplicate name, unknown query kind, bad weight)."""


@dataclass
class QueryContext:
    """One request as the signals see it: its inputs, where to search, and the query embeddings made so far
    (each encoder runs at most once per request: one photo embedding serves `image` and `cross_modal`).
    Thread-safe: a request's signals may run in parallel (`Searcher(signal_threads=...)`); an embedding or a
    BM25 run two signals need is made by the first to ask while the other waits for it."""

    searcher: Searcher
    text: str | None
    image: Image.Image | None
    product_row: int | None  # "more like this": the product's row (left out of the results by `mask`)
    depth: int
    mask: np.ndarray | None
    timings: dict[str, float]
    _embedded: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] | None = None  # the request's filters `mask` was made from (for native filtering)
    typed_text: str | None = None  # the query as typed, when `text` is its rewrite (`search.understanding.search_text`)
    # The query encoders this request's signals use (`plan`): `embedded` waits for one of them still being made.
    _planned: dict[str, QueryEncoder] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _key_locks: dict[str, threading.Lock] = field(default_factory=dict)

    @property
    def encoders(self) -> Encoders:
        return self.searcher.encoders

    def has(self, kind: QueryKind) -> bool:
        return {"text": self.text, "photo": self.image, "product": self.product_row}[kind] is not None

    def plan(self, encoders: Sequence[QueryEncoder]) -> None:
        """Say which query encoders this request will use: another encoder reusing one of them (`QueryEncoder.reuses`)
        then waits for it instead of embedding the query itself, whichever signal asks first."""
        self._planned.update({e.name: e for e in encoders})

    def _made_once(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def embedded(self, encoder: str) -> Any | None:
        """What ``encoder`` made for this request (made now, or waited for, when it is planned), or None."""
        if encoder in self._embedded:
            return self._embedded[encoder]
        planned = self._planned.get(encoder)
        return None if planned is None else self.query(planned)

    def remember(self, key: str, value: Any) -> None:
        """Keep ``value`` on this request under ``key`` for another signal to read with `embedded` (e.g. the
        `image` run `matched_product` reuses); that signal declares ``after=`` the one remembering it."""
        self._embedded[key] = value

    def query(self, encoder: QueryEncoder) -> Any | None:
        """``encoder``'s query for this request (made once, timed under its stage); None when there is none."""
        if encoder.name in self._embedded:
            return self._embedded[encoder.name]
        with self._made_once(encoder.name):
            if encoder.name not in self._embedded:
                value = encoder.reuse(self) if encoder.reuse is not None else None
                if value is None:
                    if encoder.stage is None:
                        value = encoder.embed(self)
                    else:
                        with timed(self.timings, encoder.stage):
                            value = encoder.embed(self)
                self._embedded[encoder.name] = value
        return self._embedded[encoder.name]

    def search_field(self, field_name: str, vector: np.ndarray) -> Run:
        """Nearest products in a vector field of the index (filters applied inside the search)."""
        if field_name not in self.searcher.index.vector_fields:
            raise SignalError(f"a signal searches the vector field {field_name!r}, which this index does not have "
                              f"(it has {', '.join(self.searcher.index.vector_fields)})")
        return self.searcher._dense(field_name, vector, self.depth, self.mask, self.filters, self.product_row)

    def search_lexical(self, text: str) -> Run:
        """BM25 over the products (filters applied), once per text and request (`attributes` reuses it)."""
        key = "_lexical:" + text
        if key not in self._embedded:
            with self._made_once(key):
                if key not in self._embedded:
                    scores, docs = self.searcher.index.lexical.search(text, self.depth, self.mask)
                    self._embedded[key] = Run(docs, scores.astype(np.float64))
        return self._embedded[key]


Embed = Callable[[QueryContext], Any]
Prime = Callable[["Encoders", list[Any]], float]


@dataclass(frozen=True)
class QueryEncoder:
    """Turns one kind of query into what a signal searches with."""

    name: str  # also the key of the eval's batch-encoding times (`encode_seconds`)
    kind: QueryKind
    description: str
    embed: Embed  # the query -> a (1, d) vector, the text itself, ...; None when this query has none
    stage: str | None = None  # the `timings_ms` stage its time counts under (None: too cheap to time)
    # Another encoder's query that serves as this one's when `reuse` says so (shared text towers).
    reuses: str | None = None
    reuse: Callable[[QueryContext], Any | None] | None = None
    # Batch-embeds the eval's queries of this kind into the encoders' cache (`indexer.encoder_cache`).
    prime: Prime | None = None


Retrieve = Callable[[QueryContext, Any], Run]


@dataclass(frozen=True)
class Signal:
    """One retrieval signal: a run of products, best first, that fusion combines with the others."""

    name: str
    queries: Mapping[QueryKind, QueryEncoder]  # the query kinds it answers, each with its encoder
    searches: str  # LEXICAL, or the vector field of the index it searches (`text`, `image`, `clip_text`)
    default_weight: float
    description: str
    # The single-signal eval mode it belongs to: "" = a mode of its own name; None = only in the fused modes.
    eval_mode: str | None = ""
    retrieve: Retrieve | None = None  # default: BM25 or nearest neighbours in `searches`
    # Signals whose runs this one's query reads (e.g. `matched_product` reads the `image` run): it runs after them,
    # also when a request's signals run in parallel (`Searcher(signal_threads=...)`).
    after: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise SignalError(f"signal name {self.name!r}: use letters, digits and _ (it is a weights key)")
        if not self.queries or set(self.queries) - set(QUERY_KINDS):
            raise SignalError(f"signal {self.name!r}: queries must map some of {QUERY_KINDS} to encoders")
        for kind, encoder in self.queries.items():
            if encoder.kind != kind:
                raise SignalError(f"signal {self.name!r}: encoder {encoder.name!r} embeds {encoder.kind} queries, "
                                  f"not {kind}")
        if not (math.isfinite(self.default_weight) and self.default_weight >= 0):
            raise SignalError(f"signal {self.name!r}: default_weight must be a finite number >= 0")
        if self.eval_mode == "":
            object.__setattr__(self, "eval_mode", self.name)

    def run(self, ctx: QueryContext, query: Any) -> Run:
        if self.retrieve is not None:
            return self.retrieve(ctx, query)
        return ctx.search_lexical(query) if self.searches == LEXICAL else ctx.search_field(self.searches, query)

    def describe(self) -> dict[str, Any]:
        """What `GET /signals` shows."""
        return {"name": self.name, "description": self.description, "searches": self.searches,
                "default_weight": self.default_weight,
                "queries": {kind: enc.description for kind, enc in self.queries.items()}}


# -- the built-in query encoders --------------------------------------------------------------------
def _stored_vector(field_index: int) -> Embed:
    def embed(ctx: QueryContext) -> np.ndarray | None:
        if ctx.product_row is None:
            return None
        if "_product_vectors" not in ctx._embedded:  # the product's text and photo vectors, read once
            with ctx._made_once("_product_vectors"):
                if "_product_vectors" not in ctx._embedded:
                    ctx._embedded["_product_vectors"] = ctx.searcher._product_vectors(ctx.product_row)
        return ctx._embedded["_product_vectors"][field_index]
    return embed


def _shared_text_vector(ctx: QueryContext) -> np.ndarray | None:
    """The text encoder's vector, when the CLIP text tower is that encoder and the query fits CLIP's context."""
    if ctx.searcher._shared_text_tower and ctx.text is not None and len(ctx.text.split()) <= SHARED_MAX_WORDS:
        return ctx.embedded("text")
    return None


def _text_vector(ctx: QueryContext) -> np.ndarray | None:
    if ctx.text is None:
        return None
    text = ctx.encoders.text  # `encode_queries`: a query's precision may differ from the products' (indexer.encoders)
    return getattr(text, "encode_queries", text.encode_texts)([ctx.text])


def _clip_text_vector(ctx: QueryContext) -> np.ndarray | None:
    return None if ctx.text is None else ctx.encoders.clip.encode_texts([ctx.text])


def _clip_image_vector(ctx: QueryContext) -> np.ndarray | None:
    return None if ctx.image is None else ctx.encoders.clip.encode_images([ctx.image])


QUERY_TEXT = QueryEncoder("query_text", "text", "the query's words", lambda ctx: ctx.text)
TEXT = QueryEncoder("text", "text", "text encoder", _text_vector, stage="encode_text",
                    prime=lambda enc, texts: enc.text.prime(texts))  # type: ignore[attr-defined]
CLIP_TEXT = QueryEncoder("clip_text", "text", "CLIP text tower", _clip_text_vector, stage="encode_clip_text",
                         reuses="text", reuse=_shared_text_vector,
                         prime=lambda enc, texts: enc.clip.prime(texts))  # type: ignore[attr-defined]
CLIP_IMAGE = QueryEncoder("clip_image", "photo", "CLIP image tower", _clip_image_vector, stage="encode_image",
                          prime=lambda enc, images: enc.clip.prime_images(images))  # type: ignore[attr-defined]
UNDERSTOOD = QueryEncoder("understood", "text", "the catalog values the query names (search.understanding)",
                          parse_query, stage="understand")
PRODUCT_TYPE = QueryEncoder("product_type", "product", "the product's own type (its category's last level)",
                            product_type)
STORED_TEXT = QueryEncoder("stored_text", "product", "the product's stored text vector", _stored_vector(0))
STORED_IMAGE = QueryEncoder("stored_image", "product", "the product's stored photo vector (none without a photo)",
                            _stored_vector(1))
MATCHED_TEXT = QueryEncoder("matched_text", "photo", "the stored text vector of the product the photo shows "
                            "(an exact photo match; none otherwise)", exact_photo.matched_product)

# The defaults come from `prodsearch eval run` with the shipped CLIP (README, "How it works"): a weighted
# sum of min-max scores beat RRF on the fixture and held-out fashion sets; the photo signals' weights below.
BUILTIN_SIGNALS = (
    Signal("lexical", {"text": QUERY_TEXT}, LEXICAL, 1.0,
           "BM25 over the product's title, brand, category, attributes and description"),
    Signal("semantic", {"text": TEXT, "product": STORED_TEXT}, "text", 1.0,
           "the query's text-encoder vector against the products' text vectors"),
    Signal("visual", {"text": CLIP_TEXT}, "image", 1.0,
           "the query text (CLIP text tower) against product photos (CLIP image tower)"),
    Signal("image", {"photo": CLIP_IMAGE, "product": STORED_IMAGE}, "image", 1.0,
           "the query photo (CLIP image tower) against product photos", eval_mode="visual",
           retrieve=exact_photo.remember_image_run),
    # cross_modal 0.25 and matched_product 0.25: the best min-max weights on the train splits of the fixtures' and a
    # 10k fashion set's photo queries (mean of the two; README, "Exact photo matches first").
    Signal("cross_modal", {"photo": CLIP_IMAGE}, "clip_text", 0.25,
           "the query photo (CLIP image tower) against product captions (CLIP text tower)", eval_mode=None),
    # Weight 6, its run on an absolute scale (the share of the query a product holds, `Run.scale`; min-max over the
    # run's 300 candidates gave the worst of them ~0 however much it matched): the smallest weight within 0.0005 of
    # the best mean train-split text nDCG@10 of the fixtures and a 10k fashion set (4: 0.9948, 6: 0.9966, 8: 0.9966);
    # test splits: fixtures 0.9995 vs attributes alone 0.9947, 10k 0.9983 vs 0.9974 (README, "Query understanding").
    # A product query ("more like this") is the seed's type alone (`QueryUnderstanding.product_query`): at weight 6 that
    # type comes first, the vectors order it (README, "Eval per query kind and family": the seed's other values made
    # this signal alone the best on a set graded by them, and no weight let fusion beat it).
    Signal(ATTRIBUTES_SIGNAL, {"text": UNDERSTOOD, "product": PRODUCT_TYPE}, "catalog attribute values", 6.0,
           "products holding the attribute, brand and category values the query names (synonyms and typos "
           "understood), by how many it holds, then BM25; for \"more like this\", the products of the seed's type, "
           "nearest its text vector first", retrieve=retrieve_attributes),
    Signal("matched_product", {"photo": MATCHED_TEXT}, exact_photo.TEXT_FIELD, 0.25,
           "the text vector of the indexed product a photo shows (an exact photo match) against the products' "
           "text vectors: the same type and colour", eval_mode=None, retrieve=exact_photo.products_like_matched,
           after=("image",)),
)

_registry: dict[str, Signal] = {s.name: s for s in BUILTIN_SIGNALS}


# -- the registry ---------------------------------------------------------------------------------------
def register(signal: Signal) -> Signal:
    """Add ``signal`` after the ones already registered (its place sets the order signals run and show in)."""
    global _registry
    if signal.name in _registry:
        raise SignalError(f"a signal named {signal.name!r} is already registered")
    encoders = {e.name: e for s in _registry.values() for e in s.queries.values()}
    for encoder in signal.queries.values():
        if encoders.get(encoder.name, encoder) is not encoder:
            raise SignalError(f"signal {signal.name!r}: another query encoder is already named {encoder.name!r}")
    _registry = {**_registry, signal.name: signal}  # a new dict: a search iterating the old one is not disturbed
    return signal


def unregister(name: str) -> Signal:
    """Remove a registered signal (built-ins included) and return it."""
    global _registry
    if name not in _registry:
        raise SignalError(f"no signal named {name!r} is registered")
    signal = _registry[name]
    _registry = {k: v for k, v in _registry.items() if k != name}
    return signal


@contextmanager
def registered(signal: Signal) -> Iterator[Signal]:
    """``signal`` registered for the length of the block (tests, experiments)."""
    register(signal)
    try:
        yield signal
    finally:
        if _registry.get(signal.name) is signal:
            unregister(signal.name)


def all_signals() -> tuple[Signal, ...]:
    return tuple(_registry.values())


def signal_names() -> tuple[str, ...]:
    return tuple(_registry)


def get_signal(name: str) -> Signal:
    try:
        return _registry[name]
    except KeyError:
        raise SignalError(f"unknown signal {name!r}; valid: {', '.join(_registry)}") from None


def signals_for(kind: QueryKind) -> tuple[Signal, ...]:
    """The signals that answer ``kind`` of query, in registry order."""
    return tuple(s for s in _registry.values() if kind in s.queries)


def default_weights() -> dict[str, float]:
    return {s.name: s.default_weight for s in _registry.values()}


def query_encoders(signals: Sequence[Signal] | None = None) -> dict[str, QueryEncoder]:
    """The query encoders ``signals`` (default: all) use, by name, in first-use order."""
    out: dict[str, QueryEncoder] = {}
    for s in _registry.values() if signals is None else signals:
        for encoder in s.queries.values():
            out.setdefault(encoder.name, encoder)
    return out


def describe_weights() -> str:
    """The text of every `weights` parameter's description (OpenAPI, `--help`)."""
    kinds = lambda s: "/".join(s.queries)  # noqa: E731
    listed = "; ".join(f"{s.name} ({kinds(s)}, default {s.default_weight:g}): {s.description}"
                       for s in _registry.values())
    return ("per-signal fusion weights as name:number pairs, e.g. "
            + ",".join(f"{s.name}:{s.default_weight:g}" for s in list(_registry.values())[:2])
            + "; 0 turns a signal off, a signal not named keeps the engine's weight. Signals: " + listed)
