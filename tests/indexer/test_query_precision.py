"""The int8 query encoder (`serve --query-encoder`): the quantized copy of the ONNX export, which path embeds what.

A tiny ONNX text model (embedding table -> masked mean -> dense layer) stands in for MiniLM, so these run in
well under a second; tests/indexer/test_text_encoding.py checks the real model (slow).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from indexer import onnx_text
from indexer.encoder_cache import CachingTextEncoder
from indexer.encoders import SentenceTransformerEncoder
from indexer.errors import ModelLoadError
from indexer.onnx_text import (
    DEFAULT_QUERY_PRECISION,
    QUERY_PRECISION_ENV,
    OnnxTextBackend,
    onnx_path,
    quantized_path,
    query_precision,
)

IDENTITY = "toy-text@0"
VOCAB, WIDTH, DIM = 50, 16, 32


def write_toy_model(path: Path) -> None:
    """input_ids, attention_mask (int64, [batch, tokens]) -> the masked mean of token vectors times a dense layer."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    table = numpy_helper.from_array(rng.normal(size=(VOCAB, WIDTH)).astype(np.float32), "table")
    dense = numpy_helper.from_array(rng.normal(size=(WIDTH, DIM)).astype(np.float32), "dense")
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["tokens"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "last"], ["mask3"]),
        helper.make_node("Mul", ["tokens", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axes"], ["summed"], keepdims=0),
        helper.make_node("MatMul", ["summed", "dense"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes, "toy", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "t"]),
                       helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "t"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["b", DIM])],
        initializer=[table, dense, axes, numpy_helper.from_array(np.array([2], np.int64), "last")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


class ToyTokenizer:
    def __call__(self, texts, **_):  # type: ignore[no-untyped-def]
        ids = [[1 + sum(map(ord, word)) % (VOCAB - 1) for word in text.split()] for text in texts]
        width = max(map(len, ids))
        return {"input_ids": np.array([row + [0] * (width - len(row)) for row in ids], np.int64),
                "attention_mask": np.array([[1] * len(row) + [0] * (width - len(row)) for row in ids], np.int64)}


TOY_MODEL = SimpleNamespace(tokenizer=ToyTokenizer(), max_seq_length=16)
TEXTS = ["navy blue shirt", "red dress for women", "black casual shoes", "white cotton tshirt men"]


@pytest.fixture
def cache_dir(tmp_path):
    write_toy_model(onnx_path(tmp_path, IDENTITY))
    return tmp_path


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_precision_from_the_option_the_environment_or_the_default(monkeypatch):
    monkeypatch.delenv(QUERY_PRECISION_ENV, raising=False)
    assert query_precision() == DEFAULT_QUERY_PRECISION
    assert query_precision("FP32") == "fp32"
    monkeypatch.setenv(QUERY_PRECISION_ENV, "fp32")
    assert query_precision() == "fp32" and query_precision("int8") == "int8"  # the option wins
    monkeypatch.setenv(QUERY_PRECISION_ENV, "int4")
    with pytest.raises(ModelLoadError, match="int8, fp32.*got 'int4'"):
        query_precision()


def test_int8_copy_made_once_beside_the_export_and_close_to_fp32(cache_dir):
    fp32 = OnnxTextBackend(TOY_MODEL, IDENTITY, cache_dir, threads=1, export=False)
    int8 = OnnxTextBackend(TOY_MODEL, IDENTITY, cache_dir, threads=1, export=False, precision="int8")
    target = quantized_path(onnx_path(cache_dir, IDENTITY))
    assert int8.path == target and target.is_file() and target.stat().st_size < onnx_path(cache_dir, IDENTITY).stat().st_size
    assert not list(target.parent.glob("*.tmp"))
    made = target.stat().st_mtime_ns
    OnnxTextBackend(TOY_MODEL, IDENTITY, cache_dir, threads=1, export=False, precision="int8")
    assert target.stat().st_mtime_ns == made  # reused, not made again
    a, b = unit(fp32.encode(TEXTS)), unit(int8.encode(TEXTS))
    assert not np.array_equal(a, b) and (a * b).sum(1).min() > 0.98
    with pytest.raises(ValueError, match="precision must be one of"):
        OnnxTextBackend(TOY_MODEL, IDENTITY, cache_dir, threads=1, export=False, precision="fp16")


def test_a_read_only_cache_quantizes_into_a_scratch_folder_removed_after_loading(cache_dir, monkeypatch):
    real, made_in = onnx_text._quantize, []
    cache_copy = quantized_path(onnx_path(cache_dir, IDENTITY))

    def quantize(source: Path, target: Path) -> None:
        if target == cache_copy:
            raise PermissionError(13, "read-only file system", str(target))
        made_in.append(target.parent)
        real(source, target)

    real_fused, fused_runs = onnx_text.fused_export, []

    def fused_export(st_model, target: Path) -> bool:  # type: ignore[no-untyped-def]
        fused_runs.append(target)
        return real_fused(st_model, target)

    monkeypatch.setattr(onnx_text, "_quantize", quantize)
    monkeypatch.setattr(onnx_text, "fused_export", fused_export)
    backend = OnnxTextBackend(TOY_MODEL, IDENTITY, cache_dir, threads=1, export=False, precision="int8")
    assert made_in and not made_in[0].exists()  # the scratch copy is gone once the session holds the model
    assert len(fused_runs) == 1 and not fused_runs[0].parent.exists()  # traced once, its folder removed
    assert not quantized_path(onnx_path(cache_dir, IDENTITY)).exists()
    assert backend.encode(TEXTS[:1]).shape == (1, DIM)


def toy_encoder(cache_dir: Path, precision: str) -> SentenceTransformerEncoder:
    """A `SentenceTransformerEncoder` around the toy model as loaded, before any ONNX session (no sentence-transformers
    model); ``documents`` records the texts embedded the products' bulk way."""
    encoder = SentenceTransformerEncoder.__new__(SentenceTransformerEncoder)
    encoder.model, encoder.cache_identity, encoder.device, encoder.dim = TOY_MODEL, IDENTITY, "cpu", DIM
    encoder.batch_size, encoder.query_batch, encoder._batcher = 64, 1, None
    encoder._query_cache, encoder._query_lock = OrderedDict(), threading.Lock()
    encoder._embedding_queries = encoder._searches = 0
    encoder._query_onnx = encoder._query_onnx_alone = None
    encoder.query_precision, encoder.query_encoder = precision, "torch fp32"
    encoder._query_source = encoder._document_onnx = None
    fp32 = OnnxTextBackend(TOY_MODEL, IDENTITY, cache_dir, threads=1, export=False)
    encoder.documents = []  # texts embedded the products' way (the torch/bulk path), recorded

    def bulk(texts):  # type: ignore[no-untyped-def]
        encoder.documents.extend(texts)
        return fp32.encode(texts)

    encoder._bulk_forward = bulk  # type: ignore[method-assign]
    encoder._forward = bulk  # type: ignore[method-assign]
    return encoder


def served_toy_encoder(cache_dir: Path, precision: str) -> SentenceTransformerEncoder:
    """`toy_encoder` as a server opens it: queries by the ONNX export in ``precision``."""
    encoder = toy_encoder(cache_dir, precision)
    assert encoder.use_onnx_for_queries(cache_dir)
    return encoder


def test_the_live_write_worker_opens_only_the_products_fp32_session(cache_dir):
    """The embedding worker (`indexer.live.embed_worker`) embeds products only: no int8 copy made, no query session."""
    from indexer.live.embed_worker import _for_products

    encoders = SimpleNamespace(text=toy_encoder(cache_dir, "int8"), clip=None)
    text = _for_products(encoders, 1, str(cache_dir)).text
    assert text._query_onnx is None and text._query_onnx_alone is None and text.query_encoder == "torch fp32"
    assert not quantized_path(onnx_path(cache_dir, IDENTITY)).exists()  # the int8 copy was never made or loaded
    assert text._document_onnx is not None and text._document_onnx.precision == "fp32"
    reference = unit(OnnxTextBackend(TOY_MODEL, IDENTITY, cache_dir, threads=1, export=False).encode(TEXTS))
    # a single product's text by that session, as the server (int8 queries) embeds it in process
    assert np.allclose(text.encode_texts(TEXTS[:1]), reference[:1], atol=1e-6) and text.documents == []
    assert np.array_equal(text.encode_texts(TEXTS[:1]), served_toy_encoder(cache_dir, "int8").encode_texts(TEXTS[:1]))
    assert np.allclose(text.encode_texts(TEXTS), reference, atol=1e-6) and text.documents == TEXTS  # a batch: bulk
    # no export under the cache: torch (here the recorded bulk path) embeds them
    bare = toy_encoder(cache_dir, "int8")
    assert not bare.use_onnx_for_documents(cache_dir / "elsewhere") and bare._document_onnx is None


def test_int8_embeds_queries_only_products_stay_fp32(cache_dir):
    int8 = served_toy_encoder(cache_dir, "int8")
    fp32 = served_toy_encoder(cache_dir, "fp32")
    assert int8.query_encoder == "onnx int8" and fp32.query_encoder == "onnx fp32"
    reference = unit(OnnxTextBackend(TOY_MODEL, IDENTITY, cache_dir, threads=1, export=False).encode(TEXTS))

    # a product's caption, even alone (a live write), is embedded in fp32: by the fp32 export on one thread
    assert np.allclose(int8.encode_texts(TEXTS[:1]), reference[:1], atol=1e-6)
    assert int8._document_onnx is not None and int8._document_onnx.precision == "fp32" and int8.documents == []
    assert np.allclose(int8.encode_texts(TEXTS), reference, atol=1e-6) and int8.documents == TEXTS  # a batch: bulk
    # queries by the int8 copy: one at a time even in a batch (activations are quantized per run)
    alone = np.stack([int8.encode_queries([t])[0] for t in TEXTS])
    assert not np.allclose(alone, reference, atol=1e-6) and (alone * reference).sum(1).min() > 0.98
    assert np.array_equal(int8.encode_queries(TEXTS), alone)
    # fp32 queries: the fp32 export, equal to the products' path
    assert np.allclose(fp32.encode_queries(TEXTS), reference, atol=1e-6)
    assert np.allclose(fp32.encode_queries(TEXTS[:1]), reference[:1], atol=1e-6)


def test_int8_falls_back_to_the_fp32_export_when_it_cannot_be_made(cache_dir, monkeypatch):
    def broken(source: Path, target: Path) -> None:
        raise RuntimeError("quantizer failed")

    monkeypatch.setattr(onnx_text, "_quantize", broken)
    encoder = served_toy_encoder(cache_dir, "int8")
    assert encoder.query_encoder == "onnx fp32"


def test_the_eval_cache_primes_and_answers_queries_in_their_precision(cache_dir):
    inner = served_toy_encoder(cache_dir, "int8")
    cached = CachingTextEncoder(inner)
    cached.prime(TEXTS)
    assert inner.documents == []  # primed through encode_queries, not the products' path
    expected = np.stack([inner.encode_queries([t])[0] for t in TEXTS])
    assert np.array_equal(cached.encode_queries(TEXTS), expected) and cached.misses == 0


def test_the_quantizers_root_logger_notes_are_dropped_and_real_warnings_kept(tmp_path, monkeypatch, caplog):
    """onnxruntime's quantizer logs ~36 INFO lines on the root logger (a new user's first `prodsearch demo` showed
    them all) and a warning to pre-process the model at every call: neither reaches the log; a real warning does."""
    import logging

    import onnxruntime.quantization

    def chatty_quantize(source, target, **_):  # type: ignore[no-untyped-def]
        logging.info('Quantization parameters for tensor:"/x" not specified')
        logging.info("Ignore MatMul due to non constant B: /[/y]")
        logging.warning("Please consider to run pre-processing before quantization.")
        logging.warning("something the user must see")
        Path(target).write_bytes(Path(source).read_bytes())

    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", chatty_quantize)
    source = tmp_path / "m.onnx"
    source.write_bytes(b"model")
    with caplog.at_level(logging.INFO):
        onnx_text._quantize(source, tmp_path / "m.int8.onnx")
        logging.info("after quantizing: root INFO is logged again")
    root = [r.getMessage() for r in caplog.records if r.name == "root"]
    assert root == ["something the user must see", "after quantizing: root INFO is logged again"]
    assert (tmp_path / "m.int8.onnx").read_bytes() == b"model"


def test_int8_queries_run_on_one_thread_even_alone_fp32_on_every_core(cache_dir, monkeypatch):
    """Split over 2 cores an int8 query took longer and more CPU than on one thread (`text_encoder.SPLIT_ALONE`)."""
    from indexer import text_encoder

    monkeypatch.setattr(text_encoder.os, "cpu_count", lambda: 2)
    int8 = served_toy_encoder(cache_dir, "int8")
    assert int8.query_encoder == "onnx int8" and int8._query_onnx_alone is None
    alone = int8.embed_query_uncached(TEXTS[0])  # no other search in flight: still the one-thread session
    assert np.array_equal(alone[None, :], text_encoder.l2_normalize(int8._query_onnx.encode(TEXTS[:1])))
    fp32 = served_toy_encoder(cache_dir, "fp32")
    assert fp32._query_onnx_alone is not None and fp32._query_onnx is not None
    monkeypatch.setattr(text_encoder.os, "cpu_count", lambda: 1)
    assert served_toy_encoder(cache_dir, "fp32")._query_onnx_alone is None  # one core: nothing to split over


class TinyBertModel(list):
    """A sentence-transformers-shaped stand-in around a random 1-layer BERT (hidden 32, 2 heads): ``[0].auto_model``,
    ``tokenizer`` (word ids, padded), ``max_seq_length``; enough for `onnx_text._export` and `fused_export`."""

    def __init__(self) -> None:
        import torch
        from transformers import BertConfig, BertModel

        torch.manual_seed(0)
        config = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=32)
        super().__init__([SimpleNamespace(auto_model=BertModel(config).eval())])
        self.max_seq_length = 16

    def tokenizer(self, texts, return_tensors="np", **_):  # type: ignore[no-untyped-def]
        import torch

        features = ToyTokenizer()(texts)
        return {k: torch.from_numpy(v) for k, v in features.items()} if return_tensors == "pt" else features


