"""Draw the Exchange's app icons (static/icons/*.png): a white shield marked "IX" on #1d3557.

Run `python deploy/make_icons.py` after changing the mark; the PNGs are committed. Pure Python
(zlib + struct), so it needs nothing the application does not: shapes are drawn by testing each
pixel's sub-samples against the shield and letter strokes, which gives smooth edges.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
NAVY = (0x1D, 0x35, 0x57)
WHITE = (0xFF, 0xFF, 0xFF)
SUBSAMPLES = 3  # per axis: 9 samples a pixel

# name -> (size in pixels, shield height as a share of the canvas). A maskable icon keeps the
# mark inside the central circle of 40% radius that every launcher shape leaves visible.
SPECS = {
    "icon-192.png": (192, 0.72),
    "icon-512.png": (512, 0.72),
    "icon-maskable-512.png": (512, 0.56),
    "apple-touch-icon.png": (180, 0.68),
}


def _in_shield(x: float, y: float) -> bool:
    """Shield in a box x in [-0.40, 0.40], y in [0, 1] (top to tip), in shield heights."""
    if y < 0.0 or y > 1.0:
        return False
    # A gentle dip in the top edge, straight sides, then a curve to the point.
    top = 0.05 * (1.0 - x * x / (0.40 * 0.40))
    if y < top:
        return False
    if y < 0.48:
        half = 0.40
    else:
        t = (y - 0.48) / 0.52
        half = 0.40 * (1.0 - t**1.7)
    return abs(x) <= half


def _near_segment(x: float, y: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))


def _in_letters(x: float, y: float) -> bool:
    """'IX' in the same box as the shield, strokes 0.085 wide."""
    if y < 0.24 or y > 0.62:
        return False
    if -0.255 <= x <= -0.17:  # I
        return True
    half = 0.0425
    return (
        _near_segment(x, y, (-0.05, 0.28), (0.23, 0.58)) <= half
        or _near_segment(x, y, (-0.05, 0.58), (0.23, 0.28)) <= half
    )


def _pixel(px: int, py: int, size: int, scale: float) -> tuple[int, int, int]:
    height = size * scale
    left = size / 2.0
    top = (size - height) / 2.0 + height * 0.02
    white = 0
    for sy in range(SUBSAMPLES):
        for sx in range(SUBSAMPLES):
            x = (px + (sx + 0.5) / SUBSAMPLES - left) / height
            y = (py + (sy + 0.5) / SUBSAMPLES - top) / height
            if _in_shield(x, y) and not _in_letters(x, y):
                white += 1
    share = white / (SUBSAMPLES * SUBSAMPLES)
    red, green, blue = (round(n + (w - n) * share) for n, w in zip(NAVY, WHITE, strict=True))
    return red, green, blue


def render(size: int, scale: float) -> bytes:
    """The icon as RGB rows, each led by PNG filter byte 0."""
    rows = bytearray()
    for py in range(size):
        rows.append(0)
        for px in range(size):
            rows.extend(_pixel(px, py, size, scale))
    return bytes(rows)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(size: int, rows: bytes) -> bytes:
    """A truecolour 8-bit PNG of a square image."""
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )


def main() -> int:
    """Write every icon into static/icons."""
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, (size, scale) in SPECS.items():
        (ICONS / name).write_bytes(png(size, render(size, scale)))
        print(f"{name}: {size}x{size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
