"""What the convolution, receptive-field and pooling pages show, computed by the engine:
activation maps, the arithmetic of one output pixel, pooling's backward pass, the
effective receptive field, and shape checks for a stack of layers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine.arithmetic import Layer, conv_output_size, dropped
from deepviz.engine.tensor import Tensor, no_grad

MODES = ("cross-correlation", "convolution")


def _as_nchw(image: np.ndarray) -> Tensor:
    return Tensor(np.asarray(image, dtype=np.float64)[None, None])  # (1, 1, H, W)


def oriented(kernel: np.ndarray, mode: str) -> np.ndarray:
    """The kernel as it is laid over the image: flipped both ways for a true convolution
    (the notes' definition), as written for cross-correlation (what CNN layers compute)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    return kernel[::-1, ::-1] if mode == "convolution" else kernel


def activation_maps(
    image: np.ndarray, kernels: list[np.ndarray], biases: list[float], padding: int, stride: int,
    dilation: int = 1, mode: str = "cross-correlation",
) -> list[np.ndarray]:  # fmt: skip
    """One map per kernel (kernels may differ in size), through ``F.conv2d``."""
    maps = []
    with no_grad():
        for kernel, bias in zip(kernels, biases):
            weight = Tensor(np.ascontiguousarray(oriented(np.asarray(kernel, dtype=np.float64), mode))[None, None])
            out = F.conv2d(_as_nchw(image), weight, Tensor(np.array([bias], dtype=np.float64)),
                           stride, padding, dilation)  # fmt: skip
            maps.append(out.data[0, 0])
    return maps


@dataclass
class PixelDetail:
    """How output pixel (row, col) is made (figures 5.3 and 5.4)."""

    row: int
    col: int
    top: int  # the patch's first input row (negative: in the padding)
    left: int
    patch: np.ndarray  # the input under the kernel, padding zeros included
    kernel: np.ndarray  # as laid over the patch (flipped for a true convolution)
    products: np.ndarray  # patch × kernel, value by value
    total: float
    bias: float
    value: float


def pixel_detail(
    image: np.ndarray, kernel: np.ndarray, bias: float, padding: int, stride: int, row: int, col: int,
    dilation: int = 1, mode: str = "cross-correlation",
) -> PixelDetail:  # fmt: skip
    k = np.asarray(kernel, dtype=np.float64)
    h, w = image.shape
    if not (0 <= row < conv_output_size(h, k.shape[0], padding, stride, dilation)
            and 0 <= col < conv_output_size(w, k.shape[1], padding, stride, dilation)):  # fmt: skip
        raise ValueError(f"there is no output pixel ({row}, {col})")
    padded = np.zeros((h + 2 * padding, w + 2 * padding))
    padded[padding : padding + h, padding : padding + w] = image
    top, left = row * stride, col * stride  # in padded coordinates
    span_h, span_w = dilation * (k.shape[0] - 1) + 1, dilation * (k.shape[1] - 1) + 1
    patch = padded[top : top + span_h : dilation, left : left + span_w : dilation]
    laid = oriented(k, mode)
    products = patch * laid
    total = float(products.sum())
    return PixelDetail(row, col, top - padding, left - padding, patch, laid, products, total, bias, total + bias)


def conv_geometry(size: int, k: int, padding: int, stride: int, dilation: int = 1) -> dict:
    """The numbers of the output-size formula, and the input rows (or columns) dropped."""
    numerator = size + 2 * padding - (dilation * (k - 1) + 1)  # W - D(K - 1) - 1 + 2P, the formula's
    return {
        "input": size, "kernel": k, "padding": padding, "stride": stride, "dilation": dilation,
        "numerator": numerator,
        "divides": numerator % stride == 0,
        "output": conv_output_size(size, k, padding, stride, dilation),
        "dropped": dropped(size, k, padding, stride, dilation),
    }  # fmt: skip


@dataclass
class PoolResult:
    output: np.ndarray
    upstream: np.ndarray
    gradient: np.ndarray  # the input's gradient: where backward sends each upstream value


def pool(grid: np.ndarray, kind: str, kernel: int, stride: int, upstream: np.ndarray | str = "ones") -> PoolResult:
    """Pool a 2-D grid and run the backward pass: max pooling routes each upstream gradient
    to its window's argmax, average pooling spreads it evenly. ``upstream``: the gradient
    arriving at the output, an array or "ones" or "count" (1, 2, 3, … in reading order, so
    that every value in the input's gradient says which output it came from)."""
    x = Tensor(np.asarray(grid, dtype=np.float64)[None, None], requires_grad=True)
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = fn(x, kernel, stride)
    if isinstance(upstream, str):
        up = np.ones(out.shape) if upstream == "ones" else np.arange(1.0, out.data.size + 1).reshape(out.shape)
    else:
        up = np.asarray(upstream, dtype=np.float64).reshape(out.shape)
    out.backward(up)
    return PoolResult(out.data[0, 0], up[0, 0], x.grad[0, 0])


def effective_field(layers: list[Layer], size: int, layer_index: int, row: int, col: int, seed: int = 0) -> np.ndarray:
    """|∂ unit / ∂ input| for one unit, by the engine's backward pass through the stack with
    uniform positive kernels on a random input (so max pooling has a clear argmax): how
    much each input pixel actually matters, inside the theoretical field."""
    rng = np.random.default_rng(seed)
    x = Tensor(rng.uniform(0.5, 1.0, (1, 1, size, size)), requires_grad=True)
    h = x
    for layer in layers[:layer_index]:
        if layer.kind == "conv":
            weight = Tensor(np.full((1, 1, layer.kernel, layer.kernel), 1.0 / layer.kernel**2))
            h = F.conv2d(h, weight, None, layer.stride, layer.padding, layer.dilation)
        elif layer.kind == "maxpool":
            h = F.max_pool2d(h, layer.kernel, layer.stride, layer.padding)
        else:
            h = F.avg_pool2d(h, layer.kernel, layer.stride, layer.padding)
    h[0, 0, row, col].backward()
    return np.abs(x.grad[0, 0])


class ShapeError(ValueError):
    def __init__(self, index: int, message: str):
        super().__init__(message)
        self.index = index


def stack_shapes(input_shape: tuple[int, int, int], layers: list[dict]) -> list[tuple[int, ...]]:
    """The shape after each layer of a stack (figures 5.7 and 5.8), or a ``ShapeError``
    naming the first layer that does not fit. Layers: {"type": "conv", "in_channels",
    "out_channels", "kernel", "stride", "padding"}, {"type": "relu"}, {"type": "maxpool" |
    "avgpool", "kernel", "stride"}, {"type": "flatten"}, {"type": "linear", "in_features",
    "out_features"}."""
    shapes = [tuple(input_shape)]
    for i, layer in enumerate(layers):
        shape, kind = shapes[-1], layer["type"]
        if kind == "relu":
            shapes.append(shape)
            continue
        if kind == "flatten":
            shapes.append((int(np.prod(shape)),))
            continue
        if kind == "linear":
            if len(shape) != 1:
                raise ShapeError(i, f"layer {i + 1} (linear) needs a vector: flatten the {shape} volume first")
            if shape[0] != layer["in_features"]:
                raise ShapeError(i, f"layer {i + 1} (linear) expects {layer['in_features']} inputs but gets {shape[0]}")
            shapes.append((layer["out_features"],))
            continue
        if len(shape) != 3:
            raise ShapeError(i, f"layer {i + 1} ({kind}) needs a C×H×W volume, not a vector")
        c, h, w = shape
        k, p = layer["kernel"], layer.get("padding") or 0
        s = layer.get("stride") or (1 if kind == "conv" else k)  # pooling's stride defaults to its kernel
        if kind == "conv" and layer["in_channels"] != c:
            raise ShapeError(i, f"layer {i + 1} (conv) expects {layer['in_channels']} channels but gets {c}")
        h_out, w_out = conv_output_size(h, k, p, s), conv_output_size(w, k, p, s)
        if h_out < 1 or w_out < 1:
            raise ShapeError(i, f"layer {i + 1} ({kind}): a {k}×{k} kernel does not fit in {h}×{w} padded by {p}")
        shapes.append((layer["out_channels"] if kind == "conv" else c, h_out, w_out))
    return shapes
