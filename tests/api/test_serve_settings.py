"""`prodsearch serve` / `demo` settings: environment first, only options actually given override it."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import cli as api_cli
from prodsearch.cli import UserError, build_parser


@pytest.fixture
def captured(monkeypatch):
    """Run the sub-command but capture the Settings it would serve with instead of serving."""
    seen = {}

    def fake_serve(settings):
        seen["settings"] = settings
        return 0

    monkeypatch.setattr(api_cli, "_serve", fake_serve)
    for name in ("PRODSEARCH_INDEX_DIR", "PRODSEARCH_PORT", "PRODSEARCH_HOST", "PRODSEARCH_MAX_UPLOAD_MB",
                 "PRODSEARCH_LOG_FORMAT", "PRODSEARCH_ADMIN_TOKEN", "PRODSEARCH_SEARCH_CONFIG",
                 "PRODSEARCH_COMPACT_CHECK_S", "PRODSEARCH_COMPACT_MAX_AGE_S", "PRODSEARCH_COMPACT_MAX_LOG_MB",
                 "PRODSEARCH_COMPACT_MAX_ENTRIES"):
        monkeypatch.delenv(name, raising=False)
    return seen


def run(argv):
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_env_settings_survive_and_a_given_option_overrides_only_itself(captured, monkeypatch, tmp_path):
    monkeypatch.setenv("PRODSEARCH_INDEX_DIR", str(tmp_path / "env-index"))
    monkeypatch.setenv("PRODSEARCH_PORT", "9123")
    monkeypatch.setenv("PRODSEARCH_MAX_UPLOAD_MB", "3.5")
    monkeypatch.setenv("PRODSEARCH_LOG_FORMAT", "json")
    monkeypatch.setenv("PRODSEARCH_ADMIN_TOKEN", "s3cret-token-for-tests")
    assert run(["serve", "--port", "9200"]) == 0  # no --index: the environment names it
    s = captured["settings"]
    assert s.port == 9200  # given on the command line
    assert s.index_dir == tmp_path / "env-index" and s.max_upload_mb == 3.5 and s.log_format == "json"
    assert s.host == "127.0.0.1" and s.admin_token.get_secret_value() == "s3cret-token-for-tests"

    run(["serve", "--index", str(tmp_path / "cli-index"), "--max-upload-mb", "1", "--log-format", "text"])
    s = captured["settings"]
    assert s.index_dir == tmp_path / "cli-index" and s.max_upload_mb == 1 and s.log_format == "text"
    assert s.port == 9123  # from the environment again


def test_defaults_without_env_or_options(captured):
    run(["serve"])
    s = captured["settings"]
    assert s.index_dir == Path(".prodsearch/fixture-index") and s.port == 8000 and s.admin_token is None


def test_bad_environment_value_is_a_clear_user_error(captured, monkeypatch):
    monkeypatch.setenv("PRODSEARCH_PORT", "eighty")
    with pytest.raises(UserError, match="port"):
        run(["serve"])
    monkeypatch.setenv("PRODSEARCH_PORT", "8000")
    monkeypatch.setenv("PRODSEARCH_LOG_FORMAT", "xml")
    with pytest.raises(UserError, match="log_format"):
        run(["serve"])


@pytest.mark.parametrize("variable, value, says", [
    ("PRODSEARCH_COMPACT_CHECK_S", "1e12", "compact_check_s: Input should be less than or equal to 3600"),
    ("PRODSEARCH_COMPACT_CHECK_S", "inf", "compact_check_s: Input should be a finite number"),
    ("PRODSEARCH_COMPACT_CHECK_S", "0", "compact_check_s: Input should be greater than or equal to 0.01"),
    ("PRODSEARCH_MAX_UPLOAD_MB", "inf", "max_upload_mb: Input should be a finite number"),
    ("PRODSEARCH_MAX_UPLOAD_MB", "nan", "max_upload_mb: Input should be a finite number"),
    ("PRODSEARCH_MAX_UPLOAD_MB", "65", "max_upload_mb: Input should be less than or equal to 64"),
    ("PRODSEARCH_COMPACT_MAX_AGE_S", "inf", "compact_max_age_s: Input should be a finite number"),
    ("PRODSEARCH_COMPACT_MAX_LOG_MB", "1e300", "compact_max_log_mb: Input should be less than or equal to"),
    ("PRODSEARCH_COMPACT_MAX_ENTRIES", "99999999999", "compact_max_entries: Input should be less than or equal to"),
])
def test_numeric_settings_have_finite_ranges(captured, monkeypatch, variable, value, says):
    """A check interval of 1e12 s once killed the compactor thread (OverflowError in its timed wait) while the
    server served on; an infinite upload limit overflowed int()."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(UserError, match=says):
        run(["serve"])


def test_infinite_upload_option_is_a_clear_user_error(captured):
    with pytest.raises(UserError, match="max_upload_mb: Input should be a finite number"):
        run(["serve", "--max-upload-mb", "inf"])


def test_empty_admin_token_means_disabled(captured, monkeypatch):
    monkeypatch.setenv("PRODSEARCH_ADMIN_TOKEN", "  ")
    run(["serve"])
    assert captured["settings"].admin_token is None


def test_demo_keeps_env_port_and_serves_its_own_index(captured, monkeypatch, tmp_path):
    index = tmp_path / "demo-index"
    index.mkdir()
    (index / "manifest.json").write_text("{}")  # present: the demo does not rebuild
    monkeypatch.setenv("PRODSEARCH_PORT", "9321")
    monkeypatch.setenv("PRODSEARCH_INDEX_DIR", str(tmp_path / "elsewhere"))
    run(["demo", "--index", str(index)])
    s = captured["settings"]
    assert s.port == 9321 and s.index_dir == index
    run(["demo", "--index", str(index), "--port", "9400", "--host", "::1"])
    assert captured["settings"].port == 9400 and captured["settings"].host == "::1"
