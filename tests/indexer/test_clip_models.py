"""`local-dir:` CLIP folders (indexer.clip_models): every bad folder is a ModelLoadError naming its folder or file,
and a config's `pkg:` names only a packaged text model, checked before anything is imported."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest

from indexer import clip_models
from indexer.clip_models import CONFIG_NAME, SHIPPED_MODEL_DIR, WEIGHTS_NAME, create_clip
from indexer.errors import ModelLoadError

GOOD = json.loads((SHIPPED_MODEL_DIR / CONFIG_NAME).read_text())


def _folder(tmp_path, config=None, raw: bytes | None = None, weights: bytes | None = None):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / CONFIG_NAME).write_bytes(raw if raw is not None else json.dumps(config or GOOD).encode())
    if weights is None:
        shutil.copy(SHIPPED_MODEL_DIR / WEIGHTS_NAME, folder)
    else:
        (folder / WEIGHTS_NAME).write_bytes(weights)
    return folder


def _with_text(key: str, value: str) -> dict:
    config = json.loads(json.dumps(GOOD))
    config["model_cfg"]["text_cfg"][key] = value
    return config


@pytest.fixture
def no_imports(monkeypatch):
    """Fail if `pkg:` is resolved (the module it names imported): the checks come first."""
    def refuse(name, *args, **kwargs):
        raise AssertionError(f"imported {name!r}")

    monkeypatch.setattr(clip_models, "importlib", SimpleNamespace(import_module=refuse))


@pytest.mark.parametrize("kwargs, file, says", [
    ({"raw": b"[]"}, CONFIG_NAME, 'expected a JSON object with a "model_cfg" object'),
    ({"raw": b'{"model_cfg": []}'}, CONFIG_NAME, 'expected a JSON object with a "model_cfg" object'),
    ({"raw": b'{"a": "\xe9"}'}, CONFIG_NAME, r"not UTF-8 text \(byte 0xe9"),
    ({"raw": b"[" * 100_000}, CONFIG_NAME, "nested too deeply"),
    ({"raw": b'{"model_cfg": {"text_cfg": {}}}'}, CONFIG_NAME, "model_cfg lacks embed_dim, vision_cfg"),
    ({"config": {**GOOD, "model_cfg": {**GOOD["model_cfg"], "embed_dim": 0}}}, CONFIG_NAME, "embed_dim must be"),
    ({"config": _with_text("hf_model_name", "pkg:this")}, CONFIG_NAME, "'pkg:this': 'pkg:' names a packaged text"),
    ({"config": _with_text("hf_model_name", "pkg:")}, CONFIG_NAME, "'pkg:': 'pkg:' names a packaged text model"),
    ({"config": _with_text("hf_tokenizer_name", "pkg:..x")}, CONFIG_NAME, "'pkg:..x': 'pkg:' names a packaged"),
    ({"weights": b""}, WEIGHTS_NAME, "not a readable safetensors file"),
    ({"weights": b"not a safetensors file"}, WEIGHTS_NAME, "not a readable safetensors file"),
])
def test_bad_folders_fail_before_any_model_or_module_loads(tmp_path, no_imports, capsys, kwargs, file, says):
    folder = _folder(tmp_path, **kwargs)
    with pytest.raises(ModelLoadError, match=says) as info:
        create_clip(f"local-dir:{folder}")
    assert str(info.value).startswith(str(folder / file)) and "\n" not in str(info.value)
    assert "Zen of Python" not in capsys.readouterr().out


def test_a_config_folder_is_a_model_load_error(tmp_path):
    folder = tmp_path / "model"
    (folder / CONFIG_NAME).mkdir(parents=True)
    with pytest.raises(ModelLoadError, match=f"{folder / CONFIG_NAME}: a folder, not a file"):
        create_clip(f"local-dir:{folder}")


@pytest.mark.slow
def test_embed_dim_not_matching_the_weights_names_the_weights_file(tmp_path):
    folder = _folder(tmp_path, {**GOOD, "model_cfg": {**GOOD["model_cfg"], "embed_dim": 512}})
    with pytest.raises(ModelLoadError, match=f"{folder / WEIGHTS_NAME}: weights do not fit the config .*size mismatch"):
        create_clip(f"local-dir:{folder}")
