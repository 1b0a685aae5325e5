"""The primitives whose Jacobian is not diagonal: a sum spreads the gradient, a max routes
it, a matmul transposes, a reshape reshapes it back, softmax mixes it. Each gives its
``backward`` directly, right under its ``forward``, written once for arrays and Tensors
(see ``engine.function``).

``BroadcastTo`` and ``AddAt`` are the adjoints of ``Sum`` and ``GetItem``: their backward
passes, recorded as ops when a gradient is to be differentiated again.
"""

from __future__ import annotations

import numpy as np

from deepviz.engine.function import Array, Function, exp, is_array, sigmoid, unbroadcast, value


class MatMul(Function):
    """a @ b for vectors and matrices. A vector is a row on the left, a column on the right."""

    name, local_rules = "@", ("upstream @ bᵀ", "aᵀ @ upstream")
    formula = "{0} @ {1}"

    def forward(self, a, b):
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise ValueError(f"@ takes vectors and matrices, not shapes {a.shape} and {b.shape}")
        return a @ b

    def backward(self, upstream, a, b, out):
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # (n, k)
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # (k, m)
        g2 = upstream.reshape(a2.shape[0], b2.shape[1])  # (n, m)
        need_a, need_b = self.needs_grad
        return (
            (g2 @ b2.T).reshape(a.shape) if need_a else None,
            (a2.T @ g2).reshape(b.shape) if need_b else None,
        )


def _kept_shape(shape: tuple[int, ...], axis) -> tuple[int, ...]:
    """The shape of a reduction over ``axis`` with keepdims: 1 along the reduced axes."""
    axes = range(len(shape)) if axis is None else [a % len(shape) for a in np.atleast_1d(axis)]
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """Sum over ``axis`` (all axes if None): every input gets the upstream gradient."""

    name, local_rules = "sum", ("1",)

    def forward(self, a, axis=None, keepdims=False):
        self.save_for_backward(_kept_shape(a.shape, axis))
        return np.sum(a, axis=axis, keepdims=keepdims)

    def backward(self, upstream, a, out):
        (kept,) = self.saved
        return (broadcast_to(upstream.reshape(kept), a.shape),)  # (…, 1, …) → a's shape


class BroadcastTo(Function):
    """a repeated along its size-1 (or missing) axes up to ``shape``: Sum's backward. Its own
    backward sums the copies back (``unbroadcast``)."""

    name, local_rules = "broadcast_to", ("1 (summed over the copies)",)

    def forward(self, a, shape):
        return np.broadcast_to(a, shape).copy()

    def backward(self, upstream, a, out):
        return (unbroadcast(upstream, a.shape),)


def broadcast_to(x, shape: tuple[int, ...]):
    """``x`` repeated up to ``shape``: a new array, or the op BroadcastTo on a Tensor."""
    return np.broadcast_to(x, shape).copy() if is_array(x) else x.broadcast_to(shape)


class Max(Function):
    """Max over ``axis``: the gradient goes to the position of the maximum, the others get
    zero. On a tie, as in torch: the max of all elements shares it evenly among the tied
    positions (torch.max(x), torch.amax); the max along an axis gives it to the first one
    (torch.max(x, dim), which returns that index)."""

    name, local_rules = "max", ("[a is the max] (shared on a tie)",)

    def forward(self, a, axis=None, keepdims=False):
        self.save_for_backward(axis, _kept_shape(a.shape, axis))
        return np.max(a, axis=axis, keepdims=keepdims)

    def backward(self, upstream, a, out):
        axis, kept = self.saved
        a = value(a)  # where the max is: a constant
        if axis is None:
            share = (a == np.max(a)) / np.count_nonzero(a == np.max(a))  # every tied position
        else:
            share = np.zeros(a.shape, dtype=a.dtype)  # 1 at the first argmax along the axis
            np.put_along_axis(share, np.expand_dims(np.argmax(a, axis=axis), axis), 1.0, axis)
        return (upstream.reshape(kept) * share,)


class Reshape(Function):
    name, local_rules = "reshape", ("1 (reshaped back)",)

    def forward(self, a, shape):
        return a.reshape(shape)

    def backward(self, upstream, a, out):
        return (upstream.reshape(a.shape),)


class Transpose(Function):
    name, local_rules = "transpose", ("1 (axes put back)",)

    def forward(self, a, axes=None):
        axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
        self.save_for_backward(axes)
        return a.transpose(axes)

    def backward(self, upstream, a, out):
        (axes,) = self.saved
        return (upstream.transpose(tuple(int(i) for i in np.argsort(axes))),)


class GetItem(Function):
    """a[index]: the gradient flows back to the picked entries (summed where picked twice)."""

    name, local_rules = "[]", ("1 at the picked entries, 0 elsewhere",)
    formula = "{0}[{index}]"

    def forward(self, a, index):
        self.save_for_backward(index)
        return a[index]

    def backward(self, upstream, a, out):
        (index,) = self.saved
        return (add_at(a.shape, index, upstream),)


