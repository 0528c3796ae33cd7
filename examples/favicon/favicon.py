"""Render a 32x32 favicon as a PNG, in pure Python (zlib + struct, no PIL).

Each render picks a random hue, so a cached favicon is easy to tell from a
fresh one: with use_cache=true the first render is the one everybody gets.
"""

import colorsys
import random
import struct
import zlib

SIZE = 32


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _png(pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    raw = b"".join(b"\x00" + b"".join(struct.pack("4B", *p) for p in row) for row in pixels)
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def _pixel(x: int, y: int, fg: tuple[int, int, int]) -> tuple[int, int, int, int]:
    # A filled circle with an "o" cut out of it: owt's favicon.
    dx, dy = x - SIZE / 2 + 0.5, y - SIZE / 2 + 0.5
    d = (dx * dx + dy * dy) ** 0.5
    if d > SIZE / 2 - 1:
        return (0, 0, 0, 0)
    if SIZE / 6 < d < SIZE / 4:
        return (255, 255, 255, 255)
    return (*fg, 255)


def run():
    r, g, b = colorsys.hsv_to_rgb(random.random(), 0.7, 0.9)
    fg = (int(r * 255), int(g * 255), int(b * 255))
    png = _png([[_pixel(x, y, fg) for x in range(SIZE)] for y in range(SIZE)])
    return Response(png, content_type="image/png", headers={"Cache-Control": "max-age=86400"})
