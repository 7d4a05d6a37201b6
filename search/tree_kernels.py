"""Compiled kernels of the ranker (`search.ranker`): a LightGBM model's trees scored by a compiled loop, the same
numbers as LightGBM's own prediction about twice as fast for the ranker's 200 candidates (LightGBM copies each row
and walks each tree, branch by branch), and the query-word overlap counts of its features.

`TreeEnsemble.from_model_string` reads the model text (`Booster.model_to_string`: thresholds and leaf values
printed with 17 significant digits, so they parse back exactly) into flat arrays; `predict` repeats LightGBM's
rules to the bit (QuickScorer's layout: every split looked at once per feature, see `_Scorer`): a feature
within 1e-35 of zero is 0 (LightGBM drops it when it reads a dense row), a NaN is 0 unless the split sends
missing values one way, a split whose missing type is "Zero" or "NaN" sends those values
to its default side, anything else goes left when ``value <= threshold``; a row's raw score is 0.0 plus each tree's
leaf value in tree order (lambdarank outputs the raw score). A model this does not cover (categorical splits,
linear trees, several outputs per row, averaged output) gives None, and `search.ranker` keeps LightGBM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from indexer.lexical_kernels import _jit

logger = logging.getLogger(__name__)

ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold (a float literal widened to double)
_DEFAULT_LEFT, _MISSING_ZERO, _MISSING_NAN = 2, 1, 2


@dataclass(frozen=True)
class TreeEnsemble:
    """Every tree's internal nodes and leaves as flat arrays (node ``j`` of tree ``t`` at ``node_base[t] + j``)."""

    n_features: int
    node_base: np.ndarray  # int64 per tree; -1 for a one-leaf tree
    leaf_base: np.ndarray  # int64 per tree
    feature: np.ndarray  # int64 per internal node
    threshold: np.ndarray  # float64
    default_left: np.ndarray  # bool
    missing: np.ndarray  # int8: 0 none, 1 zero, 2 NaN
    left: np.ndarray  # int64: >= 0 an internal node of the tree, < 0 the leaf ~left
    right: np.ndarray
    leaf_value: np.ndarray  # float64

    @classmethod
    def from_model_string(cls, text: str) -> TreeEnsemble | None:
        header, _, body = text.partition("\nTree=")
        head = dict(line.split("=", 1) for line in header.splitlines() if "=" in line)
        if head.get("num_class", "1") != "1" or head.get("num_tree_per_iteration", "1") != "1" \
                or "average_output" in header.split("\n"):
            return None
        body = body.split("\nend of trees", 1)[0]
        node_base, leaf_base, parts = [], [], {k: [] for k in ("f", "t", "d", "l", "r", "v")}
        n_nodes = n_leaves = 0
        for block in ("Tree=" + body).split("\nTree=") if body else []:
            tree = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if tree.get("num_cat", "0") != "0" or tree.get("is_linear", "0") != "0":
                return None
            leaves = [float(v) for v in tree["leaf_value"].split()]
            leaf_base.append(n_leaves)
            n_leaves += len(leaves)
            parts["v"] += leaves
            if int(tree["num_leaves"]) < 2:
                node_base.append(-1)
                continue
            node_base.append(n_nodes)
            decision = [int(v) for v in tree["decision_type"].split()]
            if any(d & 1 for d in decision):  # a categorical split
                return None
            parts["f"] += [int(v) for v in tree["split_feature"].split()]
            parts["t"] += [float(v) for v in tree["threshold"].split()]
            parts["d"] += decision
            parts["l"] += [int(v) for v in tree["left_child"].split()]
            parts["r"] += [int(v) for v in tree["right_child"].split()]
            n_nodes += len(decision)
        decision = np.array(parts["d"], dtype=np.int64)
        return _scorer(cls(n_features=int(head["max_feature_idx"]) + 1, node_base=np.array(node_base, np.int64),
                   leaf_base=np.array(leaf_base, np.int64), feature=np.array(parts["f"], np.int64),
                   threshold=np.array(parts["t"], np.float64), default_left=(decision & _DEFAULT_LEFT) > 0,
                   missing=((decision >> 2) & 3).astype(np.int8), left=np.array(parts["l"], np.int64),
                   right=np.array(parts["r"], np.int64), leaf_value=np.array(parts["v"], np.float64)))

    def first(self, n_trees: int) -> TreeEnsemble:
        """Only the first ``n_trees`` trees (a model's best iteration)."""
        return _scorer(replace(self, node_base=self.node_base[:n_trees], leaf_base=self.leaf_base[:n_trees]))

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The raw score of each row of ``features`` (n, n_features), as LightGBM computes it."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] < self.n_features:
            raise ValueError(f"features must be (rows, >= {self.n_features}), got shape {x.shape}")
        out = np.empty(x.shape[0], dtype=np.float64)
        q = self.scorer
        _predict(x, q.by_feature, q.sorted_threshold, q.sorted_tree, q.sorted_mask, q.nan_at, q.nan_tree, q.nan_mask,
                 q.zero_at, q.zero_tree, q.zero_mask, q.leaf_of_bit, self.leaf_base, self.leaf_value, out)
        return out