class AddAt(Function):
    """zeros(shape) with ``values`` added at ``index`` (np.add.at: summed where an index
    repeats): GetItem's backward. Its own backward picks the entries again."""

    name, local_rules = "add_at", ("1 at the picked entries",)

    def forward(self, values, shape, index):
        self.save_for_backward(index)
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, index, values)
        return out

    def backward(self, upstream, values, out):
        (index,) = self.saved
        return (upstream[index],)


def add_at(shape: tuple[int, ...], index, values):
    """zeros(shape) with ``values`` added at ``index``: an array, or the op AddAt on a Tensor."""
    if is_array(values):
        out = np.zeros(shape, dtype=np.asarray(values).dtype)
        np.add.at(out, index, values)
        return out
    return values.apply(AddAt, values, shape=shape, index=index)  # Tensor.apply: values is a Tensor


def _softmax(z: Array, axis: int) -> Array:
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))  # shifted: exp never overflows
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(z: Array, axis: int) -> Array:
    shifted = z - np.max(z, axis=axis, keepdims=True)  # log Σ exp(z), shifted: never overflows
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax(z, axis: int):
    """log softmax(z) along ``axis``: an array, or the op LogSoftmax on a Tensor."""
    return _log_softmax(z, axis) if is_array(z) else z.log_softmax(axis)


class Softmax(Function):
    """p = exp(z) / Σ exp(z). Its Jacobian is diag(p) - p pᵀ, so the downstream gradient
    is p ⊙ (upstream - ⟨upstream, p⟩)."""

    name, local_rules = "softmax", ("diag(p) - p pᵀ",)

    def forward(self, z, axis=-1):
        self.save_for_backward(axis)
        return _softmax(z, axis)

    def backward(self, upstream, z, out):
        (axis,) = self.saved
        p = out
        return (p * (upstream - (upstream * p).sum(axis=axis, keepdims=True)),)


class LogSoftmax(Function):
    """log p = z - log Σ exp(z); downstream = upstream - p · Σ upstream."""

    name, local_rules = "log_softmax", ("I - 1 pᵀ",)

    def forward(self, z, axis=-1):
        self.save_for_backward(axis)
        return _log_softmax(z, axis)

    def backward(self, upstream, z, out):
        (axis,) = self.saved
        return (upstream - exp(out) * upstream.sum(axis=axis, keepdims=True),)


class CrossEntropy(Function):
    """Mean over the batch of -log softmax(z)[y], fused (as torch fuses it) so that it is
    stable for large logits. Its local gradient is the famous (p - onehot(y)) / N, and
    since the loss is a scalar the downstream gradient is that times the upstream."""

    name, local_rules = "cross_entropy", ("(softmax(z) - onehot(y)) / N",)

    def describe(self, args: list[str]) -> str:
        return f"cross_entropy({args[0]}, {np.asarray(self.params['targets']).tolist()})"

    def forward(self, z, targets):
        z2 = z.reshape(1, -1) if z.ndim == 1 else z  # (N, C)
        t = np.asarray(targets).reshape(-1)  # (N,)
        n, c = z2.shape
        if t.shape[0] != n or not np.issubdtype(t.dtype, np.integer):
            raise ValueError(f"cross_entropy needs {n} integer class labels, got {t.shape[0]}")
        if t.min() < 0 or t.max() >= c:
            raise ValueError(f"class labels must lie in 0..{c - 1}")
        onehot = np.zeros_like(z2)
        onehot[np.arange(n), t] = 1.0
        self.save_for_backward(onehot.reshape(z.shape), n)
        logp = _log_softmax(z2, axis=1)
        return np.asarray(-np.mean(logp[np.arange(n), t]), dtype=z.dtype)

    def local(self, z, out):
        onehot, n = self.saved
        p = exp(log_softmax(z, axis=-1))  # softmax(z), row by row
        return ((p - onehot) / n,)


class BinaryCrossEntropyWithLogits(Function):
    """Mean over all entries of the logistic loss of a logit z against a label y in [0, 1]:
    -[y log σ(z) + (1 - y) log(1 - σ(z))] = log(1 + eᶻ) - y z, fused (as torch fuses it) so
    that σ(z) is never formed only to be logged: stable for any |z|. Its local gradient is
    (σ(z) - y) / N."""

    name, local_rules = "binary_cross_entropy_with_logits", ("(σ(z) - y) / N",)

    def forward(self, z, target):
        y = np.asarray(target, dtype=z.dtype)
        if y.shape != z.shape:
            raise ValueError(f"binary_cross_entropy_with_logits: targets of shape {y.shape} for logits {z.shape}")
        self.save_for_backward(y)
        losses = np.logaddexp(0.0, z) - y * z  # log(1 + eᶻ) = logaddexp(0, z)
        return losses.sum() / losses.size  # the mean (np.mean's Python wrapper cost as much as the loss)

    def local(self, z, out):
        (y,) = self.saved
        return ((sigmoid(z) - y) / y.size,)
