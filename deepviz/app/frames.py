"""LeNet-5's answer for one image as a compact JSON frame. Maps travel quantized: each
layer's values scaled to 0..255 between its own min and max, as base64 bytes (a value is
min + byte / 255 · (max - min)). A frame of all 9,662 activations and the saliency map is
about 14 KB instead of 70 KB of JSON floats, and encodes in tens of microseconds."""

from __future__ import annotations

import base64

import numpy as np

from deepviz.lessons import lenet
from deepviz.lessons.lenet import Inference

LAYER_NAMES = [layer.name for layer in lenet.layers()]


def empty() -> dict:
    """The answer to a drawing with no ink: no prediction, nothing to draw."""
    return {"prediction": None, "probabilities": [0.1] * 10, "layers": []}


def quantized(name: str, a: np.ndarray) -> dict:
    lo, hi = float(a.min()), float(a.max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    q = np.round((a - lo) * scale).astype(np.uint8)
    return {"name": name, "shape": list(a.shape), "min": lo, "max": hi, "data": base64.b64encode(q.tobytes()).decode()}


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


def classify(images: list[np.ndarray], targets: list[int | None]) -> list[dict]:
    """Frames for 28×28 images, through the served LeNet-5 in one batch (a target of None
    explains the predicted class)."""
    stack = np.stack(images)
    wanted = np.array([-1 if t is None else t for t in targets])
    result = lenet.infer(lenet.load_pretrained(), stack, wanted)
    return [frame(result, k, stack[k]) for k in range(len(images))]


def reading(image: np.ndarray) -> int:
    """The served LeNet-5's reading of one 28×28 image: the prediction of its frame, computed
    as /api/v1/lenet/predict computes it."""
    return int(lenet.infer(lenet.load_pretrained(), image[None]).probabilities[0].argmax())
