"""The primitive operations of CNNs: linear, conv2d, max_pool2d, avg_pool2d.

All are vectorized: convolution copies the image into a matrix (im2col: one copy of a
strided view, see ``_correlate_chunk`` and ``_im2col``) and multiplies, a cache-sized chunk
of images at a time; pooling takes one strided slice per tap; backward passes loop over the
K×K kernel positions (25 for LeNet), never over pixels. Padding writes into a preallocated
array rather than calling ``np.pad``. These are the engine's hot paths: LeNet-5's
draw-to-activation loop runs through them on every frame.

``linear``'s backward is written for arrays and Tensors alike, so a gradient through it can
be differentiated again; convolution and pooling compute theirs from arrays (the padded
input, the columns): first order only (``twice_differentiable = False``).
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


def _row_width(wp: int, w_out: int, stride: int) -> int:
    """How many positions a row of ``_im2col``'s columns holds: Wp with stride 1 (wide rows), else Wo."""
    return wp if stride == 1 else w_out


def _im2col(xp: np.ndarray, kh: int, kw: int, h_out: int, w_out: int, stride: int, dilation: int):
    """The columns (N, C·K·K, Ho·Wg) of the padded input xp (N, C, Hp, Wp): row (c, i, j) holds
    what kernel tap (i, j) of channel c sees at every output position, Wg positions a row.

    With stride 1 the rows are *wide* (Wg = Wp): output (y, x) reads xp's flattened image at
    y·Wp + x + (i·Wp + j)·D, so a tap's whole row is one contiguous run of the image, copied
    at memory speed. The Wp - Wo positions past each row's end wrap into the next row: their
    outputs are computed and dropped (cheaper than copying in runs of Wo). With a larger
    stride, the windows of a sliding-window view are copied as they are (Wg = Wo)."""
    n, c, hp, wp = xp.shape
    if stride == 1:
        # a read-only view (N, C, K, K, run) of the image: tap (i, j)'s row starts (i·Wp + j)·D
        # elements in; one copy makes it the columns, the Wo..Wp tail of the last row zero
        image = np.ascontiguousarray(xp).reshape(n, c, hp * wp)
        run = (h_out - 1) * wp + w_out  # up to the last valid output; the rest is never read back
        sn, sc, item = image.strides[0], image.strides[1], image.itemsize
        # (np.ndarray over image's memory rather than as_strided: it checks that every tap
        # stays inside the image, and it is made in a fifth of the time)
        strides = (sn, sc, wp * dilation * item, dilation * item, item)
        taps = np.ndarray((n, c, kh, kw, run), image.dtype, image, 0, strides)
        cols = np.empty((n, c, kh, kw, h_out * wp), dtype=xp.dtype)
        cols[..., :run] = taps
        cols[..., run:] = 0
        return cols.reshape(n, c * kh * kw, h_out * wp), _row_width(wp, w_out, stride)
    # every K×K window (N, C, Ho, Wo, K, K), as a view; one copy puts the taps first
    span = (dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)
    windows = np.lib.stride_tricks.sliding_window_view(xp, span, axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride, ::dilation, ::dilation]
    cols = np.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3))  # (N, C, K, K, Ho, Wo)
    return cols.reshape(n, c * kh * kw, h_out * w_out), _row_width(wp, w_out, stride)


def _col2im(dcols: np.ndarray, dxp: np.ndarray, kh: int, kw: int, h_out: int, w_out: int, stride: int, dilation: int):
    """The adjoint of ``_im2col``: each tap's row of dcols (N, C·K·K, Ho·Wg) added back where it
    was read, into dxp (N, C, Hp, Wp)."""
    n, c, hp, wp = dxp.shape
    dcols = dcols.reshape(n, c, kh, kw, -1)
    if stride == 1:
        image = dxp.reshape(n, c, hp * wp)
        run = (h_out - 1) * wp + w_out
        for i in range(kh):
            for j in range(kw):
                start = (i * wp + j) * dilation
                image[:, :, start : start + run] += dcols[:, :, i, j, :run]
    else:
        for i in range(kh):
            for j in range(kw):
                dxp[:, :, *_tap(h_out, w_out, i, j, stride, dilation)] += dcols[:, :, i, j].reshape(n, c, h_out, w_out)


# How many numbers of columns a batch is cut into: a chunk's columns, product and gradient
# stay in the CPU's cache, and a few hundred kB are reused by the allocator from one chunk to
# the next, where one (N, C·K·K, Ho·Wg) array of megabytes is given fresh pages by the OS every
# time (page faults cost more than the copy: measured in docs/perf/README.md).
CHUNK_VALUES = 1 << 18


