"""A ranked list of documents from one signal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Run:
    """Documents (int rows) best first, with their scores (higher is better)."""

    docs: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        if self.docs.shape != self.scores.shape or self.docs.ndim != 1:
            raise ValueError(f"docs and scores must be 1-D of one length, got {self.docs.shape} and {self.scores.shape}")

    def __len__(self) -> int:
        return len(self.docs)
