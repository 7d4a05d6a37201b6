"""An ONNX Runtime backend for a sentence-transformers text encoder: fp32 for bulk embedding, fp32 or int8 for queries.

The model (transformer, mean pooling, L2 normalisation) is exported with `torch.onnx.export`
at first use into the embedding cache directory (``onnx/<model identity>.onnx``); nothing is
downloaded. A Searcher over an index whose manifest names that cache answers single queries with
the same export (never exporting at serve time). Side by side on this project's 2-core machine it embedded product captions about
2x faster than torch with vectors equal to 1e-6 (README, "Building an index"). Only a plain
Transformer -> mean Pooling -> Normalize model is exported; anything else stays on torch.

Queries may be embedded by an int8 copy of the export (`QUERY_PRECISIONS`, `prodsearch serve --query-encoder`):
weights quantized per output channel, activations quantized per run (``quantize_dynamic``), written once next to
the export (``<name>.int8f.onnx``). For a BERT-style model that copy is made from a fused graph (`fused_export`:
each layer's attention, layer norms and GELU as single operators), which a short query runs in ~15% less time.
Products are always embedded in fp32; only the query side changes.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import ModelLoadError

logger = logging.getLogger(__name__)

QUERY_PRECISIONS = ("int8", "fp32")  # how a query's text is embedded (the first is the default); products: fp32
DEFAULT_QUERY_PRECISION = QUERY_PRECISIONS[0]
QUERY_PRECISION_ENV = "PRODSEARCH_QUERY_ENCODER"  # the default of every command (`api.settings` reads the same name)


def query_precision(value: str | None = None) -> str:
    """``value``, else the environment's `QUERY_PRECISION_ENV`, else the default; checked."""
    chosen = (value or os.environ.get(QUERY_PRECISION_ENV) or DEFAULT_QUERY_PRECISION).strip().lower()
    if chosen not in QUERY_PRECISIONS:
        raise ModelLoadError(f"the query encoder must be one of {', '.join(QUERY_PRECISIONS)} (option --query-encoder "
                             f"or {QUERY_PRECISION_ENV}), got {chosen!r}")
    return chosen


def onnx_path(cache_dir: Path, identity: str) -> Path:
    """Where the model of ``identity`` is exported under an embedding cache directory."""
    return Path(cache_dir) / "onnx" / (re.sub(r"[^A-Za-z0-9._@-]+", "_", identity) + ".onnx")


def quantized_path(path: Path) -> Path:
    """Where the int8 copy of the export at ``path`` is kept (``.int8f``: made from the fused graph where the model
    has one; the unfused ``.int8`` copies of earlier versions are left alone and unused)."""
    return path.with_name(path.name.removesuffix(".onnx") + ".int8f.onnx")


