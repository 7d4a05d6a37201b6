"""GPU copies of the faiss store's fields: which device to use, and one shared `StandardGpuResources`.

With ``device="cuda"`` (or ``"auto"`` where faiss-gpu sees a GPU) each field gets a GPU copy, all on one
shared resource object, used for unfiltered searches; an index type without a GPU version stays on the CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import faiss

from indexer.errors import IndexError_

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
_gpu_resources: Any = None


def gpu_available() -> bool:
    """True when this faiss is faiss-gpu and sees at least one CUDA device."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def resolve_device(device: str | None) -> str:
    """``cpu`` or ``cuda`` for the vector indexes; ``cuda`` without a GPU is an error, ``auto`` falls back."""
    device = device or "auto"
    if device.startswith("cuda"):
        if gpu_available():
            return "cuda"
        if not hasattr(faiss, "StandardGpuResources") and _torch_sees_gpu():
            logger.warning("--device %s: this faiss is faiss-cpu, so the vector indexes stay on the CPU "
                           "(install faiss-gpu to search on the GPU)", device)
            return "cpu"
        raise IndexError_(f"--device {device}: no CUDA GPU is visible (faiss {faiss.__version__}"
                          f"{'' if hasattr(faiss, 'StandardGpuResources') else ', CPU-only build'}); "
                          "use --device auto or cpu")
    if device not in DEVICES:
        raise IndexError_(f"--device {device!r}: expected one of {', '.join(DEVICES)}")
    return "cuda" if device == "auto" and gpu_available() else "cpu"


def _torch_sees_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _shared_gpu_resources() -> Any:
    """One `StandardGpuResources` for every GPU copy in the process (each one reserves scratch memory)."""
    global _gpu_resources
    if _gpu_resources is None:
        _gpu_resources = faiss.StandardGpuResources()
    return _gpu_resources


def gpu_copy(index: faiss.Index, params: Mapping[str, float], field_name: str) -> faiss.Index | None:
    """A GPU copy of ``index`` with its nprobe/max_codes, or None for a type without a GPU version (e.g. HNSW)."""
    try:
        gpu = faiss.index_cpu_to_gpu(_shared_gpu_resources(), 0, index)
    except RuntimeError as exc:
        logger.info("field %s stays on the CPU: %s", field_name, str(exc).strip().splitlines()[-1])
        return None
    gpu_params = {k: v for k, v in params.items() if k in ("nprobe", "max_codes")}
    if gpu_params:
        space = faiss.GpuParameterSpace()
        for key, value in gpu_params.items():
            space.set_index_parameter(gpu, key, float(value))
    return gpu
