"""The primitive operations of CNNs: linear, conv2d, max_pool2d, avg_pool2d.

All are vectorized: convolution copies the image once into a matrix, one kernel tap at a
time (im2col), and multiplies; pooling takes one strided slice per tap; backward passes
loop over the K×K kernel positions (25 for LeNet), never over pixels. Padding writes into a preallocated
array rather than calling ``np.pad``. These are the engine's hot paths: LeNet-5's
draw-to-activation loop runs through them on every frame.

``linear``'s backward is written for arrays and Tensors alike, so a gradient through it can
be differentiated again; convolution and pooling compute theirs from arrays saved in forward
(the columns, the padded input): first order only (``twice_differentiable = False``).
"""

from __future__ import annotations

import numpy as np

from deepviz.engine.arithmetic import conv_output_size
from deepviz.engine.function import Function


def pad2d(x: np.ndarray, padding: int, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) with ``padding`` rows and columns of ``value`` on every side."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * padding, w + 2 * padding), value, dtype=x.dtype)
    out[:, :, padding : padding + h, padding : padding + w] = x
    return out


def _tap(h_out: int, w_out: int, i: int, j: int, stride: int, dilation: int) -> tuple[slice, slice]:
    """The input positions that kernel tap (i, j) touches, over all output positions."""
    top, left = i * dilation, j * dilation
    return (slice(top, top + stride * (h_out - 1) + 1, stride), slice(left, left + stride * (w_out - 1) + 1, stride))


class Linear(Function):
    """x @ Wᵀ + b, as torch's ``F.linear``: x (N, in), W (out, in), b (out,)."""

    name, local_rules = "linear", ("upstream @ W", "upstreamᵀ @ x", "Σ upstream")

    def forward(self, x, weight, bias=None):
        out = x @ weight.T  # (N, out)
        return out + bias if bias is not None else out

    def backward(self, upstream, x, weight, *bias_and_out):  # the bias and the output are not needed
        need_x, need_w, *has_bias = self.needs_grad
        dx = upstream @ weight if need_x else None  # (N, in)
        dw = upstream.T @ x if need_w else None  # (out, in)
        if not has_bias:
            return dx, dw
        # Σ upstream over the batch, (out,), as ones @ upstream: BLAS sums a tall (N, out) array
        # 3× faster than numpy's reduction over its first axis (and it is every bias's gradient)
        db = np.ones(len(upstream), dtype=upstream.dtype) @ upstream if has_bias[0] else None
        return dx, dw, db


class Conv2d(Function):
    """Cross-correlation, as CNN layers (and torch) compute it:
    out[n, o, i, j] = b[o] + Σ_c,u,v x[n, c, i·S + u·D - P, j·S + v·D - P] · w[o, c, u, v]."""

    name, local_rules = "conv2d", ("conv_transpose(upstream, w)", "Σ upstream ⋆ windows(x)", "Σ upstream")
    twice_differentiable = False  # its backward reads the columns saved by forward

    def forward(self, x, weight, bias=None, stride=1, padding=0, dilation=1):
        n, c, h, w = x.shape
        o, c_w, kh, kw = weight.shape
        if c != c_w:
            raise ValueError(f"conv2d: the input has {c} channels but the kernels expect {c_w}")
        xp = pad2d(x, padding)
        h_out = conv_output_size(h, kh, padding, stride, dilation)
        w_out = conv_output_size(w, kw, padding, stride, dilation)
        if h_out < 1 or w_out < 1:
            raise ValueError(f"conv2d: a {kh}×{kw} kernel does not fit in a {h}×{w} input padded by {padding}")
        # im2col, one kernel tap at a time, laid out (C·K·K, N·Ho·Wo) so that the whole
        # batch is one matrix product. The image is put channel-first once, so that every
        # tap is a plain strided slice copied in the order it is stored.
        xc = np.ascontiguousarray(xp.transpose(1, 0, 2, 3))  # (C, N, H, W)
        cols = np.empty((c, kh, kw, n, h_out, w_out), dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, i, j] = xc[:, :, *_tap(h_out, w_out, i, j, stride, dilation)]
        cols = cols.reshape(c * kh * kw, n * h_out * w_out)  # (C·K·K, N·Ho·Wo)
        w2 = weight.reshape(o, c * kh * kw)  # (O, C·K·K)
        out = (w2 @ cols).reshape(o, n, h_out, w_out).transpose(1, 0, 2, 3)  # (N, O, Ho, Wo)
        out = np.ascontiguousarray(out)
        if bias is not None:
            out += bias.reshape(1, o, 1, 1)
        self.save_for_backward(cols, w2, x.shape, xp.shape, weight.shape, stride, padding, dilation)
        return out

    def backward(self, upstream, *inputs_and_out):  # computed from the saved columns instead
        cols, w2, x_shape, xp_shape, w_shape, stride, padding, dilation = self.saved
        n, c, h, w = x_shape
        o, _, kh, kw = w_shape
        h_out, w_out = upstream.shape[2:]
        need_x, need_w, *has_bias = self.needs_grad
        g = upstream.transpose(1, 0, 2, 3).reshape(o, n * h_out * w_out)  # (O, N·Ho·Wo)
        dw = (g @ cols.T).reshape(w_shape) if need_w else None  # Σ over positions of upstream × window
        db = [upstream.sum(axis=(0, 2, 3)) if has_bias[0] else None] if has_bias else []
        dx = None
        if need_x:
            dcols = (w2.T @ g).reshape(c, kh, kw, n, h_out, w_out)  # what each window position receives
            dxc = np.zeros((c, n, *xp_shape[2:]), dtype=upstream.dtype)  # channel-first, as in forward
            for i in range(kh):  # col2im: add each kernel tap back where it was read
                for j in range(kw):
                    dxc[:, :, *_tap(h_out, w_out, i, j, stride, dilation)] += dcols[:, i, j]
            dxp = dxc.transpose(1, 0, 2, 3)  # (N, C, H, W)
            dx = dxp[:, :, padding : padding + h, padding : padding + w]
        return (dx, dw, *db)


