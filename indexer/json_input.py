"""JSON a user hands the engine (an option, a settings or model file), read so that every failure is a
`ValueError` with a short reason, for the caller to raise as its own one-line error.

``json.loads`` alone raises RecursionError on deep nesting (no ValueError), ValueError for an integer of more
than 4,300 digits, and UnicodeDecodeError on bytes; opening the file can fail as a folder, a symlink loop or a
NUL in the path, and an endless file (/dev/zero) must not be read whole.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def parse_json(text: str | bytes) -> Any:
    """``json.loads(text)``, or ValueError saying why not in a line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except ValueError as exc:
        if "digits" in str(exc):  # "Exceeds the limit (4300 digits) for integer string conversion ..."
            raise ValueError(f"not valid JSON (a number of more than {sys.get_int_max_str_digits()} digits)") from None
        raise ValueError(f"not valid JSON ({str(exc)[:200]})") from None


def read_json_file(path: str | Path, max_bytes: int) -> Any:
    """The JSON value in the file at ``path`` (UTF-8, a leading BOM allowed). FileNotFoundError when there is
    none (the caller says what to do about it); ValueError for anything else wrong with it."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise ValueError("a folder, not a file") from None
    except OSError as exc:  # a symlink loop, no permission, ...
        raise ValueError(f"cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # a NUL in the path
        raise ValueError(f"cannot be read ({exc})") from None
    if len(data) > max_bytes:
        raise ValueError(f"larger than {max_bytes:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    return parse_json(text)
