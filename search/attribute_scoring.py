"""Scoring the catalog by the values a parsed query names: the `attributes` signal, and the relevant set that
`total` and the facets count.

`AttributeScoring` is the products half of `search.understanding.QueryUnderstanding` (the parser is the other
half): it reads the value -> rows lists the parser's class builds (``_rows``), and scores them either with numpy
(the reference, and the path for catalogs under `compiled_from_rows` products and for live rows) or with the
compiled kernels of `search.attribute_kernels` over the named values' posting lists only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from indexer.scratch import ScratchPool
from indexer.vector_index import kth_largest
from search import attribute_kernels
from search.attribute_kernels import holding_all, top_rows
from search.attribute_postings import Postings, QueryLists, build_postings, query_lists
from search.fusion import Run
from search.vocabulary import CATEGORY

if TYPE_CHECKING:
    from search.signals import QueryContext
    from search.understanding import Group, Match, ParsedQuery
    from search.vocabulary import Vocabulary

TIE_BREAK = 0.05  # BM25's share in ordering products that hold the same values (< any confidence step)


class AttributeScoring:
    """Products scored by the values a `ParsedQuery` names (mixed into `QueryUnderstanding`, which sets ``_rows``:
    field -> (rows sorted by value code, each code's offsets into them), ``vocabulary`` and `group_factor`)."""

    _rows: dict[str, tuple[np.ndarray, np.ndarray]]
    vocabulary: Vocabulary

    def group_factor(self, parsed: ParsedQuery, group: Group) -> float:  # defined by the parser's class
        raise NotImplementedError

    def _holders(self, m: Match) -> np.ndarray:
        rows, offsets = self._rows[m.field]
        return rows[offsets[m.code]:offsets[m.code + 1]]

    @functools.cached_property
    def _postings(self) -> Postings:
        """The value -> rows lists and their transpose for the compiled kernels (`search.attribute_kernels`); `_rows`
        is re-pointed at views of the flat lists, so they are held once."""
        fields = {}
        for name, (rows, offsets) in self._rows.items():
            fields[name] = (rows, offsets, np.repeat(np.arange(len(offsets) - 1), np.diff(offsets)))
        postings = build_postings(fields, self.vocabulary.n)
        for name, (rows, offsets) in list(self._rows.items()):
            at = postings.starts[name]
            self._rows[name] = (postings.rows[at:at + len(rows)], offsets)
        attribute_kernels.warm()
        return postings

    def prepare(self) -> None:
        """Build the kernels' lists and load the compiled kernels now (the Searcher does, when it builds this), not on
        a shopper's first query (~0.3 s at 44k products); nothing when the numpy versions score (`_compiled`)."""
        if self._compiled():
            self._postings  # noqa: B018 - a cached property, built here

    @functools.cached_property
    def _scratch(self) -> ScratchPool:
        return ScratchPool(self.vocabulary.n)

    compiled = True  # False: the numpy reference versions score (benchmarks compare the two)
    # Catalogs smaller than this are scored by the numpy versions: at 44k products their tail is the shorter
    # (`benchmarks/understanding_latency.py`, quiet, the same queries: `attributes` p95 0.93 ms numpy vs 1.3-2.0 ms
    # compiled, p50 0.50 vs 0.41), at 1M the compiled one (`benchmarks/scale.py --reference-attributes`: p95 11.7
    # vs 19.3 ms). Only those two sizes were measured; the switch lies between them.
    compiled_from_rows = 200_000

    def _compiled(self) -> bool:
        """Whether the compiled kernels read the holders: from `compiled_from_rows` products, and not when `_holders`
        is replaced (`search.live` adds the live rows' values that way), which the numpy versions call."""
        return self.compiled and self.vocabulary.n >= self.compiled_from_rows and "_holders" not in self.__dict__

    def _query_lists(self, groups: tuple[Group, ...], factors: list[float]) -> QueryLists:
        """The posting lists of ``groups`` (one per match, in order) as the kernels take them."""
        spans = [[(m.field, m.code, m.confidence, int(self._rows[m.field][1][m.code]),
                   int(self._rows[m.field][1][m.code + 1])) for m in group.matches] for group in groups]
        return query_lists(self._postings, spans, factors)

    def _group_factors(self, parsed: ParsedQuery) -> list[float]:
        """Each group's weight in `match_scores` (`group_factor`), in order."""
        return [self.group_factor(parsed, g) for g in parsed.groups]

    def match_scores(self, parsed: ParsedQuery, n: int | None = None) -> np.ndarray:
        """Per product row: the sum over the query's groups of the best confidence among the values it holds, a group
        naming a category (the product type: "dress" in "pink dress", the query's head) counting as much as all the
        query's groups together, so that products of the named type come before products of another type that hold
        the other values (a pink dress, then other dresses, then pink shoes). ``n``: the rows of the index searched
        now (rows past the vocabulary's, e.g. live additions, score 0). Built with ``type_first=False``: every group
        counts 1. The simple dense reference of `top_scored` (which the `attributes` signal uses)."""
        size = max(self.vocabulary.n, n or 0)
        total = np.zeros(size, dtype=np.float64)
        for group, factor in zip(parsed.groups, self._group_factors(parsed), strict=True):
            if len(group.matches) == 1:  # the common case: no per-group array ("men" alone holds ~20k of 44k rows)
                total[self._holders(group.matches[0])] += group.matches[0].confidence * factor
                continue
            best = np.zeros(size, dtype=np.float64)
            for m in group.matches:
                rows = self._holders(m)
                best[rows] = np.maximum(best[rows], m.confidence)
            total += best * factor
        return total[:n] if n is not None else total

    def holders_scores(self, parsed: ParsedQuery, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The rows (ascending, below ``n``) scoring above 0 in `match_scores`, and those scores (the same numbers;
        the scores are a new array, the rows may be the vocabulary's own, never to be written). A query naming one
        value (the common "men", "dresses") costs its holders only; several groups sum over a dense array."""
        groups = parsed.groups
        if len(groups) == 1 and len(groups[0].matches) == 1:
            match = groups[0].matches[0]
            rows = self._holders(match)
            score = match.confidence * 1.0  # one group: its factor is 1 (`match_scores`), the sum 0.0 + score
            if score > 0 and (len(rows) < 2 or bool(np.all(rows[1:] > rows[:-1]))):
                if n is not None:
                    rows = rows[:int(np.searchsorted(rows, n))]
                return rows, np.full(len(rows), score)
        scores = self.match_scores(parsed, n)
        rows = np.flatnonzero(scores > 0)
        return rows, scores[rows]

    def top_scored(self, parsed: ParsedQuery, n: int, mask: np.ndarray | None, depth: int,
                   also: Callable[[], np.ndarray | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first ``depth`` rows (every one when there are at most ``depth``) by `match_scores` descending, then row
        ascending, among the rows below ``n`` that ``mask`` allows scoring above 0; returned ascending, with their
        scores. Compiled: over the named values' posting lists only, stopping once ``depth`` rows hold every group's
        best value (`search.attribute_kernels._top_rows`); else `_reference_top_scored`, the numpy reference.
        ``also`` (called after the walk; e.g. the lexical run's rows): rows added when they score above 0 and as much
        as the depth-th kept row, with their scores (`scores_of`)."""
        if not parsed.groups or n <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        lists = self._query_lists(parsed.groups, self._group_factors(parsed)) if self._compiled() else None
        if lists is None:
            rows, values = _reference_top_scored(self, parsed, n, mask, depth)
        else:
            rows, values = top_rows(self._postings, lists, n, mask, depth, self._scratch)
        more = also() if also is not None and len(rows) >= depth else None
        if more is None or not len(more):
            return rows, values
        at = np.minimum(np.searchsorted(rows, more), len(rows) - 1)  # rows ascend
        more = np.asarray(more[rows[at] != more], np.int64)
        scores = self.scores_of(parsed, more, n, mask, lists)
        tied = (scores > 0) & (scores >= values.min())
        if not tied.any():
            return rows, values
        rows, values = np.concatenate([rows, more[tied]]), np.concatenate([values, scores[tied]])
        order = np.argsort(rows, kind="stable")
        return rows[order], values[order]

    def scores_of(self, parsed: ParsedQuery, rows: np.ndarray, n: int, mask: np.ndarray | None,
                  lists: QueryLists | None = None) -> np.ndarray:
        """``rows``' `match_scores` (float64, the same numbers), 0 for a row at or past ``n`` or outside ``mask``:
        the scores of a few rows (the lexical run's) without scoring every holder. ``lists``: the query's, if made."""
        rows = np.asarray(rows, np.int64)
        if not parsed.groups or not len(rows) or n <= 0:
            return np.zeros(len(rows), np.float64)
        if not self._compiled():
            scores = self.match_scores(parsed, max(n, int(rows.max()) + 1))[rows]
            outside = rows >= n if mask is None else (rows >= n) | ~mask[np.minimum(rows, n - 1)]
            scores[outside | (rows < 0)] = 0.0
            return scores
        if lists is None:
            lists = self._query_lists(parsed.groups, self._group_factors(parsed))
        return attribute_kernels.scores_of(self._postings, lists, rows, n, mask)

    def matching_mask(self, parsed: ParsedQuery, skip_fields: set[str] | frozenset[str] = frozenset(),
                      n: int | None = None) -> np.ndarray | None:
        """Rows holding a value of every group `counted_groups` keeps; None when nothing is understood. A group naming
        a value of a field in ``skip_fields`` (lowercase) is left out, whole: a filter on that field, or that field's own
        facet, decides instead (all rows when every group is left out). Compiled: one pass over the named values'
        posting lists (`reference_matching_mask` is the dense numpy version)."""
        if not parsed.groups:
            return None
        if not self._compiled():
            return self.reference_matching_mask(parsed, skip_fields, n)
        size = max(self.vocabulary.n, n or 0)
        groups = counted_groups(parsed, skip_fields)
        mask = holding_all(self._postings, self._query_lists(groups, [1.0] * len(groups)), size)
        return mask[:n] if n is not None else mask

    def matching_count(self, parsed: ParsedQuery, skip_fields: set[str] | frozenset[str] = frozenset(),
                       n: int | None = None, allowed: np.ndarray | None = None) -> int | None:
        """How many rows (below ``n``) that ``allowed`` allows (one bool per row, or None: all) `matching_mask` holds:
        ``(matching_mask(...) & allowed).sum()``, compiled without an array of every row (the relevant set's
        `total`); None when nothing is understood."""
        if not parsed.groups:
            return None
        size = max(self.vocabulary.n, n or 0)
        rows = size if n is None else n
        if not self._compiled() or (allowed is not None and len(allowed) < rows):
            mask = self.matching_mask(parsed, skip_fields, n)
            return None if mask is None else int(np.count_nonzero(mask if allowed is None else mask & allowed))
        groups = counted_groups(parsed, skip_fields)
        return attribute_kernels.count_holding_all(self._postings, self._query_lists(groups, [1.0] * len(groups)), rows, allowed)

    def reference_matching_mask(self, parsed: ParsedQuery, skip_fields: set[str] | frozenset[str] = frozenset(),
                                n: int | None = None) -> np.ndarray | None:
        """`matching_mask` in numpy, a dense array per group (kept as its reference for tests and benchmarks)."""
        if not parsed.groups:
            return None
        size = max(self.vocabulary.n, n or 0)
        mask = np.ones(size, dtype=bool)
        for group in counted_groups(parsed, skip_fields):
            holds = np.zeros(size, dtype=bool)
            for m in group.matches:
                holds[self._holders(m)] = True
            mask &= holds
        return mask[:n] if n is not None else mask


def counted_groups(parsed: ParsedQuery, skip_fields: set[str] | frozenset[str] = frozenset()) -> tuple[Group, ...]:
    """The groups a product must hold a value of to count as matching the query (the relevant set, facets): all
    but those naming a field in ``skip_fields`` and, when several name a product type, all but the head's type
    ("short dress" counts dresses, not products that are both shorts and a dress; `ParsedQuery.head`)."""
    return tuple(g for g in parsed.groups
                 if not any(m.field.lower() in skip_fields for m in g.named)
                 and (parsed.head is None or g is parsed.head or not any(m.field == CATEGORY for m in g.matches)))


MAX_TIERS = 8  # score tiers found one by one before a partition finds the depth-th best score instead


def _best_tiers(values: np.ndarray, depth: int) -> np.ndarray:
    """Which ``values`` are at least the ``depth``-th largest (``depth`` < len(values)). Scores come in a few tiers
    (sums of confidences), so the tiers are found from the top, one max a tier (~0.03 ms), then `kth_largest`."""
    best = values.max()
    for _ in range(MAX_TIERS):
        kept = values >= best
        if np.count_nonzero(kept) >= depth:
            return kept
        best = np.max(values, where=~kept, initial=-np.inf)
    return values >= kth_largest(values, depth)


def first_kept(values: np.ndarray, depth: int, cut: float | None = None) -> np.ndarray:
    """Which of ``values`` are the first ``depth`` by value descending, then position ascending (all of them when
    there are at most ``depth``): every value above the depth-th largest (``cut``, found here when not given),
    and of those equal to it the first. Positions are rows ascending wherever this is used: the tie order is the
    row order, the same whichever of the exactly tied rows a search reached."""
    if len(values) <= depth:
        return np.ones(len(values), bool)
    if cut is None:
        cut = kth_largest(values, depth)
    kept = values > cut
    kept[np.flatnonzero(values == cut)[:depth - int(np.count_nonzero(kept))]] = True
    return kept


def retrieve_attributes(ctx: QueryContext, parsed: ParsedQuery) -> Run:
    """Products holding the values the query names, best first: by the summed confidence of the groups they
    match, then by the tie-break run (`_tie_break_run`: the query's BM25, or for a "more like this" seed the products
    of its type nearest its text vector), then by row. Compiled (`QueryUnderstanding.top_scored`): the first `depth`
    rows by score, then row, and the tie-break run's rows scoring as much as the last of them (only those can pass
    one of them with their bonus); else the numpy `reference_retrieve_attributes` over every row of the tiers that
    fill `depth` (the same run)."""
    u = ctx.searcher.understanding
    if not u._compiled():
        return reference_retrieve_attributes(ctx, parsed)
    tie: list[Run | None] = []  # fetched after the walk: the lexical signal may be making it meanwhile

    def tie_rows() -> np.ndarray | None:
        tie.append(_tie_break_run(ctx, parsed))
        return None if tie[0] is None else tie[0].docs

    rows, final = u.top_scored(parsed, ctx.searcher.index.n_products, ctx.mask, ctx.depth, also=tie_rows)
    if len(rows) and not tie:
        tie.append(_tie_break_run(ctx, parsed))
    return _ranked(ctx, rows, final, u.attributes_scale(parsed), tie[0] if tie else None)


def reference_retrieve_attributes(ctx: QueryContext, parsed: ParsedQuery) -> Run:
    """`retrieve_attributes` with numpy: the holders' scores (`holders_scores`), the mask, then every row of the
    tiers that fill `depth` (`_best_tiers`) ranked."""
    u = ctx.searcher.understanding
    rows, values = _reference_tiers(u, parsed, ctx.searcher.index.n_products, ctx.mask, ctx.depth)
    return _ranked(ctx, rows, values, u.attributes_scale(parsed), _tie_break_run(ctx, parsed) if len(rows) else None)


def _reference_tiers(u: AttributeScoring, parsed: ParsedQuery, n: int, mask: np.ndarray | None,
                     depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row below ``n`` that ``mask`` allows scoring above 0 and at least the depth-th best score, ascending,
    with its score: numpy over every holder (live holders go this way)."""
    candidates, values = u.holders_scores(parsed, n)
    if mask is not None and len(candidates):
        allowed = mask[candidates]
        candidates, values = candidates[allowed], values[allowed]
    if len(candidates) > depth:
        kept = _best_tiers(values, depth)
        candidates, values = candidates[kept], values[kept]
    return candidates, values


def _reference_top_scored(u: AttributeScoring, parsed: ParsedQuery, n: int, mask: np.ndarray | None,
                          depth: int) -> tuple[np.ndarray, np.ndarray]:
    """`QueryUnderstanding.top_scored` with numpy: of `_reference_tiers`, the first ``depth`` by score, then row."""
    rows, values = _reference_tiers(u, parsed, n, mask, depth)
    if len(rows) > depth:
        kept = first_kept(values, depth, float(values.min()))  # the tiers' lowest score is the depth-th best
        rows, values = rows[kept], values[kept]
    return np.asarray(rows, np.int64), values


def _lexical_run(ctx: QueryContext) -> Run | None:
    """The lexical signal's own run (made once per request: no second BM25 search) when it scores above 0."""
    if ctx.text is None:
        return None
    lexical = ctx.search_lexical(ctx.text)
    return lexical if len(lexical) and float(lexical.scores.max()) > 0 else None


def _tie_break_run(ctx: QueryContext, parsed: ParsedQuery) -> Run | None:
    """What orders the products holding the same values: the query's BM25 run (text), or for a "more like this"
    seed (`QueryUnderstanding.product_query`) `_nearest_of_type`."""
    if ctx.text is not None:
        return _lexical_run(ctx)
    return None if ctx.product_row is None else _nearest_of_type(ctx, parsed)


def _nearest_of_type(ctx: QueryContext, parsed: ParsedQuery) -> Run | None:
    """The products holding the seed's type (the query's one group), within the request's mask (its filters, the
    seed left out), nearest the seed's stored text vector: one vector search over that type's rows only, so that the
    products of its type a shopper sees first are those most like it, not the lowest rows. None when none is near."""
    searcher = ctx.searcher
    n = searcher.index.n_products
    allowed = searcher.understanding.matching_mask(parsed, n=n)  # the rows of its type, the query's one group
    if allowed is None:
        return None
    if ctx.mask is not None:
        allowed &= ctx.mask[:n]
    allowed[ctx.product_row] = False
    if not allowed.any():
        return None
    vector = ctx.embedded("stored_text")  # the `semantic` signal's query, when this request runs it
    if vector is None:
        vector = searcher._product_vectors(ctx.product_row)[0]
    run = searcher._dense("text", vector, ctx.depth, allowed, ctx.filters, ctx.product_row)
    keep = run.docs >= 0
    run = Run(run.docs[keep], np.maximum(run.scores[keep], 0.0))
    return run if len(run) and float(run.scores.max()) > 0 else None


def _ranked(ctx: QueryContext, rows: np.ndarray, final: np.ndarray, scale: float, tie: Run | None) -> Run:
    """``rows`` (ascending) with their scores ``final`` (a new array: written here), the ``tie`` run (BM25, or
    the nearest of a seed's type: `_tie_break_run`) breaking ties, then the row: the first `depth` by final score
    descending, then row ascending, best first, on the absolute ``scale`` (`QueryUnderstanding.attributes_scale`)."""
    if not len(rows):
        return Run(np.zeros(0, np.int64), np.zeros(0, np.float64))
    if tie is not None:
        bonus = TIE_BREAK * tie.scores / float(tie.scores.max())
        at = np.minimum(np.searchsorted(rows, tie.docs), len(rows) - 1)  # rows ascend
        hit = rows[at] == tie.docs
        final[at[hit]] += bonus[hit]
    if len(rows) > ctx.depth:
        kept = first_kept(final, ctx.depth)
        rows, final = rows[kept], final[kept]
    order = np.lexsort((rows, -final))
    return Run(rows[order].astype(np.int64), final[order], scale=scale)
