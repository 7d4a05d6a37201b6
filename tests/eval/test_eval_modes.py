"""Mode presets and tuned configs."""

from __future__ import annotations

import pytest

from eval.modes import DEFAULT_MODES, ModeError, resolve_modes
from search.config import SearchConfig, load_search_config, save_search_config


def test_presets_and_aliases():
    modes = resolve_modes(list(DEFAULT_MODES) + ["bm25"])
    by_name = {m.name: m for m in modes}
    assert by_name["lexical"].active_signals() == ["lexical"]
    assert by_name["visual"].active_signals() == ["visual", "image"]
    assert by_name["bm25"].weights == by_name["lexical"].weights
    assert by_name["fused-weighted"].request_overrides()["fusion"] == "weighted"
    assert len(by_name["fused-rrf"].active_signals()) == 7  # every registered signal, `attributes` and `matched_product` included


def test_unknown_and_tuned_without_config():
    with pytest.raises(ModeError, match="unknown mode 'nope'"):
        resolve_modes(["nope"])
    with pytest.raises(ModeError, match="--config"):
        resolve_modes(["tuned"])
    with pytest.raises(ModeError, match="twice"):
        resolve_modes(["lexical", "lexical"])


def test_tuned_mode_reads_the_config(tmp_path):
    path = tmp_path / "c.json"
    save_search_config(SearchConfig(fusion="weighted", norm="z-score", weights={"lexical": 2.0, "semantic": 0.5}), path)
    (mode,) = resolve_modes(["tuned"], path)
    assert mode.fusion == "weighted" and mode.norm == "z-score"
    assert mode.weights["lexical"] == 2.0 and mode.weights["semantic"] == 0.5
    assert load_search_config(path).weights["lexical"] == 2.0
