"""Build progress that reads well everywhere: a tqdm bar on a terminal, a log line every few
seconds otherwise (CI logs, `nohup`), nothing when quiet."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

logger = logging.getLogger("indexer.build")
LOG_EVERY_S = 15.0


class StageProgress:
    """Progress of one build stage (``embed texts``, ``photos``...), in items and items/s."""

    def __init__(self, stage: str, total: int, unit: str, mode: str):
        self.stage, self.total, self.unit, self.mode = stage, total, unit, mode
        self.done = 0
        self._logged_at = -1
        self._start = self._last_log = time.perf_counter()
        self._bar: Any = None
        if mode == "bar" and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=stage, unit=unit, dynamic_ncols=True, file=sys.stderr)

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "log" and time.perf_counter() - self._last_log >= LOG_EVERY_S:
            self._last_log = time.perf_counter()
            self._log()

    def _log(self) -> None:
        self._logged_at = self.done
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        logger.info("%s: %d/%d %s (%.0f %s/s)", self.stage, self.done, self.total, self.unit + "s",
                    self.done / elapsed, self.unit + "s")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "log" and self.total and self._logged_at != self.done:
            self._log()


def progress_mode(progress: bool | str) -> str:
    """``bar`` on a terminal, ``log`` when stderr is not one, ``off`` when progress is not wanted;
    a mode name (``bar``, ``log``, ``off``) is taken as is."""
    if isinstance(progress, str):
        return progress
    if not progress:
        return "off"
    return "bar" if sys.stderr.isatty() else "log"
