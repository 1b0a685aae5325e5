"""LeNet-5's answer for one image as a compact frame, JSON or binary. Maps travel quantized:
each layer's values scaled to 0..255 between its own min and max (a value is
min + byte / 255 · (max - min)). In JSON the bytes are base64: a frame of the input, all the
layers' activations and the saliency map (9,662 values) is about 14 KB instead of 70 KB of JSON
floats. The binary frame (the stream's "deepviz.lenet.bin1" subprotocol, docs/lenet-stream.md)
carries the same bytes raw: about 9.9 KB.

Binary frame, little-endian:
    u8 version (1), u8 prediction (255: none), u8 target (255: none), u8 maps (0 or 9),
    u16 frame id (echoed), u16 0, f32 × 10 probabilities,
    then per map (input, conv1, pool1, conv2, pool2, fc1, fc2, fc3, saliency):
    u8 name length, the name (ASCII), u8 dimensions d, u16 × d the shape,
    f32 min, f32 max, then the map's values as bytes, C order.
"""

from __future__ import annotations

import base64
import struct
from functools import lru_cache

import numpy as np

from deepviz.lessons import lenet
from deepviz.lessons.lenet import Inference

LAYER_NAMES = [layer.name for layer in lenet.layers()]


def empty() -> dict:
    """The answer to a drawing with no ink: no prediction, nothing to draw."""
    return {"prediction": None, "probabilities": [0.1] * 10, "layers": []}


BINARY_VERSION = 1
NO_CLASS = 255  # a prediction or target that is not there, in a binary frame
_HEAD = struct.Struct("<BBBBHH10f")