@dataclass(frozen=True)
class _Scorer:
    """QuickScorer's layout (Lucchese et al., SIGIR 2015): per feature, its splits by threshold with, for each,
    the leaves (bits, left to right) a row going right can no longer reach; a row's leaf in a tree is the leftmost
    leaf no split it fails removed. Every split is looked at once per feature instead of walking each tree."""

    by_feature: np.ndarray  # int64 (n_features + 1): each feature's splits in the sorted arrays
    sorted_threshold: np.ndarray
    sorted_tree: np.ndarray
    sorted_mask: np.ndarray  # uint64: 0 bits for the leaves of the split's left subtree
    sorted_node: np.ndarray  # the split's global node index
    # per feature, the (tree, mask) pairs a NaN value sends right, all of a tree's splits on it combined; and the
    # same for a value within 1e-35 of 0 where the feature has a split whose missing type is "Zero" (elsewhere such
    # a value is 0.0 and takes the sorted walk)
    nan_at: np.ndarray
    nan_tree: np.ndarray
    nan_mask: np.ndarray
    zero_at: np.ndarray
    zero_tree: np.ndarray
    zero_mask: np.ndarray
    leaf_of_bit: np.ndarray  # int64 (trees, 64): the leaf index at each left-to-right position


def _leaves_in_order(trees: TreeEnsemble, base: int) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """One tree's leaves left to right, and per split the positions [a, b) of its left subtree's leaves."""
    order: list[int] = []
    spans: dict[int, tuple[int, int]] = {}
    stack: list[tuple[int, bool]] = [(0, False)]
    starts: dict[int, int] = {}
    while stack:  # in-order, without recursion (a tree may be deep)
        node, left_done = stack.pop()
        if node < 0:
            order.append(~node)
        elif not left_done:
            starts[node] = len(order)
            stack += [(node, True), (int(trees.left[base + node]), False)]
        else:
            spans[node] = (starts[node], len(order))
            stack.append((int(trees.right[base + node]), False))
    return order, spans


def _scorer(trees: TreeEnsemble) -> TreeEnsemble:
    n_trees = len(trees.node_base)
    leaf_of_bit = np.zeros((n_trees, 64), np.int64)
    rows: list[tuple[int, float, int, int, int]] = []  # (feature, threshold, tree, mask, node)
    full = (1 << 64) - 1
    for t in range(n_trees):
        base = int(trees.node_base[t])
        if base < 0:
            continue
        order, spans = _leaves_in_order(trees, base)
        if len(order) > 64:
            raise ValueError("a tree has more than 64 leaves")
        leaf_of_bit[t, :len(order)] = order
        for node, (a, b) in spans.items():
            g = base + node
            rows.append((int(trees.feature[g]), float(trees.threshold[g]), t, full & ~(((1 << (b - a)) - 1) << a), g))
    rows.sort(key=lambda r: (r[0], r[1]))
    feats = np.array([r[0] for r in rows], np.int64)
    nan_right: dict[tuple[int, int], int] = {}
    zero_right: dict[tuple[int, int], int] = {}
    zero_features = {f for f, _, _, _, g in rows if trees.missing[g] == _MISSING_ZERO}
    for f, threshold, t, mask, g in rows:
        special = trees.missing[g] in (_MISSING_ZERO, _MISSING_NAN)
        if (not trees.default_left[g]) if special else threshold < 0.0:  # NaN: the default side, else 0.0's
            nan_right[(f, t)] = nan_right.get((f, t), full) & mask
        if f in zero_features and ((not trees.default_left[g]) if trees.missing[g] == _MISSING_ZERO
                                   else threshold < 0.0):
            zero_right[(f, t)] = zero_right.get((f, t), full) & mask
    scorer = _Scorer(by_feature=np.searchsorted(feats, np.arange(trees.n_features + 1)).astype(np.int64),
                     sorted_threshold=np.array([r[1] for r in rows], np.float64),
                     sorted_tree=np.array([r[2] for r in rows], np.int64),
                     sorted_mask=np.array([r[3] for r in rows], np.uint64),
                     sorted_node=np.array([r[4] for r in rows], np.int64), leaf_of_bit=leaf_of_bit,
                     **_pairs("nan", nan_right, trees.n_features), **_pairs("zero", zero_right, trees.n_features))
    object.__setattr__(trees, "scorer", scorer)
    return trees


