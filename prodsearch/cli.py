"""The `prodsearch` console script: one sub-command group per area, each registered by its package."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

logger = logging.getLogger("prodsearch")

# Each entry adds its sub-commands to the parser; imports stay lazy so `prodsearch --help` is fast.
REGISTRARS: list[tuple[str, str]] = [
    ("indexer.cli", "register"),
    ("search.cli", "register"),
    ("api.cli", "register"),
    ("indexer.training.cli", "register"),
    ("eval.cli", "register"),
]


class UserError(Exception):
    """A mistake the user can fix; printed without a traceback, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="prodsearch", description="Multimodal product search engine.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name, func_name in REGISTRARS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that area is not installed in this build
            raise
        register: Callable[[argparse._SubParsersAction], None] = getattr(module, func_name)
        register(sub)
    return parser


def quiet_third_party_logs() -> None:
    """Libraries that log chatty load reports or set their own loggers to DEBUG."""
    for name in ("bm25s", "sentence_transformers", "httpx", "open_clip", "faiss"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if "transformers" not in sys.modules:  # importing it costs ~1 s, for nothing when no model loads (a cached rebuild)
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # per-model "Loading weights" bars
        return
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    quiet_third_party_logs()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted; nothing was replaced", file=sys.stderr)
        return 130
    except Exception as exc:  # typed user-facing errors print cleanly
        from indexer.errors import ProdsearchError

        if isinstance(exc, (UserError, ProdsearchError)):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
