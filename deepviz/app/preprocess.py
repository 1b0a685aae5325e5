"""MNIST-style preprocessing of a drawing, as LeCun's team prepared MNIST: grayscale, light
ink on black, cropped to the ink, scaled to fit 20×20 keeping its aspect ratio, then placed
in 28×28 so that its centre of mass sits at the centre. Works whatever the drawing's size
and polarity (dark ink on light or light on dark, or a transparent background)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from scipy import ndimage

from deepviz.app import decode
from deepviz.app.images import payload

if TYPE_CHECKING:
    from deepviz.app.schemas import PredictRequest
    from deepviz.app.settings import Settings


def to_ink(img: Image.Image) -> np.ndarray:
    """A float image in [0, 1] where ink is bright and the background is 0."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        alpha = np.asarray(img.convert("RGBA").getchannel("A"))
        if alpha.min() < 250:  # a transparent background: the ink is wherever the strokes are
            return alpha.astype(np.float32) / 255.0
    if img.mode in decode.SIXTEEN_BIT:  # 16-bit levels scaled by their depth, not clipped
        gray = np.asarray(decode.grey_float(img), dtype=np.float32)
    else:
        gray = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1.0 - gray if np.median(border) > 0.5 else gray  # dark ink on light paper: invert


def mnist_style(ink: np.ndarray, threshold: float = 0.1) -> np.ndarray | None:
    """28×28 float32 in [0, 1], or None when there is no ink at all."""
    mask = ink > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow wants (width, height)
    small = Image.fromarray((np.clip(crop, 0, 1) * 255).astype(np.uint8)).resize(size, Image.LANCZOS)
    box = np.zeros((28, 28))
    top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
    box[top : top + size[1], left : left + size[0]] = np.asarray(small, dtype=np.float64) / 255.0
    cy, cx = ndimage.center_of_mass(box)
    box = ndimage.shift(box, (13.5 - cy, 13.5 - cx), order=1, mode="constant", cval=0.0)
    return np.clip(box, 0, 1).astype(np.float32)


SMALL = 0.12  # ink spanning less than this fraction of the canvas: a dot or a scribble, not a digit


def small_drawing(ink: np.ndarray, threshold: float = 0.1) -> str:
    """A word for the student when the ink is too small to be a digit: scaled up to 20×20
    as MNIST's digits are, a dot becomes a blob that the network reads as something anyway."""
    mask = ink > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return ""
    span = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) / max(ink.shape)
    if span >= SMALL:
        return ""
    return "this drawing is very small: it was scaled up to fill 20×20 pixels as MNIST's digits do; draw bigger"


def network_input(request: PredictRequest, settings: Settings) -> tuple[np.ndarray | None, str]:
    """The 28×28 image the network sees (pixels as sent, or a drawing made MNIST-like; None
    when there is no ink), and a note for the student when the drawing is too small."""
    if request.pixels is not None:
        return np.asarray(request.pixels, dtype=np.float32), ""
    loc = ["body", "image"]
    raw = payload(request.image, settings.max_drawing_bytes, loc)
    with decode.decoded(raw, decode.DecodeBudget.drawing(settings), loc, grey=True) as img:
        ink = to_ink(img)  # a JPEG is decoded in grey; a PNG keeps its alpha, where the strokes may be
    return mnist_style(ink), small_drawing(ink)
