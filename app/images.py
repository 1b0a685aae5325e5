"""Images in and out of the app: the sample photographs (from scikit-image's wheel, read
as files: its code is never imported), small images made by code, and uploads or
drawings sent as data URLs, decoded with Pillow and bounded in size."""

from __future__ import annotations

import base64
import binascii
import importlib.util
import io
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from app.errors import InputError

# Pillow refuses images past twice this many pixels before decoding them (decompression
# bombs); each caller then checks the image's sides against its own limit.
Image.MAX_IMAGE_PIXELS = 4096 * 4096

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
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    gray = img.convert("L")
    scale = size / max(gray.size)
    if scale < 1:
        gray = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.LANCZOS)
    return np.asarray(gray, dtype=np.float64) / 255.0


def decode_data_url(url: str, max_bytes: int, max_side: int, loc: list) -> Image.Image:
    """A PNG or JPEG from a data URL, checked: its header, its size in bytes and pixels."""
    head, _, payload = url.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise InputError(loc, "an image must be a data URL: data:image/png;base64,…")
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise InputError(loc, f"the image is larger than {max_bytes} bytes", status=413)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InputError(loc, "the data URL is not valid base64") from error
    try:
        img = Image.open(io.BytesIO(raw))
        if img.format not in ("PNG", "JPEG"):
            raise InputError(loc, f"only PNG and JPEG images are accepted, not {img.format}")
        if max(img.size) > max_side:
            raise InputError(loc, f"the image is {img.width}×{img.height}; at most {max_side}×{max_side}")
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise InputError(loc, "the data is not a readable PNG or JPEG image") from error
    return img


def upload(url: str, size: int, max_bytes: int, max_side: int, loc: list) -> np.ndarray:
    return _to_array(decode_data_url(url, max_bytes, max_side, loc), size)
