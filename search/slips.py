"""What a shopper's slip of the finger looks like, for the spelling corrector (`search.understanding`)."""

from __future__ import annotations

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEAR = {(a, b) for row in _ROWS for a, b in zip(row, row[1:], strict=False)}
_NEAR |= {(b, a) for a, b in _NEAR}


def lost_one(longer: str, shorter: str) -> bool:
    """Whether ``shorter`` is ``longer`` with one letter dropped."""
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def plausible(typed: str, term: str) -> bool:
    """Whether ``typed`` is ``term`` after a likely slip: not a substitution of a key far from the intended one."""
    if len(typed) != len(term):
        return True  # a dropped or doubled letter
    diff = [(a, b) for a, b in zip(typed, term, strict=True) if a != b]
    return len(diff) != 1 or diff[0] in _NEAR
