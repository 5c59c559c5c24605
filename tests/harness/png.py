"""Tiny valid PNG images for upload tests."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def tiny_png(seed: int, size: int = 2) -> bytes:
    """Return a ``size`` by ``size`` RGB PNG whose pixels (and so bytes) depend on ``seed``.

    MediaWiki refuses an upload whose SHA-1 equals an existing file's unless warnings are
    ignored, and flags it as a duplicate; distinct seeds give distinct files.
    """
    if size < 1:
        raise ValueError("size must be positive")
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type "None" for this scanline
        for x in range(size):
            value = (seed * 2654435761 + y * 40503 + x * 2246822519) & 0xFFFFFF
            rows += value.to_bytes(3, "big")
    # The seed also goes into a text chunk so that seeds colliding in 24-bit pixels differ.
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"tEXt", b"seed\x00" + str(seed).encode()),
            _chunk(b"IDAT", zlib.compress(bytes(rows))),
            _chunk(b"IEND", b""),
        ]
    )
