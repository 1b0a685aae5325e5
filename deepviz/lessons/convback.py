"""The convolution's backward pass, one cell at a time, computed by the engine.

For y = conv2d(x, w, b, stride S, padding P, dilation D) and the gradient g = ∂L/∂y
arriving from above:

- ∂L/∂W is the cross-correlation of the (padded) input with g: the kernel's cell (i, j) met
  the input at rows i·D, i·D + S, i·D + 2S, …, one row for each output row.
- ∂L/∂X is the full convolution of g with the kernel: g with S − 1 zeros inserted between its
  values (the stride), padded by D(K − 1) zeros all round, cross-correlated with the kernel
  flipped both ways. That gives the gradient of the padded input; the padding's border is
  then cropped (the padding zeros are constants, they need no gradient).
- ∂L/∂b is the sum of g: the bias is added to every output.

Each of the three is computed here as a convolution by the engine itself and checked against
what the engine's autograd of ``F.conv2d`` gives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine.arithmetic import conv_output_size
from deepviz.engine.tensor import Tensor, no_grad

GRADIENTS = ("dW", "dX", "db")


def _nchw(grid: np.ndarray) -> Tensor:
    return Tensor(np.ascontiguousarray(grid, dtype=np.float64)[None, None])  # (1, 1, H, W)


def upstream_grid(kind: str, shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """The gradient arriving at the output: all ones, numbered 1, 2, 3, … in reading order,
    or small random whole numbers from −3 to 3 (reproducible from the seed)."""
    if kind == "ones":
        return np.ones(shape)
    if kind == "count":
        return np.arange(1.0, shape[0] * shape[1] + 1).reshape(shape)
    if kind == "random":
        return np.random.default_rng(seed).integers(-3, 4, shape).astype(np.float64)
    raise ValueError(f"unknown upstream gradient {kind!r}")


@dataclass
class Cell:
    """How one cell of a gradient is made: ``window`` (numbers picked from the grid shown on
    the left, starting at (top, left), every ``step`` rows and columns) times ``factor``,
    value by value, summed."""

    gradient: str  # "dW", "dX" or "db"
    row: int
    col: int
    top: int
    left: int
    step: tuple[int, int]  # (rows, columns) between the picked numbers
    window: np.ndarray
    factor: np.ndarray
    products: np.ndarray
    total: float
    cropped: bool  # dX only: a cell of the padding's border, cropped away


@dataclass
class ConvBackward:
    input: np.ndarray  # (H, W)
    padded: np.ndarray  # (H + 2P, W + 2P): the input as the kernel sees it
    kernel: np.ndarray  # (K_h, K_w)
    flipped: np.ndarray  # the kernel turned 180°
    upstream: np.ndarray  # (H_out, W_out): g
    spread: np.ndarray  # g with zeros inserted for the stride and a border of D(K - 1) zeros (more at the
    # bottom and right for the rows no window reads): the full convolution's input
    spread_kind: np.ndarray  # per cell of ``spread``: "value", "inserted" (the stride's zeros) or "border"
    output: np.ndarray  # the forward pass, y
    dW: np.ndarray  # from the engine's autograd
    dX: np.ndarray
    db: float
    dX_padded: np.ndarray  # the padded input's gradient, before the border is cropped
    stride: int
    padding: int
    dilation: int
    agrees: bool  # the three convolutions equal the autograd's gradients

    def cell(self, gradient: str, row: int, col: int) -> Cell:
        """The terms of one cell: dW (row, col) of the kernel, dX (row, col) of the PADDED
        input (a cell of the border is marked cropped), db (0, 0)."""
        if gradient == "db":
            if (row, col) != (0, 0):
                raise ValueError("∂L/∂b has one cell, (0, 0)")
            g = self.upstream
            return Cell("db", 0, 0, 0, 0, (1, 1), g, np.ones_like(g), g.copy(), float(g.sum()), False)
        if gradient == "dW":
            shape = self.kernel.shape
        elif gradient == "dX":
            shape = self.padded.shape
        else:
            raise ValueError(f"gradient must be one of {GRADIENTS}")
        if not (0 <= row < shape[0] and 0 <= col < shape[1]):
            raise ValueError(f"∂L/∂{gradient[1]} is {shape[0]}×{shape[1]}: there is no cell ({row}, {col})")
        if gradient == "dW":  # the input under kernel cell (row, col) at every output position
            stride, dilation = self.stride, self.dilation
            h_out, w_out = self.upstream.shape
            top, left = row * dilation, col * dilation  # in the padded input
            window = self.padded[
                top : top + stride * (h_out - 1) + 1 : stride, left : left + stride * (w_out - 1) + 1 : stride
            ]
            products = window * self.upstream
            return Cell("dW", row, col, top, left, (stride, stride), window, self.upstream, products,
                        float(products.sum()), False)  # fmt: skip
        d = self.dilation  # dX: the spread gradient under the flipped kernel
        kh, kw = self.kernel.shape
        window = self.spread[row : row + d * (kh - 1) + 1 : d, col : col + d * (kw - 1) + 1 : d]
        products = window * self.flipped
        p = self.padding
        inside = p <= row < self.padded.shape[0] - p and p <= col < self.padded.shape[1] - p
        return Cell("dX", row, col, row, col, (d, d), window, self.flipped, products, float(products.sum()), not inside)


def conv_backward(
    image: np.ndarray, kernel: np.ndarray, upstream: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1
) -> ConvBackward:
    """Forward and backward of one single-channel convolution, and the three gradients
    again as convolutions (see the module's docstring)."""
    x_np, w_np, g = (np.asarray(a, dtype=np.float64) for a in (image, kernel, upstream))
    (h, w), (kh, kw) = x_np.shape, w_np.shape
    h_out = conv_output_size(h, kh, padding, stride, dilation)
    w_out = conv_output_size(w, kw, padding, stride, dilation)
    if h_out < 1 or w_out < 1:
        raise ValueError(f"a {kh}×{kw} kernel does not fit in a {h}×{w} input padded by {padding}")
    if g.shape != (h_out, w_out):
        raise ValueError(f"the upstream gradient must be {h_out}×{w_out}, the output's shape")

    # the engine's own backward
    x = Tensor(x_np[None, None], requires_grad=True)  # (1, 1, H, W)
    weight = Tensor(w_np[None, None], requires_grad=True)  # (1, 1, K_h, K_w)
    bias = Tensor(np.zeros(1), requires_grad=True)
    y = F.conv2d(x, weight, bias, stride, padding, dilation)  # (1, 1, H_out, W_out)
    y.backward(g[None, None])

    padded = np.pad(x_np, padding)  # (H + 2P, W + 2P)
    flipped = w_np[::-1, ::-1]
    # the full convolution's input: g spread out by the stride, inside a border of D(K - 1) zeros; the border at
    # the bottom and right also covers the padded input's rows and columns no window reads
    spread = np.zeros((h + 2 * padding + dilation * (kh - 1), w + 2 * padding + dilation * (kw - 1)))
    spread_kind = np.full(spread.shape, "border", dtype=object)
    top, left = dilation * (kh - 1), dilation * (kw - 1)
    rows, cols = top + stride * (h_out - 1) + 1, left + stride * (w_out - 1) + 1
    spread_kind[top:rows, left:cols] = "inserted"
    spread[top:rows:stride, left:cols:stride] = g
    spread_kind[top:rows:stride, left:cols:stride] = "value"

    with no_grad():  # the three gradients as convolutions, by the engine
        dW = F.conv2d(_nchw(padded), _nchw(g), None, stride=dilation, dilation=stride).data[0, 0, :kh, :kw]
        dX_padded = F.conv2d(_nchw(spread), _nchw(flipped), None, dilation=dilation).data[0, 0]  # (H + 2P, W + 2P)
        db = float(Tensor(g).sum().data)
    dX = dX_padded[padding : padding + h, padding : padding + w]
    agrees = bool(np.allclose(dW, weight.grad[0, 0]) and np.allclose(dX, x.grad[0, 0]) and np.isclose(db, bias.grad[0]))
    return ConvBackward(x_np, padded, w_np, flipped.copy(), g, spread, spread_kind, y.data[0, 0], weight.grad[0, 0],
                        x.grad[0, 0], float(bias.grad[0]), dX_padded, stride, padding, dilation, agrees)  # fmt: skip