def _pairs(name: str, right: dict[tuple[int, int], int], n_features: int) -> dict[str, np.ndarray]:
    keys = sorted(right)
    feats = np.array([f for f, _ in keys], np.int64)
    return {f"{name}_at": np.searchsorted(feats, np.arange(n_features + 1)).astype(np.int64),
            f"{name}_tree": np.array([t for _, t in keys], np.int64),
            f"{name}_mask": np.array([right[k] for k in keys], np.uint64)}


_DE_BRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DE_BRUIJN_BIT = np.array([0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4, 62, 55, 59, 36, 53, 51, 43, 22,
                           45, 39, 33, 30, 24, 18, 12, 5, 63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23,
                           11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6], np.int64)


@_jit
def _predict(x, by_feature, thresholds, trees, masks, nan_at, nan_tree, nan_mask, zero_at, zero_tree, zero_mask,
             leaf_of_bit, leaf_base, leaf_value, out):  # pragma: no cover - compiled
    n_trees = leaf_base.shape[0]
    alive = np.empty(n_trees, np.uint64)
    for i in range(x.shape[0]):
        alive[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
        for f in range(by_feature.shape[0] - 1):
            value = x[i, f]
            if np.isnan(value):
                for k in range(nan_at[f], nan_at[f + 1]):
                    if nan_tree[k] < n_trees:
                        alive[nan_tree[k]] &= nan_mask[k]
                continue
            if abs(value) <= ZERO:  # LightGBM does not read it from a dense row: 0.0
                if zero_at[f + 1] > zero_at[f]:
                    for k in range(zero_at[f], zero_at[f + 1]):
                        if zero_tree[k] < n_trees:
                            alive[zero_tree[k]] &= zero_mask[k]
                    continue
                value = 0.0
            k = by_feature[f]  # every split below the value sends the row right
            hi = by_feature[f + 1]
            while k < hi and thresholds[k] < value:
                if trees[k] < n_trees:
                    alive[trees[k]] &= masks[k]
                k += 1
        total = 0.0
        for t in range(n_trees):
            a = alive[t]
            low = a & (~a + np.uint64(1))  # the lowest bit still set: the leftmost reachable leaf
            bit = _DE_BRUIJN_BIT[(low * _DE_BRUIJN) >> np.uint64(58)]
            total += leaf_value[leaf_base[t] + leaf_of_bit[t, bit]]
        out[i] = total


@_jit
def count_overlaps(indptr, indices, rows, word_ids, fields, counts):  # pragma: no cover - compiled
    """``counts[i, f]``: how many of ``word_ids`` (sorted) row ``rows[i]`` of the word x field matrix
    (`search.ranker.ProductWords`, column ``fields * word + field``) holds in field ``f``."""
    for i in range(rows.shape[0]):
        r = rows[i]
        for e in range(indptr[r], indptr[r + 1]):
            col = indices[e]
            word = col // fields
            j = np.searchsorted(word_ids, word)
            if j < word_ids.shape[0] and word_ids[j] == word:
                counts[i, col % fields] += 1.0
