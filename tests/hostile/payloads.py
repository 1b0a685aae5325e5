"""What attackers and honest clients send: digits, drawings, image bombs, expressions."""

from __future__ import annotations

import base64
import gzip
import io
import zlib
from functools import lru_cache

import numpy as np
from PIL import Image

# --- payloads ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def digit() -> list[list[float]]:
    """A real MNIST test digit (a 7), 28×28 in [0, 1]."""
    from deepviz.lessons.mnist import load

    return np.round(load().test.images[0, 0].astype(np.float64), 4).tolist()


def data_url(raw: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(raw).decode()


def png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=1)
def big_png() -> str:
    """A single-colour 4096×4096 RGBA PNG (75 KB; 64 MB once decoded)."""
    return data_url(png(Image.new("RGBA", (4096, 4096), (10, 200, 30, 255))))


@lru_cache(maxsize=4)
def drawing(side: int) -> str:
    """The digit drawn on a side×side transparent RGBA PNG, as the page sends drawings."""
    ink = Image.fromarray((np.array(digit()) * 255).astype(np.uint8)).resize((side, side), Image.BILINEAR)
    rgba = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    rgba.putalpha(ink)
    return data_url(png(rgba))


def largest_drawing_side() -> int:
    """The largest drawing the server accepts (its default max_drawing_side)."""
    from deepviz.app.settings import Settings

    return Settings().max_drawing_side


def _segments(jpeg: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment of a JPEG; a scan's entropy-coded data included."""
    found, i = [], 2
    while i < len(jpeg):
        marker = jpeg[i + 1]
        if marker == 0xD9:
            found.append((marker, i, i + 2))
            break
        end = i + 2 + int.from_bytes(jpeg[i + 2 : i + 4], "big")
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a stuffed 0xFF or a restart
            while not (jpeg[end] == 0xFF and jpeg[end + 1] != 0 and not 0xD0 <= jpeg[end + 1] <= 0xD7):
                end += 1
        found.append((marker, i, end))
        i = end
    return found


@lru_cache(maxsize=4)
def jpeg_scan_bomb(side: int, max_bytes: int) -> str:
    """A progressive JPEG written by Pillow, with its smallest scan repeated until the file is
    ``max_bytes``: each repeat makes the decoder pass over every block of the image again
    (about 3 ms a scan at 2048×2048: tens of thousands of scans are minutes of CPU)."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (200, 10, 10)).save(buffer, "JPEG", progressive=True, quality=90)
    raw = buffer.getvalue()
    scans = [(end - start, start, end) for marker, start, end in _segments(raw) if marker == 0xDA]
    _, start, end = min(scans)
    repeats = (max_bytes - len(raw)) // (end - start)
    return data_url(raw[:end] + raw[start:end] * repeats + raw[end:], "jpeg")


@lru_cache(maxsize=1)
def ztxt_png() -> str:
    """An 8×8 PNG carrying a zTXt chunk that inflates to 50 MB (49 KB as sent)."""
    small = png(Image.new("L", (8, 8), 0))
    data = b"Comment\0\0" + zlib.compress(b"\0" * 50_000_000, 9)
    chunk = len(data).to_bytes(4, "big") + b"zTXt" + data + zlib.crc32(b"zTXt" + data).to_bytes(4, "big")
    return data_url(small[:33] + chunk + small[33:])  # after the 8-byte signature and the 25-byte IHDR


@lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """50 MB of JSON-ish bytes, gzipped to ~50 KB (the server must never inflate it)."""
    return gzip.compress(b'{"expression": "' + b"x" * 50_000_000 + b'"}', 9)


def nested_brackets(depth: int = 5000) -> str:
    return "[" * depth + "]" * depth


DESCENT_SUM = "+".join(["w"] * 1000)  # 1,999 characters, 1,999 nodes: 100 steps cost ~4 s of CPU
GRAPH_QUOTIENT = "/".join(["x"] * 999)  # ~0.3 s with its gradient check, 450 KB of answer
HONEST_GRAPH = {"expression": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}
