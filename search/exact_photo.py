"""Exact photo matches first: a photo of an indexed product ranks that product first, whatever the weights.

The `image` signal's run (query photo against product photos, cosine similarity) says when an
upload is a photo of an indexed product. Both numbers come from the catalog itself (`calibrate`:
sampled product photos searched against the index, which gives each one's *nearest other* products):

- its top similarity is above ``threshold``, a high quantile of the similarity to the nearest other
  product (a photo of another product rarely gets that close), capped so that a re-encoded copy passes;
- or its top similarity is at least the median nearest-other similarity (``floor``) and beats the next
  product by more than ``gap``, a high quantile of the gap between a photo's first and second nearest
  other products (what a photo of a product *not* in the index would show). A resized upload of a
  product photo typically scores 0.94-0.98 against its own photo and far less against any other.

Either way the top product must beat the next by `MIN_MARGIN`: identical photos of two products decide
nothing. `SearchConfig.exact_photo_threshold` / `exact_photo_gap` override the calibrated values.

Before the rule, an uploaded photo is compared pixel for pixel with the stored photos of the image run's
`PIXEL_CANDIDATES` nearest products at or above ``floor`` (`search.photo_pixels`): the one it reproduces
scores 1.0 in the `image` run, as a re-encoded copy of its photo would, and so is the match. CLIP alone
placed the product a few thousandths under a near-identical product (a re-shoot, another shade) for 0.56%
of the 44k catalog's own photos uploaded larger. `SearchConfig.exact_photo_pixel_rmse` sets how close; None
turns the check off (a configured threshold alone leaves it on, with no floor).

A photo matched exactly also brings in the products *like* it: the `matched_product` signal (`search.signals`)
searches the products' text vectors with the matched product's own (its title, type, colour, audience), which
finds the same type and colour far better than the photo's caption embedding (`cross_modal`) does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from indexer.errors import ImageDecodeError
from indexer.images import decode_image_bytes
from search import photo_pixels
from search.fusion import Run

if TYPE_CHECKING:
    from search.config import SearchConfig
    from search.searcher import Searcher
    from search.signals import QueryContext

logger = logging.getLogger(__name__)

SIGNAL = "image"  # the signal whose run judges the match
QUANTILE = 0.99  # of nearest-other-product similarities
MAX_THRESHOLD = 0.98  # a re-encoded copy of a product photo scores above this with CLIP
MIN_MARGIN = 1e-4  # top-1 must beat top-2 by this much (identical photos of two products decide nothing)
SAMPLE = 512
PIXEL_CANDIDATES = 3  # the image run's nearest products whose stored photo an upload is compared with, pixel for pixel
TEXT_FIELD = "text"  # the vector field the `matched_product` signal searches with the matched product's vector
_IMAGE_RUN = "_image_run"  # where the `image` signal leaves its run on the request (`QueryContext`)


@dataclass(frozen=True)
class Calibration:
    threshold: float
    floor: float  # the median nearest-other similarity: below it a photo is never an exact match
    gap: float  # above `floor`, the top product must beat the next by more than this
    sampled: int
    quantile: float
    nearest_other_quantile: float  # the quantile of top-2 similarities before the cap
    nearest_other_median: float
    self_median: float  # top-1 (the product's own photo) similarity: ~1.0

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}


def calibrate(photo_vectors: np.ndarray, search: Callable[[np.ndarray], Run], *, quantile: float = QUANTILE,
              max_threshold: float = MAX_THRESHOLD) -> Calibration:
    """Threshold from the top-1 vs top-2 similarities of ``photo_vectors`` (one row per sampled product photo)
    searched with ``search`` (a vector -> the image signal's run, products collapsed, at least 2 deep)."""
    top1, top2, gaps = [], [], []
    for vec in photo_vectors:
        run = search(vec.reshape(1, -1))
        if len(run) >= 2:
            top1.append(float(run.scores[0]))
            top2.append(float(run.scores[1]))
        if len(run) >= 3:
            gaps.append(float(run.scores[1] - run.scores[2]))  # the photo left out: its first two "others"
    if not top2:
        return Calibration(max_threshold, max_threshold, 1.0, 0, quantile, float("nan"), float("nan"), float("nan"))
    q = float(np.quantile(top2, quantile))
    threshold = min(q, max_threshold)
    floor = min(float(np.median(top2)), threshold)
    gap = float(np.quantile(gaps, quantile)) if gaps else 1.0
    calibration = Calibration(threshold, floor, gap, len(top2), quantile, q, float(np.median(top2)),
                              float(np.median(top1)))
    logger.info("exact-photo threshold calibrated on %d product photos: %s", len(top2), calibration.to_dict())
    return calibration


def exact_match(run: Run | None, threshold: float, floor: float | None = None, gap: float | None = None,
                min_margin: float = MIN_MARGIN) -> int | None:
    """The product row an image run identifies exactly, or None (the rule: see the module docstring)."""
    if run is None or not len(run):
        return None
    top = float(run.scores[0])
    margin = top - float(run.scores[1]) if len(run) > 1 else float("inf")
    if margin < min_margin:
        return None
    if top >= threshold or (floor is not None and gap is not None and top >= floor and margin > gap):
        return int(run.docs[0])
    return None


def promote(fused: Run, row: int) -> Run:
    """``fused`` with ``row`` moved to the top (scored just above the old top), order otherwise kept."""
    where = np.flatnonzero(fused.docs == row)
    if len(where) and where[0] == 0:
        return fused
    rest = fused.docs != row
    top = (float(fused.scores[0]) if len(fused) else 0.0) + 1e-6
    return Run(np.concatenate([[row], fused.docs[rest]]).astype(np.int64),
               np.concatenate([[top], fused.scores[rest]]).astype(np.float64))


def calibrate_index(searcher: Searcher) -> Calibration | None:
    """`calibrate` on a seeded sample of the index's product photos (None when it has no photos)."""
    rows = np.unique(searcher.index.image_rows)
    if len(rows) > SAMPLE:
        rows = np.sort(np.random.default_rng(0).choice(rows, SAMPLE, replace=False))
    vectors = [v for r in rows.tolist() if (v := searcher._product_vectors(r)[1]) is not None]
    if not vectors:
        return None
    return calibrate(np.vstack(vectors), lambda v: searcher._dense(SIGNAL, v, 3, None))


def rule(config: SearchConfig, calibration: Callable[[], Calibration | None]) -> tuple[float, float | None, float | None]:
    """(threshold, floor, gap) for `exact_match`: a configured threshold alone is the whole rule (nothing is
    calibrated); otherwise the calibrated values, each overridable in the config."""
    if config.exact_photo_threshold is not None and config.exact_photo_gap is None:
        return config.exact_photo_threshold, None, None
    cal = calibration()
    if cal is None:
        return (MAX_THRESHOLD if config.exact_photo_threshold is None else config.exact_photo_threshold), None, None
    threshold = cal.threshold if config.exact_photo_threshold is None else config.exact_photo_threshold
    return threshold, cal.floor, cal.gap if config.exact_photo_gap is None else config.exact_photo_gap


def remember_image_run(ctx: QueryContext, query: np.ndarray) -> Run:
    """The `image` signal's retrieval (nearest product photos, `pixel_checked`), kept on the request for
    `matched_product`."""
    run = pixel_checked(ctx, ctx.search_field(SIGNAL, query))
    ctx.remember(_IMAGE_RUN, run)
    return run


def pixel_checked(ctx: QueryContext, run: Run) -> Run:
    """``run`` with the product whose stored photo the query photo reproduces pixel for pixel scored 1.0 (first),
    or ``run`` itself when there is none."""
    config = ctx.searcher.config
    if ctx.image is None or not len(run) or not config.exact_photo_first or config.exact_photo_pixel_rmse is None:
        return run
    floor = ctx.searcher.exact_photo_rule()[1]  # below it a photo is never an exact match: nothing is decoded
    stored = []
    for row, score in zip(run.docs[:PIXEL_CANDIDATES].tolist(), run.scores[:PIXEL_CANDIDATES].tolist(), strict=True):
        found = ctx.searcher.index.store.thumbnail(row) if floor is None or score >= floor else None
        if found is not None:
            try:
                stored.append((row, decode_image_bytes(found[1])))
            except ImageDecodeError:
                logger.warning("product row %d: its stored photo does not decode; not compared", row)
    row = photo_pixels.same_photo(ctx.image, stored, config.exact_photo_pixel_rmse) if stored else None
    if row is None:
        return run
    scores = run.scores.copy()
    scores[run.docs == row] = max(1.0, float(run.scores[0]) + 2 * MIN_MARGIN)
    order = np.argsort(-scores, kind="stable")
    return Run(run.docs[order], scores[order], run.scale)


def matched_product(ctx: QueryContext) -> tuple[int, np.ndarray] | None:
    """The row and stored text vector of the product a query photo shows (the `image` run's exact match), or None:
    no photo, the `image` signal off, or no exact match (a photo of something the index does not hold)."""
    run = ctx.embedded(_IMAGE_RUN)
    if ctx.image is None or run is None:
        return None
    row = exact_match(run, *ctx.searcher.exact_photo_rule())
    if row is None:
        return None
    return row, ctx.searcher.index.stored_vectors(TEXT_FIELD, np.array([row]))


def products_like_matched(ctx: QueryContext, matched: tuple[int, np.ndarray]) -> Run:
    """The `matched_product` signal: the products nearest the matched product's text vector, the product itself left
    out (it comes first anyway, `promote`), so that its scores are normalised over the products like it."""
    row, vector = matched
    if ctx.mask is None:  # unfiltered: one more neighbour, the product dropped (no mask over every row to build)
        run = ctx.searcher._dense(TEXT_FIELD, vector, ctx.depth + 1, None)
        keep = np.flatnonzero(run.docs != row)[:ctx.depth]
        return Run(run.docs[keep], run.scores[keep])
    mask = ctx.mask.copy()
    mask[row] = False
    return ctx.searcher._dense(TEXT_FIELD, vector, ctx.depth, mask, ctx.filters, row)