def _bytes(a: np.ndarray) -> tuple[float, float, bytes]:
    """A map quantized: its min, its max, and its values as bytes 0..255 between them."""
    lo, hi = float(a.min()), float(a.max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return lo, hi, np.round((a - lo) * scale).astype(np.uint8).tobytes()


def _rows(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch of maps quantized each on its own, as ``_bytes`` does one, in a few numpy calls
    for the whole batch: the rows' min and max (as columns), and their bytes (one row per
    map). The same arithmetic as ``_bytes`` (the scale computed in float64, applied in the
    maps' dtype), so the same bytes."""
    flat = maps.reshape(len(maps), -1)
    lo, hi = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
    span = hi.astype(np.float64) - lo
    scale = (255.0 / np.where(span > 0, span, np.inf)).astype(flat.dtype)  # 0 for a flat map
    return lo, hi, np.round((flat - lo) * scale).astype(np.uint8)


def quantized(name: str, a: np.ndarray) -> dict:
    lo, hi, data = _bytes(a)
    return {"name": name, "shape": list(a.shape), "min": lo, "max": hi, "data": base64.b64encode(data).decode()}


def ink(image: np.ndarray) -> str:
    """A 28×28 image in [0, 1] as pages carry it (/lenet's URL parameter `ink`, a class's
    drawings): its 784 grey levels rounded to bytes 0..255, base64url without padding
    (1,046 characters). Bytes b come back as the image b / 255, whose ink is the same."""
    levels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    return base64.urlsafe_b64encode(levels.tobytes()).decode().rstrip("=")


def frame(result: Inference, i: int, image: np.ndarray) -> dict:
    """The JSON-ready frame for image ``i`` of a batch."""
    return {
        "prediction": int(result.probabilities[i].argmax()),
        "probabilities": [float(p) for p in result.probabilities[i]],
        "target": int(result.targets[i]),
        "input": quantized("input", image),
        "ink": ink(image),
        "layers": [quantized(name, result.activations[name][i]) for name in LAYER_NAMES],
        "saliency": quantized("saliency", result.saliency[i]),
    }


def binaries(result: Inference, stack: np.ndarray, frame_ids: list[int]) -> list[bytes]:
    """The binary frames of a whole batch (the layout above): each layer quantized for all its
    images at once, and the frames written side by side as the rows of one array. Per frame,
    nine maps quantized one by one cost half as much as the batch's forward and saliency."""
    count = len(stack)
    if count == 1:  # a student alone: the batch's ~140 numpy calls cost more than nine maps' one by one
        return [binary(result, 0, stack[0], frame_ids[0])]
    maps = [stack, *(result.activations[name] for name in LAYER_NAMES), result.saliency]
    heads = _heads(tuple(a.shape[1:] for a in maps))
    out = np.empty((count, _HEAD.size + sum(len(head) + 8 + a[0].size for head, a in zip(heads, maps))), np.uint8)
    probabilities = np.asarray(result.probabilities)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = BINARY_VERSION, probabilities.argmax(axis=1), result.targets, len(maps)
    out[:, 4:6] = np.asarray(frame_ids, "<u2").reshape(count, 1).view(np.uint8)
    out[:, 6:8] = 0
    out[:, 8:48] = probabilities.astype("<f4").view(np.uint8)
    at = _HEAD.size
    for head, a in zip(heads, maps):
        lo, hi, data = _rows(a)
        out[:, at : at + len(head)] = head
        at += len(head)
        out[:, at : at + 8] = np.concatenate([lo, hi], axis=1).astype("<f4").view(np.uint8)
        out[:, at + 8 : at + 8 + data.shape[1]] = data
        at += 8 + data.shape[1]
    return [row.tobytes() for row in out]


def binary(result: Inference, i: int, image: np.ndarray, frame_id: int = 0) -> bytes:
    """The binary frame for image ``i`` of a batch, its maps quantized one by one."""
    maps = [("input", image), *((name, result.activations[name][i]) for name in LAYER_NAMES),
            ("saliency", result.saliency[i])]  # fmt: skip
    probabilities = result.probabilities[i]
    parts = [_HEAD.pack(BINARY_VERSION, int(probabilities.argmax()), int(result.targets[i]), len(maps), frame_id, 0,
                        *probabilities.tolist())]  # fmt: skip
    for name, a in maps:
        lo, hi, data = _bytes(a)
        parts += [struct.pack(f"<B{len(name)}sB{a.ndim}Hff", len(name), name.encode(), a.ndim, *a.shape, lo, hi), data]
    return b"".join(parts)


@lru_cache(maxsize=8)
def _heads(shapes: tuple[tuple[int, ...], ...]) -> list[np.ndarray]:
    """Each map's header but min and max (its name, dimensions and shape), for maps of these shapes."""
    names = ["input", *LAYER_NAMES, "saliency"]
    return [np.frombuffer(struct.pack(f"<B{len(name)}sB{len(shape)}H", len(name), name.encode(), len(shape), *shape),
                          np.uint8) for name, shape in zip(names, shapes)]  # fmt: skip


_INPUT = struct.Struct("<BBH")
INPUT_BYTES = _INPUT.size + 28 * 28  # a binary frame from the page: the 28×28 input it made itself
INK = 0.1  # below this everywhere: no ink (as preprocess.mnist_style's threshold)


def read_binary(message: bytes) -> tuple[np.ndarray | None, int | None, int]:
    """A binary frame from the page: (the 28×28 input in [0, 1], or None when it has no ink;
    the target, or None; the frame's id). Layout: u8 1, u8 target (0–9; 255: the prediction),
    u16 frame id, then 784 bytes, the image row by row (0 background, 255 full ink)."""
    if len(message) != INPUT_BYTES:
        raise ValueError(f"a binary frame is {INPUT_BYTES} bytes (4 of header, then 28×28), not {len(message)}")
    kind, target, frame_id = _INPUT.unpack_from(message)
    if kind != 1:
        raise ValueError(f"a binary frame starts with the byte 1, not {kind}")
    if target > 9 and target != NO_CLASS:
        raise ValueError(f"the target is a digit 0–9 (or 255 for the prediction), not {target}")
    image = np.frombuffer(message, np.uint8, offset=_INPUT.size).reshape(28, 28).astype(np.float32) / 255.0
    return (image if image.max() > INK else None), (None if target == NO_CLASS else target), frame_id


def binary_empty(frame_id: int = 0) -> bytes:
    """The binary answer to a drawing with no ink."""
    return _HEAD.pack(BINARY_VERSION, NO_CLASS, NO_CLASS, 0, frame_id, 0, *[0.1] * 10)


def infer(images: list[np.ndarray], targets: list[int | None]) -> tuple[Inference, np.ndarray]:
    """28×28 images through the served LeNet-5 in one batch (a target of None explains the
    predicted class): the inference and the images stacked."""
    stack = np.stack(images)
    wanted = np.array([-1 if t is None else t for t in targets])
    return lenet.infer(lenet.load_pretrained(), stack, wanted), stack


def classify(images: list[np.ndarray], targets: list[int | None]) -> list[dict]:
    """JSON frames for 28×28 images, computed in one batch."""
    result, stack = infer(images, targets)
    return [frame(result, k, stack[k]) for k in range(len(images))]


def reading(image: np.ndarray) -> int:
    """The served LeNet-5's reading of one 28×28 image: the prediction of its frame, computed
    as /api/v1/lenet/predict computes it."""
    return int(lenet.infer(lenet.load_pretrained(), image[None]).probabilities[0].argmax())
