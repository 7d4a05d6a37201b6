"""Where catalog photos may be read from: local files confined to allowed folders, URLs under a `FetchPolicy`.

A catalog is data from outside: its image references must not make the indexer read
``/etc/shadow`` or ``../../secrets.png`` and then serve it as a thumbnail. A local
reference is resolved (``..`` and every symlink) and must lie inside one of the allowed
roots (the catalog's folder, plus ``--images-root``); the file is then opened by its
resolved path without following a last-moment symlink, must be a regular file, and is
read up to the same byte cap as a download. Refusals are `ImageSourceError`s: the build
records them as image failures and keeps the product.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from indexer.fetch import FetchError, FetchPolicy, fetch_url

URL_SCHEMES = ("http://", "https://")


class ImageSourceError(OSError):
    """A photo reference that may not (or cannot) be read; the message is the reason."""


def is_url(ref: str) -> bool:
    return ref.lower().startswith(URL_SCHEMES)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@dataclass(frozen=True)
class ImageSources:
    """The reading policy of one build. ``roots=None`` trusts any local path (a photo the user names)."""

    roots: tuple[Path, ...] | None = None
    fetch: FetchPolicy = field(default_factory=FetchPolicy)

    @classmethod
    def confined(cls, *roots: Path | str | None, fetch: FetchPolicy | None = None) -> ImageSources:
        """Local photos only from inside ``roots`` (resolved now, symlinks included)."""
        resolved = tuple(dict.fromkeys(Path(os.path.realpath(r)) for r in roots if r is not None))
        return cls(roots=resolved, fetch=fetch or FetchPolicy())

    def check_path(self, ref: str | Path) -> Path:
        """The resolved path of a local reference, or `ImageSourceError` if it leads outside the roots."""
        try:
            real = Path(os.path.realpath(ref))
        except (ValueError, OSError) as exc:  # e.g. an embedded NUL byte
            raise ImageSourceError(f"refused: invalid path ({exc})") from exc
        if self.roots is not None and not any(_within(real, root) for root in self.roots):
            shown = ", ".join(str(r) for r in self.roots)
            raise ImageSourceError(f"refused: resolves to {real}, outside the allowed image folders ({shown}); "
                                   "pass --images-root DIR to allow another folder")
        return real

    def read_file(self, ref: str | Path) -> bytes:
        real = self.check_path(ref)
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise ImageSourceError("file not found") from None
        except OSError as exc:
            raise ImageSourceError(f"cannot open: {exc.strerror or exc}") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ImageSourceError("not a regular file")
            if self.roots is not None and os.path.isdir("/proc/self/fd"):
                self.check_path(os.readlink(f"/proc/self/fd/{fd}"))  # a folder swapped after the check
            limit = self.fetch.max_bytes
            if info.st_size > limit:
                raise ImageSourceError(f"file of {info.st_size} bytes is over the {limit}-byte limit per photo")
            with os.fdopen(fd, "rb", closefd=True) as fh:
                fd = -1
                data = fh.read(limit + 1)
            if len(data) > limit:
                raise ImageSourceError(f"file is over the {limit}-byte limit per photo")
            return data
        finally:
            if fd >= 0:
                os.close(fd)

    def read_bytes(self, ref: str) -> bytes:
        """The bytes of a photo reference (URL or local path) under this policy."""
        if is_url(ref):
            try:
                return fetch_url(ref, self.fetch)
            except FetchError as exc:
                raise ImageSourceError(str(exc)) from exc
        return self.read_file(ref)


TRUSTED = ImageSources()
