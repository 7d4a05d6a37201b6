"""A ranked list of documents from one signal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Run:
    """Documents (int rows) best first, with their scores (higher is better)."""

    docs: np.ndarray
    scores: np.ndarray
    # The most any document can score in this run, when its scores mean something absolute (the share of the
    # query's understood values a product holds): weighted fusion then divides by it instead of stretching
    # the run's own min..max to 0..1 (which gives the run's worst candidate 0, however much it matched).
    scale: float | None = None

    def __post_init__(self) -> None:
        if self.docs.shape != self.scores.shape or self.docs.ndim != 1:
            raise ValueError(f"docs and scores must be 1-D of one length, got {self.docs.shape} and {self.scores.shape}")
        if self.scale is not None and not self.scale > 0:
            raise ValueError(f"a run's scale must be > 0, got {self.scale}")

    def __len__(self) -> int:
        return len(self.docs)
