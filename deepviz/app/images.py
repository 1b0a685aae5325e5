"""Images in and out of the app: the sample photographs (from scikit-image's wheel, read
as files: its code is never imported), small images made by code, and uploads or
drawings sent as data URLs, decoded with Pillow and bounded in size."""

from __future__ import annotations

import base64
import binascii
import importlib.util
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from deepviz.app import decode
from deepviz.app.errors import InputError
from deepviz.app.settings import get_settings

if TYPE_CHECKING:
    from deepviz.app.settings import Settings

PHOTOS = {  # name -> (file in skimage/data, description)
    "camera": ("camera.png", "a cameraman (the classic test photograph)"),
    "chelsea": ("chelsea.png", "Chelsea the cat (the course opens with cats vs dogs)"),
    "coins": ("coins.png", "coins on a table"),
    "astronaut": ("astronaut.png", "Eileen Collins, astronaut"),
    "coffee": ("coffee.png", "a cup of coffee"),
}


def _made(name: str, size: int) -> np.ndarray:
    """Small test images made by code: sharp edges that kernels make visible."""
    y, x = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    if name == "square":
        return ((abs(x - 0.5) < 0.25) & (abs(y - 0.5) < 0.25)).astype(float)
    if name == "checker":
        cells = max(2, size // 4)
        return ((np.floor(x * cells * 0.999) + np.floor(y * cells * 0.999)) % 2).astype(float)
    if name == "circle":
        return (((x - 0.5) ** 2 + (y - 0.5) ** 2) < 0.1).astype(float)
    if name == "gradient":
        return x
    raise KeyError(name)


MADE = {
    "square": "a white square on black",
    "checker": "a checkerboard",
    "circle": "a disc",
    "gradient": "a left-to-right ramp",
}


def samples() -> dict[str, str]:
    return {**{k: v for k, (_, v) in PHOTOS.items()}, **MADE}


@lru_cache(maxsize=1)
def _skimage_data() -> Path | None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "data"


@lru_cache(maxsize=64)
def sample(name: str, size: int) -> np.ndarray:
    """A sample image as float64 grayscale in [0, 1], its longer side ``size`` pixels."""
    if name in MADE:
        return _made(name, size)
    if name not in PHOTOS:
        raise InputError(["body", "image", "preset"], f"unknown image {name!r}; known: {', '.join(samples())}")
    folder = _skimage_data()
    if folder is None or not (folder / PHOTOS[name][0]).exists():
        raise InputError(["body", "image", "preset"], f"the photograph {name!r} is not installed", status=404)
    with Image.open(folder / PHOTOS[name][0]) as img:
        return _to_array(img, size)


def _to_array(img: Image.Image, size: int) -> np.ndarray:
    if img.mode in decode.SIXTEEN_BIT:
        img = decode.grey_float(img)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    gray = img if img.mode == "F" else img.convert("L")
    scale = size / max(gray.size)
    if scale < 1:
        gray = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.LANCZOS)
    if gray.mode == "F":  # 16-bit levels, already in [0, 1] (Lanczos may overshoot a little)
        return np.clip(np.asarray(gray, dtype=np.float64), 0.0, 1.0)
    return np.asarray(gray, dtype=np.float64) / 255.0


def _shrink(img: Image.Image, size: int) -> Image.Image:
    """An image much larger than ``size`` reduced by an integer factor (box averages, cheap),
    keeping at least twice ``size`` for the Lanczos resize that follows: what Pillow's
    reducing_gap does, before the colour conversions rather than after."""
    factor = max(img.size) // (2 * size)
    if factor < 2:
        return img
    if img.mode in decode.SIXTEEN_BIT:
        img = decode.grey_float(img)
    elif img.mode in ("P", "1"):  # palette indices and bits cannot be averaged
        img = img.convert("RGBA" if img.mode == "P" else "L")
    return img.reduce(factor)


def payload(url: str, max_bytes: int, loc: list) -> bytes:
    """The bytes of a base64 data URL of an image, bounded in size."""
    head, _, data = url.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise InputError(loc, "an image must be a data URL: data:image/png;base64,…")
    if len(data) > max_bytes * 4 // 3 + 4:
        raise InputError(loc, f"the image is larger than {max_bytes} bytes", status=413)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InputError(loc, "the data URL is not valid base64") from error


def decode_data_url(
    url: str, max_bytes: int, max_side: int, loc: list, settings: Settings | None = None
) -> Image.Image:
    """A PNG or JPEG from a data URL, checked and decoded within the upload budget (its longer
    side at most ``max_side``); see app/decode.py."""
    budget = replace(decode.DecodeBudget.upload(settings or get_settings()), side=max_side)
    with decode.decoded(payload(url, max_bytes, loc), budget, loc) as img:
        return img.copy()


def upload(
    url: str, size: int, max_bytes: int, max_side: int, loc: list, settings: Settings | None = None
) -> np.ndarray:
    """An uploaded image as float64 grey levels in [0, 1], its longer side ``size`` pixels at
    most. A JPEG is decoded by libjpeg already scaled down and in grey; a large image waits
    for a decoding turn (decode.Gate), and nothing of it is kept afterwards."""
    settings = settings or get_settings()
    budget = replace(decode.DecodeBudget.upload(settings), side=max_side)
    raw = payload(url, max_bytes, loc)
    with decode.decoded(raw, budget, loc, size=size, grey=True, turns=decode.gate(settings)) as img:
        return _to_array(_shrink(img, size), size)
