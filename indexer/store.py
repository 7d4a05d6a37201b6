"""The product store: the fields a hit shows, and a thumbnail per product, in SQLite (no pickles).

Rows are numbered 0..n-1 in index order; that number is the document id every
signal's index uses.
"""

from __future__ import annotations

import io
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.catalog import Product

THUMBNAIL_MAX_SIDE = 256
THUMBNAIL_QUALITY = 88
THUMBNAIL_SETTINGS = f"jpeg-{THUMBNAIL_MAX_SIDE}-q{THUMBNAIL_QUALITY}"  # part of a cached thumbnail's key

SCHEMA = """
CREATE TABLE products (
    row INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE thumbnails (
    row INTEGER PRIMARY KEY,
    mime TEXT NOT NULL,
    data BLOB NOT NULL
);
"""


def encode_thumbnail(image: Image.Image) -> bytes:
    """A JPEG no larger than THUMBNAIL_MAX_SIDE on its longer side."""
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE))
    buf = io.BytesIO()
    thumb.save(buf, format="JPEG", quality=THUMBNAIL_QUALITY)
    return buf.getvalue()


def write_store(path: Path, products: Iterable[Product],
                thumbnails: Mapping[int, bytes] | Iterable[tuple[int, bytes]]) -> None:
    """Write the store in one transaction; ``thumbnails`` may be a stream of ``(row, JPEG)`` pairs."""
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany("INSERT INTO products(row, id, doc) VALUES (?, ?, ?)",
                        ((i, p.id, p.model_dump_json()) for i, p in enumerate(products)))
        con.executemany("INSERT INTO thumbnails(row, mime, data) VALUES (?, 'image/jpeg', ?)",
                        sorted(thumbnails.items()) if isinstance(thumbnails, Mapping) else thumbnails)
        con.commit()
    finally:
        con.close()


def read_only_uri(path: Path) -> str:
    """A SQLite URI opening ``path`` read-only; percent-encoded, as a raw '#', '?' or '%' in it would cut or change it."""
    return Path(path).absolute().as_uri() + "?mode=ro"


class ProductStore:
    """Read access to the store; products are cached in memory after the first load."""

    def __init__(self, path: Path):
        self.path = path
        # check_same_thread=False: the API serves requests from a thread pool; reads only.
        self._con = sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        rows = self._con.execute("SELECT row, id, doc FROM products ORDER BY row").fetchall()
        self.products: list[Product] = [Product.model_validate_json(doc) for _, _, doc in rows]
        self.row_of: dict[str, int] = {p.id: i for i, p in enumerate(self.products)}
        self.has_thumbnail = np.zeros(len(self.products), dtype=bool)
        for (row,) in self._con.execute("SELECT row FROM thumbnails"):
            self.has_thumbnail[row] = True

    def __len__(self) -> int:
        return len(self.products)

    def thumbnail(self, row: int) -> tuple[str, bytes] | None:
        with self._lock:
            found = self._con.execute("SELECT mime, data FROM thumbnails WHERE row = ?", (row,)).fetchone()
        return (found[0], bytes(found[1])) if found else None

    def close(self) -> None:
        self._con.close()