class _QuantizerNotes(logging.Filter):
    """Drops what onnxruntime's quantizer logs on the root logger while it runs: its advice to pre-process the
    model first (a warning at every call) and its per-tensor notes (~36 INFO lines on a new user's first
    `prodsearch demo`: "Quantization parameters for tensor ... not specified", "Ignore MatMul ...")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING and "pre-processing before quantization" not in record.getMessage()


def _quantize(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    notes = _QuantizerNotes()
    logging.getLogger().addFilter(notes)
    try:
        # per channel: query vectors' cosine with fp32 ~0.994 (per tensor: ~0.968) at the same speed. The default
        # tensor type covers outputs of the fused graph's com.microsoft operators, which shape inference cannot type.
        quantize_dynamic(source, tmp, weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(tmp, target)  # a half-written model is never picked up
    finally:
        logging.getLogger().removeFilter(notes)
        tmp.unlink(missing_ok=True)


def _quiet_optimizer_logs() -> None:
    """onnxruntime's transformer optimizer logs each fusion at INFO from its own modules' loggers (~15 lines on a
    new user's first `prodsearch demo`): keep them to warnings."""
    import sys

    for name, module in list(sys.modules.items()):
        if f"onnxruntime{os.sep}transformers" in str(getattr(module, "__file__", "") or ""):
            logging.getLogger(name).setLevel(logging.WARNING)


def fused_export(st_model: Any, target: Path) -> bool:
    """Export ``st_model`` with eager attention and fuse it with onnxruntime's BERT optimizer into ``target``: each
    layer's attention (Q, K, V, softmax, output) becomes one operator, as do its layer norms (with the residual
    add) and GELU (79 operators instead of ~340 for MiniLM-L6; int8 quantizes the attention as QAttention). A
    query's handful of tokens makes the many small operators, not the arithmetic, most of the cost: one query on
    one thread, int8, 3.33 -> 2.82 ms p50 here, outputs equal to the plain export's to float rounding
    (tests/indexer/test_query_precision.py). False, and nothing written, when the model is not a BERT-style encoder
    the optimizer recognises (the plain export is quantized then)."""
    try:
        config = st_model[0].auto_model.config
        if getattr(config, "model_type", None) != "bert":
            return False
        from onnxruntime.transformers.optimizer import optimize_model

        _quiet_optimizer_logs()
        eager = target.with_name(target.name + f".{os.getpid()}.eager.tmp")
        try:
            _export(st_model, eager, attention="eager")  # the scaled-dot-product export hides the attention pattern
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fused = optimize_model(str(eager), model_type="bert", num_heads=int(config.num_attention_heads),
                                       hidden_size=int(config.hidden_size), opt_level=1)
            if not fused.get_fused_operator_statistics().get("Attention"):
                logger.info("the query model's attention was not fused; quantizing the plain export")
                return False
            fused.save_model_to_file(str(target))
            return True
        finally:
            eager.unlink(missing_ok=True)
    except Exception as exc:  # an unusual model or exporter: the plain export still serves
        logger.info("the query model could not be fused (%s); quantizing the plain export", exc)
        target.unlink(missing_ok=True)
        return False


def quantized_export(path: Path, st_model: Any = None) -> tuple[Path, Path | None]:
    """The int8 copy of the export at ``path`` (of ``st_model``'s fused graph, when it has one), made once (~5 s) and
    kept beside it; when that folder is read-only, made in a temporary folder, returned second for the caller to
    delete once the model is loaded. The fused graph is made once, in a folder of its own, whichever copy is
    written."""
    import tempfile

    target = quantized_path(path)
    if target.is_file():
        return target, None
    logger.info("quantizing the query text model to int8 (%s), once", target)
    with tempfile.TemporaryDirectory(prefix="prodsearch-fused-") as work:
        fused = Path(work) / path.name
        source = fused if st_model is not None and fused_export(st_model, fused) else path
        try:
            _quantize(source, target)
            return target, None
        except OSError as exc:  # a read-only embedding cache: quantize for this process only
            scratch = Path(tempfile.mkdtemp(prefix="prodsearch-int8-"))
            logger.info("cannot write %s (%s); quantizing into %s for this process", target, exc, scratch)
            _quantize(source, scratch / target.name)
            return scratch / target.name, scratch


def use_exported_for_queries(text_encoder: Any, embedding_cache: str) -> bool:
    """Serve single queries with the ONNX export a build left in its embedding cache (every core for a query
    embedded alone, one thread while others are; 2-3x faster than a direct torch call here); False, and
    torch stays, when there is none."""
    if not embedding_cache or not hasattr(text_encoder, "use_onnx_for_queries"):
        return False
    return bool(text_encoder.use_onnx_for_queries(Path(embedding_cache)))


def exportable(st_model: Any) -> bool:
    """True for a Transformer -> mean Pooling (-> Normalize) sentence-transformers model."""
    names = [type(m).__name__ for m in st_model]
    if names[:2] != ["Transformer", "Pooling"] or any(n != "Normalize" for n in names[2:]):
        return False
    config = st_model[1].get_config_dict() if hasattr(st_model[1], "get_config_dict") else {}
    return config.get("pooling_mode", "mean") == "mean" or bool(config.get("pooling_mode_mean_tokens"))


def _export(st_model: Any, path: Path, attention: str | None = None) -> None:
    """``attention``: the attention implementation to trace (e.g. ``eager``), restored afterwards; None: the model's."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self, transformer: Any):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    auto_model = st_model[0].auto_model
    module = MeanPooled(auto_model).eval().cpu()
    sample = st_model.tokenizer(["a sample product title", "a longer sample product caption text"],
                                padding=True, return_tensors="pt")
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    traced = getattr(auto_model.config, "_attn_implementation", None)
    try:
        if attention is not None:
            auto_model.set_attn_implementation(attention)
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation and indexing notes
            torch.onnx.export(module, (sample["input_ids"], sample["attention_mask"]), str(tmp),
                              input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}},
                              opset_version=17, dynamo=False)
    finally:
        if attention is not None and traced is not None:
            auto_model.set_attn_implementation(traced)
    os.replace(tmp, path)  # a half-written export is never picked up


def cpu_session(path: Path, threads: int, spinning: bool = True) -> Any:
    """An onnxruntime CPU session over the model at ``path``: ``threads`` intra-op threads, one inter-op thread,
    sequential, every graph optimization. How a text model runs here, served (`OnnxTextBackend`) or timed beside it
    (benchmarks/query_encode.py), declared once. ``spinning`` False: idle worker threads sleep instead of
    busy-waiting for the next run (a shared server)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxTextBackend:
    """Embeds texts with ONNX Runtime on ``threads`` cores; the tokenizer is the model's own. ``precision``
    int8 runs the quantized copy of the export (queries only: `quantized_export`)."""

    def __init__(self, st_model: Any, identity: str, directory: Path, threads: int, export: bool = True,
                 spinning: bool = True, precision: str = "fp32"):
        import shutil

        import onnxruntime  # noqa: F401  (not installed: fail now, not after an export; callers fall back to torch)

        path = onnx_path(directory, identity)
        if not path.is_file():
            if not export:
                raise FileNotFoundError(f"no exported model at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            logger.info("exporting the text model to ONNX (%s), once", path)
            _export(st_model, path)
        scratch = None
        if precision == "int8":
            path, scratch = quantized_export(path, st_model)
        elif precision != "fp32":
            raise ValueError(f"precision must be one of {', '.join(QUERY_PRECISIONS)}, got {precision!r}")
        try:
            self.session = cpu_session(path, threads, spinning)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        self.tokenizer = st_model.tokenizer
        self.max_length = int(st_model.max_seq_length)
        self._one_text = one_text_tokenizer(self.tokenizer, self.max_length)
        self.path = path
        self.precision = precision

    def features(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The model's inputs: one text (a query) by the Rust tokenizer directly, else the model's own tokenizer."""
        if len(texts) == 1 and self._one_text is not None:
            encoding = self._one_text.encode(texts[0])
            return {"input_ids": np.array([encoding.ids], np.int64),
                    "attention_mask": np.array([encoding.attention_mask], np.int64)}
        features = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
        return {"input_ids": features["input_ids"].astype(np.int64),
                "attention_mask": features["attention_mask"].astype(np.int64)}

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.session.run(None, self.features(texts))[0]


def one_text_tokenizer(tokenizer: Any, max_length: int) -> Any | None:
    """A copy of ``tokenizer``'s Rust tokenizer (a transformers fast tokenizer's) that truncates at ``max_length``
    and never pads: one text's ids and mask as the model's tokenizer gives them (tests/indexer/test_one_text_tokenizer.py)
    without transformers' per-call wrapper, ~4x cheaper per query. None when there is no Rust tokenizer."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or not callable(getattr(backend, "to_str", None)):
        return None
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(backend.to_str())  # its own truncation and padding settings, set once here
    copy.no_padding()
    copy.enable_truncation(max_length=max_length)
    return copy
