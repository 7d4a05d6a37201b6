"""Hand-made decompression bombs: tiny files whose headers declare gigantic images."""

from __future__ import annotations

import struct
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(side: int = 30000) -> bytes:
    """A valid single-colour 1-bit PNG of side x side pixels (30000: 900 Mpx in about 110 KB)."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def bomb_gif(side: int = 65535) -> bytes:
    """A GIF whose logical screen is side x side but whose one frame is 1x1 pixel (35 bytes)."""
    return (b"GIF89a" + struct.pack("<HHBBB", side, side, 0, 0, 0)
            + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0x80) + b"\x00\x00\x00\xff\xff\xff"
            + b"\x02\x02\x44\x01\x00" + b"\x3b")


def long_png(width: int, height: int) -> bytes:
    """A valid single-colour 8-bit grey PNG of width x height pixels (49,000,000 x 1: about 48 KB)."""
    data = zlib.compress(b"\x00" * ((1 + width) * height), 9)  # a filter byte + a byte a pixel, each row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")