@pytest.mark.slow  # torch, transformers and onnxruntime's optimizer imported: ~5 s
def test_a_bert_models_int8_copy_is_made_from_its_fused_graph(tmp_path, caplog):
    """`fused_export`: attention as one operator (QAttention once quantized), the model's own attention setting restored,
    the optimizer's INFO lines kept out of the log, and the same vectors as the fp32 export to int8 rounding."""
    import logging

    import onnx

    model = TinyBertModel()
    traced = model[0].auto_model.config._attn_implementation
    fp32 = OnnxTextBackend(model, IDENTITY, tmp_path, threads=1)  # exports the plain model first
    with caplog.at_level(logging.INFO):
        int8 = OnnxTextBackend(model, IDENTITY, tmp_path, threads=1, export=False, precision="int8")
    assert int8.path == quantized_path(onnx_path(tmp_path, IDENTITY)) and int8.path.name.endswith(".int8f.onnx")
    ops = {node.op_type for node in onnx.load(str(int8.path)).graph.node}
    assert "QAttention" in ops and "Softmax" not in ops
    assert {node.op_type for node in onnx.load(str(fp32.path)).graph.node} >= {"Softmax", "MatMul"}  # untouched
    assert model[0].auto_model.config._attn_implementation == traced
    assert not [r for r in caplog.records if r.levelno < logging.WARNING and "Fused" in r.getMessage()]
    assert not list(int8.path.parent.glob("*.tmp"))
    a, b = unit(fp32.encode(TEXTS)), unit(int8.encode(TEXTS))
    assert (a * b).sum(1).min() > 0.98


@pytest.mark.slow
def test_a_model_the_optimizer_cannot_fuse_is_quantized_as_exported(tmp_path, monkeypatch):
    model = TinyBertModel()
    OnnxTextBackend(model, IDENTITY, tmp_path, threads=1)
    monkeypatch.setattr(model[0].auto_model.config, "model_type", "gpt2")
    int8 = OnnxTextBackend(model, IDENTITY, tmp_path, threads=1, export=False, precision="int8")
    import onnx

    ops = {node.op_type for node in onnx.load(str(int8.path)).graph.node}
    assert "QAttention" not in ops and "Softmax" in ops
