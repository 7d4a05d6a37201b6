"""indexer.json_input: JSON from users fails as a ValueError with a reason, never another exception."""

from __future__ import annotations

import pytest

from indexer.json_input import parse_json, read_json_file


@pytest.mark.parametrize("text, says", [
    ("[" * 100_000, "nested too deeply"),
    ("1" * 5000, "a number of more than"),
    (b"\xff", "not UTF-8"),
    ("{", "not valid JSON"),
])
def test_parse_json_fails_as_value_error(text, says):
    with pytest.raises(ValueError, match=says):
        parse_json(text)


def test_read_json_file_caps_the_bytes_read(tmp_path):
    path = tmp_path / "big.json"
    path.write_text("[" + "1," * 100 + "1]")
    assert len(read_json_file(path, 1000)) == 101
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        read_json_file(path, 100)
    with pytest.raises(ValueError, match="larger than 10 bytes"):
        read_json_file("/dev/zero", 10)  # endless: never read whole
    with pytest.raises(FileNotFoundError):
        read_json_file(tmp_path / "nope.json", 10)