class MaxPool2d(Function):
    """The maximum of each K×K window, per channel. Backward routes each upstream gradient
    to the window's argmax (the first one, on a tie, as torch does): the others get 0."""

    name, local_rules = "max_pool2d", ("[x is its window's max]",)
    twice_differentiable = False

    def forward(self, x, kernel_size=2, stride=None, padding=0):
        stride = stride or kernel_size
        xp = pad2d(x, padding, -np.inf)
        n, c, h, w = xp.shape
        h_out, w_out = conv_output_size(h, kernel_size, 0, stride), conv_output_size(w, kernel_size, 0, stride)
        taps = [_tap(h_out, w_out, k // kernel_size, k % kernel_size, stride, 1) for k in range(kernel_size**2)]
        # one elementwise maximum per kernel tap over strided slices: no window axis to reduce
        out = xp[:, :, taps[0][0], taps[0][1]].copy()
        for rows, columns in taps[1:]:
            np.maximum(out, xp[:, :, rows, columns], out=out)
        self.save_for_backward(xp, taps, x.shape, padding)
        return out

    def backward(self, upstream, x, out):
        xp, taps, x_shape, padding = self.saved
        dxp = np.zeros(xp.shape, dtype=upstream.dtype)
        taken = np.zeros(out.shape, dtype=bool)  # windows whose max has been found already
        for rows, columns in taps:  # in scan order, so the first max of a window wins
            hit = xp[:, :, rows, columns] == out
            hit &= ~taken
            taken |= hit
            dxp[:, :, rows, columns] += upstream * hit
        h, w = x_shape[2:]
        return (dxp[:, :, padding : padding + h, padding : padding + w],)


class AvgPool2d(Function):
    """The mean of each K×K window (zero padding counts, as torch's default). Backward
    spreads each upstream gradient evenly: 1/K² to every position of its window."""

    name, local_rules = "avg_pool2d", ("1 / K²",)
    twice_differentiable = False

    def forward(self, x, kernel_size=2, stride=None, padding=0):
        stride = stride or kernel_size
        xp = pad2d(x, padding)
        n, c, h, w = xp.shape
        h_out, w_out = conv_output_size(h, kernel_size, 0, stride), conv_output_size(w, kernel_size, 0, stride)
        out = np.zeros((n, c, h_out, w_out), dtype=x.dtype)
        for k in range(kernel_size * kernel_size):
            rows, columns = _tap(h_out, w_out, k // kernel_size, k % kernel_size, stride, 1)
            out += xp[:, :, rows, columns]
        self.save_for_backward(x.shape, xp.shape, kernel_size, stride, padding)
        return out / (kernel_size * kernel_size)

    def backward(self, upstream, x, out):
        x_shape, xp_shape, k_size, stride, padding = self.saved
        h_out, w_out = upstream.shape[2:]
        share = upstream / (k_size * k_size)
        dxp = np.zeros(xp_shape, dtype=upstream.dtype)
        for k in range(k_size * k_size):
            rows, columns = _tap(h_out, w_out, k // k_size, k % k_size, stride, 1)
            dxp[:, :, rows, columns] += share
        h, w = x_shape[2:]
        return (dxp[:, :, padding : padding + h, padding : padding + w],)
