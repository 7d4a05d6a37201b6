"""Fusion kernels on tiny hand-computed runs, and agreement with ranx.fuse."""

import numpy as np
import pytest
from ranx import Run as RanxRun
from ranx import fuse as ranx_fuse

from search.fusion import Run, fuse
from search.fusion.normalization import min_max, normalize, z_score


def run(docs, scores):
    return Run(np.array(docs, dtype=np.int64), np.array(scores, dtype=np.float64))


def as_dict(fused: Run) -> dict[int, float]:
    return dict(zip(fused.docs.tolist(), fused.scores.tolist(), strict=True))


def test_rrf_hand_computed():
    runs = {"a": run([1, 2, 3], [9, 8, 7]), "b": run([3, 1], [5, 4])}
    fused = fuse(runs, "rrf", rrf_k=60)
    expected = {1: 1 / 61 + 1 / 62, 2: 1 / 62, 3: 1 / 63 + 1 / 61}
    assert as_dict(fused) == pytest.approx(expected)
    assert fused.docs.tolist() == [1, 3, 2]


def test_rrf_weights_scale_contributions_and_zero_weight_drops_a_run():
    runs = {"a": run([1, 2], [2, 1]), "b": run([2, 1], [2, 1])}
    fused = fuse(runs, "rrf", weights={"a": 2.0, "b": 1.0}, rrf_k=0)
    assert as_dict(fused) == pytest.approx({1: 2 / 1 + 1 / 2, 2: 2 / 2 + 1 / 1})
    only_b = fuse(runs, "rrf", weights={"a": 0.0}, rrf_k=0)
    assert only_b.docs.tolist() == [2, 1]


def test_weighted_sum_min_max_hand_computed():
    runs = {"a": run([1, 2, 3], [10, 5, 0]), "b": run([3, 4], [2, 1])}
    fused = fuse(runs, "weighted", weights={"a": 1.0, "b": 0.5}, norm="min-max")
    assert as_dict(fused) == pytest.approx({1: 1.0, 2: 0.5, 3: 0.0 + 0.5, 4: 0.0})


def test_ties_break_by_document_row():
    fused = fuse({"a": run([7, 3], [1, 1]), "b": run([3, 7], [1, 1])}, "rrf")
    assert fused.docs.tolist() == [3, 7]


def test_normalisations():
    assert min_max(np.array([2.0, 4.0, 6.0])).tolist() == [0.0, 0.5, 1.0]
    assert min_max(np.array([3.0, 3.0])).tolist() == [1.0, 1.0]
    z = z_score(np.array([1.0, 2.0, 3.0]))
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert z_score(np.array([5.0, 5.0])).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("bad", ["borda", "", "RRF"])
def test_unknown_method_lists_valid_ones(bad):
    with pytest.raises(ValueError, match="valid: rrf, weighted"):
        fuse({"a": run([1], [1])}, bad)


def test_unknown_normalisation_lists_valid_ones():
    with pytest.raises(ValueError, match="min-max, z-score, none"):
        fuse({"a": run([1], [1])}, "weighted", norm="max")
    with pytest.raises(ValueError):
        normalize(np.array([1.0]), "sum")


def test_empty_runs_fuse_to_nothing():
    assert len(fuse({"a": run([], [])}, "rrf")) == 0


# -- agreement with ranx on random runs ------------------------------------------------------------

def _random_runs(seed: int) -> dict[str, Run]:
    rng = np.random.default_rng(seed)
    runs = {}
    for name in ("lexical", "semantic", "visual"):
        docs = rng.choice(40, size=rng.integers(5, 25), replace=False)
        scores = np.sort(rng.random(len(docs)) * 10)[::-1]
        runs[name] = run(docs, scores)
    return runs


def _ranx(runs: dict[str, Run]) -> list[RanxRun]:
    return [RanxRun({"q": {f"d{d}": float(s) for d, s in zip(r.docs, r.scores, strict=True)}}, name=n) for n, r in runs.items()]


def _ours_as_ranx_dict(fused: Run) -> dict[str, float]:
    return {f"d{d}": s for d, s in zip(fused.docs.tolist(), fused.scores.tolist(), strict=True)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rrf_agrees_with_ranx(seed):
    runs = _random_runs(seed)
    expected = ranx_fuse(_ranx(runs), method="rrf", params={"k": 60}).to_dict()["q"]
    assert _ours_as_ranx_dict(fuse(runs, "rrf", rrf_k=60)) == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("norm,ranx_norm", [("min-max", "min-max"), ("z-score", "zmuv")])
def test_weighted_sum_agrees_with_ranx(seed, norm, ranx_norm):
    runs = _random_runs(seed)
    weights = {"lexical": 0.5, "semantic": 0.3, "visual": 0.2}
    expected = ranx_fuse(_ranx(runs), norm=ranx_norm, method="wsum",
                         params={"weights": list(weights.values())}).to_dict()["q"]
    ours = _ours_as_ranx_dict(fuse(runs, "weighted", weights=weights, norm=norm))
    assert ours == pytest.approx(expected, abs=1e-9)


def test_a_run_on_an_absolute_scale_is_divided_by_it_not_stretched_by_min_max():
    scaled = Run(np.array([1, 2]), np.array([3.0, 1.5]), scale=6.0)  # holds half and a quarter of the query
    other = Run(np.array([2, 3]), np.array([0.9, 0.1]))
    out = fuse({"a": scaled, "b": other}, method="weighted", weights={"a": 2.0, "b": 1.0})
    assert dict(zip(out.docs.tolist(), out.scores.tolist(), strict=True)) == pytest.approx({1: 1.0, 2: 1.5, 3: 0.0})
    for norm in ("z-score", "none"):  # the scale decides whatever the normalisation
        out = fuse({"a": scaled}, method="weighted", weights={"a": 2.0}, norm=norm)
        assert out.scores.tolist() == pytest.approx([1.0, 0.5])
    with pytest.raises(ValueError, match="scale"):
        Run(np.array([1]), np.array([1.0]), scale=0.0)
