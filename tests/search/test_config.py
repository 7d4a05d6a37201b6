"""Search config files (search.config): every bad file is a one-line ConfigError, and weights merge with the defaults."""

from __future__ import annotations

import os

import pytest

from search.config import ConfigError, SearchConfig, load_search_config, save_search_config
from search.signals import default_weights


@pytest.mark.parametrize("content, says", [
    (b"[]", "expected a JSON object of settings, got list"),
    (b"null", "expected a JSON object of settings, got null"),
    (b"5", "expected a JSON object of settings, got int"),
    (b'"x"', "expected a JSON object of settings, got str"),
    (b'{"source": "\xe9"}', r"not UTF-8 text \(byte 0xe9"),
    (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", r"nested too deeply"),
    (b'{"candidate_depth": 1' + b"0" * 5000 + b"}", r"a number of more than \d+ digits"),
    (b'{"ranker": "a\\u0000b"}', "ranker: expected the path of a ranker model file"),
    (b'{"fusion": "max"}', "fusion: Input should be 'rrf' or 'weighted'"),
    (b'{"fusion":', r"not valid JSON \(Expecting value at line 1 column 11\)"),
    # a file is JSON the user wrote: "60" or true for a number (or 0 for a boolean) is refused, not converted
    # as a request's text parameters are
    (b'{"rrf_k": "60"}', "rrf_k: Input should be a valid number"),
    (b'{"rrf_k": true}', "rrf_k: Input should be a valid number"),
    (b'{"candidate_depth": true}', "candidate_depth: Input should be a valid integer"),
    (b'{"candidate_depth": "300"}', "candidate_depth: Input should be a valid integer"),
    (b'{"ranker_depth": "50"}', "ranker_depth: Input should be a valid integer"),
    (b'{"weights": {"lexical": "2"}}', "weights.lexical: Input should be a valid number"),
    (b'{"weights": {"lexical": false}}', "weights.lexical: Input should be a valid number"),
    (b'{"relevance_cutoff": "0.5"}', "relevance_cutoff: Input should be a valid number"),
    (b'{"exact_photo_threshold": "0.9"}', "exact_photo_threshold: Input should be a valid number"),
    (b'{"search_params": {"text": {"nprobe": "8"}}}', "search_params.text.nprobe: Input should be a valid number"),
    (b'{"price_from_text": "false"}', "price_from_text: Input should be a valid boolean"),
    (b'{"exact_photo_first": 0}', "exact_photo_first: Input should be a valid boolean"),
])
def test_bad_files_are_one_line_config_errors(tmp_path, content, says):
    path = tmp_path / "c.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=says) as info:
        load_search_config(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unreadable_paths_are_config_errors(tmp_path):
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    for path, says in [(tmp_path, "a folder, not a file"), (tmp_path / "loop1", "cannot be read"),
                       ("a\x00b", "cannot be read"), (tmp_path / "nope.json", "not found")]:
        with pytest.raises(ConfigError, match=says):
            load_search_config(path)


def test_a_bom_is_allowed(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(b'\xef\xbb\xbf{"fusion": "rrf"}')
    assert load_search_config(path).fusion == "rrf"


def test_partial_weights_merge_with_the_defaults(tmp_path):
    """As a request's weights do: a file naming one signal leaves the others at their defaults (it dropped them to
    the fallback 1: attributes at 1 instead of 6)."""
    path = tmp_path / "c.json"
    path.write_text('{"weights": {"lexical": 2}}')
    weights = load_search_config(path).weights
    assert weights == {**default_weights(), "lexical": 2.0}
    assert weights["attributes"] == default_weights()["attributes"] != 1
    assert SearchConfig(weights={"semantic": 0}).weights == {**default_weights(), "semantic": 0.0}


def test_good_files_load_strictly(tmp_path):
    """JSON integers are fine where a float is expected, and every config `save_search_config` writes reads back."""
    path = tmp_path / "c.json"
    path.write_text('{"fusion": "rrf", "rrf_k": 60, "candidate_depth": 200, "ranker_depth": 50, '
                    '"weights": {"lexical": 2, "semantic": 0.5}, "relevance_cutoff": 1, "exact_photo_threshold": 1, '
                    '"exact_photo_gap": 0, "exact_photo_pixel_rmse": 12, "price_from_text": false, '
                    '"search_params": {"text": {"nprobe": 8}}}')
    config = load_search_config(path)
    assert (config.rrf_k, config.candidate_depth, config.weights["lexical"]) == (60.0, 200, 2.0)
    assert config.search_params == {"text": {"nprobe": 8.0}} and config.price_from_text is False
    written = SearchConfig(fusion="weighted", norm="z-score", rrf_k=30, candidate_depth=120, ranker="r.json",
                           ranker_depth=40, weights={"lexical": 2, "visual": 0}, exact_photo_threshold=0.9,
                           exact_photo_gap=0.05, exact_photo_pixel_rmse=None, relevance_cutoff=0.4,
                           search_params={"image": {"efSearch": 64}}, price_from_text=False)
    save_search_config(written, path)
    again = load_search_config(path)
    assert again.model_dump(exclude={"source", "ranker"}) == written.model_dump(exclude={"source", "ranker"})
    assert again.ranker == str(tmp_path / "r.json")