def _chunks(n: int, per_image: int) -> list[slice]:
    """The batch 0..n in slices of as many images as CHUNK_VALUES numbers hold (at least one)."""
    size = max(1, CHUNK_VALUES // per_image)
    return [slice(start, min(n, start + size)) for start in range(0, n, size)]


# How many output positions one product of conv2d's forward covers, at most (unless one row
# of the chunk holds more): OpenBLAS multiplies (O, C·K·K) @ (C·K·K, a few hundred) at its
# best (~100 GFLOP/s for LeNet's conv2, against ~70 for a few thousand; measured).
PRODUCT_COLUMNS = 400


def _rows_per_product(h_out: int, row: int) -> int:
    """How many output rows of ``row`` positions each one product covers: the most that
    keep it within PRODUCT_COLUMNS positions, and divide H_out (at least one)."""
    return max([r for r in range(1, h_out + 1) if h_out % r == 0 and r * row <= PRODUCT_COLUMNS], default=1)


def _correlate_chunk(x: np.ndarray, kernels: np.ndarray, kh: int, kw: int, out_hw: tuple[int, int], stride: int,
                     padding: int, dilation: int) -> np.ndarray:  # fmt: skip
    """conv2d for a chunk of B images x (B, C, H, W), laid out with the batch innermost:
    (O, Ho, Wo, B) comes out as (G, O, R, Wo, B), R output rows a product. ``kernels`` is
    (O, C·K·K), or (O, C·K·K + 1) with the bias as its last column: one more tap, that sees 1.

    The image is copied once with the batch last, (C, Hp, Wp, B), padding included; then
    the columns (C·K·K, Ho, Wo·B): row (c, i, j) holds what tap (i, j) of channel c sees at
    every position of every image. Each output row of them is a run of Wo·B numbers of the
    input (with stride 1), so the copy goes at memory speed, and no position is computed
    and dropped. The product covers the whole chunk, in groups of R output rows."""
    b, c, h, w = x.shape
    h_out, w_out = out_hw
    dtype = np.result_type(x, kernels)
    xt = np.zeros((c, h + 2 * padding, w + 2 * padding, b), dtype=dtype)  # (C, Hp, Wp, B)
    xt[:, padding : padding + h, padding : padding + w] = x.transpose(1, 2, 3, 0)
    sc, sh, sw, sb = xt.strides
    # a read-only view (C, K, K, Ho, Wo, B) of every tap at every position (np.ndarray over xt's
    # memory rather than as_strided: it checks that every tap stays inside, in a fifth of the time)
    taps = np.ndarray((c, kh, kw, h_out, w_out, b), dtype, xt, 0,
                      (sc, sh * dilation, sw * dilation, sh * stride, sw * stride, sb))  # fmt: skip
    cols = np.empty((kernels.shape[1], h_out, w_out * b), dtype=dtype)  # (C·K·K [+ 1], Ho, Wo·B)
    cols[: c * kh * kw].reshape(taps.shape)[...] = taps  # the one copy
    cols[c * kh * kw :] = 1  # the bias's tap, if any
    rows = _rows_per_product(h_out, w_out * b)
    groups = cols.reshape(len(cols), h_out // rows, rows * w_out * b).transpose(1, 0, 2)  # (G, C·K·K [+ 1], R·Wo·B)
    return (kernels @ groups).reshape(h_out // rows, len(kernels), rows, w_out, b)  # (G, O, R, Wo, B)


# Below this many numbers a kernel tap (B·C·Ho·Wp for a chunk of B images), conv2d's input gradient is one
# convolution rather than K·K adds: LeNet's single images (~900 numbers a tap) are, batches
# are not (measured: 74 -> 38 µs for conv2 at batch 1, 3.2 -> 7.7 ms at batch 64).
SMALL_TAP = 4096


def _full_correlation(upstream: np.ndarray, weight: np.ndarray, hw_padded: tuple[int, int]) -> np.ndarray:
    """conv2d's input gradient (stride 1, dilation 1) as a convolution: the upstream gradient
    padded by K - 1 on every side, correlated with the kernels flipped in both directions,
    their in and out channels swapped. Each input position receives from every output
    position whose window covered it, weighted by the tap that saw it: dxp (N, C, Hp, Wp)."""
    o, c, kh, kw = weight.shape
    hp, wp = hw_padded
    flipped = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(c, o * kh * kw)
    cols, width = _im2col(pad2d(upstream, kh - 1), kh, kw, hp, wp, 1, 1)  # (N, O·K·K, Hp·(Wp + K - 1))
    return (flipped @ cols).reshape(-1, c, hp, width)[..., :wp]


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
    out[n, o, i, j] = b[o] + Σ_c,u,v x[n, c, i·S + u·D - P, j·S + v·D - P] · w[o, c, u, v].

    A batch is computed a chunk of images at a time (``_chunks``): the columns of a chunk are
    made, multiplied and dropped. Forward lays a chunk out with the batch innermost
    (``_correlate_chunk``): fat products, no position computed for nothing. Backward makes
    its columns again, image by image with wide rows (``_im2col``), from the padded input
    (a copy at memory speed, cheaper than keeping N·C·K·K·Ho·Wo numbers alive between passes)."""

    name, local_rules = "conv2d", ("conv_transpose(upstream, w)", "Σ upstream ⋆ windows(x)", "Σ upstream")
    twice_differentiable = False  # its backward works on arrays (the columns), not on Tensors

    def forward(self, x, weight, bias=None, stride=1, padding=0, dilation=1):
        n, c, h, w = x.shape
        o, c_w, kh, kw = weight.shape
        if c != c_w:
            raise ValueError(f"conv2d: the input has {c} channels but the kernels expect {c_w}")
        h_out = conv_output_size(h, kh, padding, stride, dilation)
        w_out = conv_output_size(w, kw, padding, stride, dilation)
        if h_out < 1 or w_out < 1:
            raise ValueError(f"conv2d: a {kh}×{kw} kernel does not fit in a {h}×{w} input padded by {padding}")
        w2 = weight.reshape(o, c * kh * kw)  # (O, C·K·K)
        dtype = np.result_type(x, weight, *([] if bias is None else [bias]))
        out = np.empty((n, o, h_out, w_out), dtype=dtype)  # (N, O, Ho, Wo)
        # the bias as the kernels' last column, against a row of ones in the columns: added by the product
        kernels = w2 if bias is None else np.concatenate([w2, bias.reshape(o, 1)], axis=1)  # (O, C·K·K [+ 1])
        for batch in _chunks(n, c * kh * kw * h_out * w_out):
            z = _correlate_chunk(x[batch], kernels, kh, kw, (h_out, w_out), stride, padding, dilation)
            g, _, rows, _, b = z.shape  # (G, O, R, Wo, B)
            # back to (B, O, Ho, Wo): one copy, with the output rows' groups put together again
            out[batch].reshape(b, o, g, rows, w_out)[...] = z.transpose(4, 1, 0, 2, 3)
        self.save_for_backward(stride, padding, dilation)
        return out

    def backward(self, upstream, x, weight, *bias_and_out):  # from the padded input, made again
        stride, padding, dilation = self.saved
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        xp, w2 = pad2d(x, padding), weight.reshape(o, c * kh * kw)  # (N, C, Hp, Wp), (O, C·K·K)
        h_out, w_out = upstream.shape[2:]
        need_x, need_w, *has_bias = self.needs_grad
        dw_t = np.zeros((c * kh * kw, o), dtype=upstream.dtype) if need_w else None  # (C·K·K, O)
        dxp = np.zeros(xp.shape, dtype=upstream.dtype) if need_x else None
        width = _row_width(xp.shape[3], w_out, stride)
        for batch in _chunks(n, c * kh * kw * h_out * xp.shape[3]):
            # upstream on the wide rows, 0 where the outputs were dropped, laid out (B, Ho·Wg, O):
            # the orientation in which OpenBLAS sums window × upstream fastest (measured)
            g = np.zeros((len(upstream[batch]), h_out, width, o), dtype=upstream.dtype)
            g[:, :, :w_out] = upstream[batch].transpose(0, 2, 3, 1)
            g = g.reshape(-1, h_out * width, o)
            if need_w:  # Σ over positions of window × upstream: (C·K·K, Ho·Wg) @ (Ho·Wg, O) per image
                cols, _ = _im2col(xp[batch], kh, kw, h_out, w_out, stride, dilation)  # (B, C·K·K, Ho·Wg)
                dw_t += (cols @ g).sum(axis=0)
            if need_x and stride == dilation == 1 and kh == kw and len(g) * c * h_out * width < SMALL_TAP:
                # few numbers a tap: the K·K adds of col2im would cost a numpy call each, so
                # the gradient is computed as what it is, a convolution (see _full_correlation)
                dxp[batch] = _full_correlation(upstream[batch], weight, xp.shape[2:])
            elif need_x:  # what each window position receives, (B, C·K·K, Ho·Wg), added back in place
                _col2im(w2.T @ g.transpose(0, 2, 1), dxp[batch], kh, kw, h_out, w_out, stride, dilation)
        dw = dw_t.T.reshape(weight.shape) if need_w else None
        dx = dxp[:, :, padding : padding + h, padding : padding + w] if need_x else None
        db = [upstream.sum(axis=(0, 2, 3)) if has_bias[0] else None] if has_bias else []
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
        self.save_for_backward(xp, taps, x.shape, padding, stride < kernel_size)
        return out

    def backward(self, upstream, x, out):
        xp, taps, x_shape, padding, overlapping = self.saved
        dxp = np.zeros(xp.shape, dtype=upstream.dtype)
        free = np.ones(out.shape, dtype=bool)  # windows whose max is still to be found
        hit = np.empty(out.shape, dtype=bool)  # two masks reused for every tap: no temporaries
        for rows, columns in taps:  # in scan order, so the first max of a window wins
            np.equal(xp[:, :, rows, columns], out, out=hit)
            hit &= free
            free ^= hit  # hit ⊆ free: this takes the hits out
            tap = dxp[:, :, rows, columns]  # a view of the gradient
            if overlapping:  # windows share positions: their shares add up
                tap += upstream * hit
            else:  # each position is in one window: written once, no temporary
                np.multiply(upstream, hit, out=tap)
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
