"""What the real encoders share: unit-length float32 rows, the device they run on, and a fingerprint of their
weights (which names the model in an index's manifest, so an index is never queried with other weights)."""

from __future__ import annotations

import numpy as np

from indexer.errors import InvalidArrayError


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Row-normalise to unit length as contiguous float32; zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise InvalidArrayError(f"expected a (n, d) array, got shape {vectors.shape}; reshape to 2-D")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def pick_device() -> str:
    """`cuda` when a GPU is visible to torch, else `cpu`."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def weights_fingerprint(model) -> str:  # type: ignore[no-untyped-def]
    """A short hash of a torch model's parameters (shapes plus a sample of values from each tensor)."""
    import hashlib

    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().reshape(-1)
        sample = flat if flat.numel() <= 128 else flat[list(range(64)) + list(range(flat.numel() - 64, flat.numel()))]
        digest.update(key.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(sample.float().cpu().numpy().tobytes())
    return digest.hexdigest()[:12]
