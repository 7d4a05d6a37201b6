"""Search config files (search.config): every bad file is a one-line ConfigError, and weights merge with the defaults."""

from __future__ import annotations

import os

import pytest

from search.config import ConfigError, SearchConfig, load_search_config
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
