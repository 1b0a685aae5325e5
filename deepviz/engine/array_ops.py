"""The primitives whose Jacobian is not diagonal: a sum spreads the gradient, a max routes
it, a matmul transposes, a reshape reshapes it back, softmax mixes it. Each gives its
``backward`` directly, right under its ``forward``."""

from __future__ import annotations

import numpy as np

from deepviz.engine.function import Array, Function


class MatMul(Function):
    """a @ b for vectors and matrices. A vector is a row on the left, a column on the right."""

    name, local_rules = "@", ("upstream @ bᵀ", "aᵀ @ upstream")
    formula = "{0} @ {1}"

    def forward(self, a, b):
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise ValueError(f"@ takes vectors and matrices, not shapes {a.shape} and {b.shape}")
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, upstream):
        a, b = self.saved
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # (n, k)
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # (k, m)
        g2 = upstream.reshape(a2.shape[0], b2.shape[1])  # (n, m)
        need_a, need_b = self.needs_grad
        return (
            (g2 @ b2.T).reshape(a.shape) if need_a else None,
            (a2.T @ g2).reshape(b.shape) if need_b else None,
        )


class Sum(Function):
    """Sum over ``axis`` (all axes if None): every input gets the upstream gradient."""

    name, local_rules = "sum", ("1",)

    def forward(self, a, axis=None, keepdims=False):
        self.save_for_backward(a.shape, axis, keepdims)
        return np.sum(a, axis=axis, keepdims=keepdims)

    def backward(self, upstream):
        shape, axis, keepdims = self.saved
        if axis is not None and not keepdims:
            upstream = np.expand_dims(upstream, axis)
        return (np.broadcast_to(upstream, shape).copy(),)


class Max(Function):
    """Max over ``axis``: the gradient goes to the position of the maximum, the others get
    zero. On a tie, as in torch: the max of all elements shares it evenly among the tied
    positions (torch.max(x), torch.amax); the max along an axis gives it to the first one
    (torch.max(x, dim), which returns that index)."""

    name, local_rules = "max", ("[a is the max] (shared on a tie)",)

    def forward(self, a, axis=None, keepdims=False):
        if axis is None:
            index = a == np.max(a)  # every tied position
            out = np.max(a, keepdims=keepdims)
        else:
            index = np.expand_dims(np.argmax(a, axis=axis), axis)
            out = np.take_along_axis(a, index, axis)
            out = out if keepdims else np.squeeze(out, axis)
        self.save_for_backward(a.shape, index, axis)
        return out

    def backward(self, upstream):
        shape, index, axis = self.saved
        downstream = np.zeros(shape, dtype=upstream.dtype)
        if axis is None:
            downstream[index] = upstream.reshape(()) / np.count_nonzero(index)
        else:
            np.put_along_axis(downstream, index, upstream.reshape(index.shape), axis)
        return (downstream,)


class Reshape(Function):
    name, local_rules = "reshape", ("1 (reshaped back)",)

    def forward(self, a, shape):
        self.save_for_backward(a.shape)
        return a.reshape(shape)

    def backward(self, upstream):
        (shape,) = self.saved
        return (upstream.reshape(shape),)


class Transpose(Function):
    name, local_rules = "transpose", ("1 (axes put back)",)

    def forward(self, a, axes=None):
        axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
        self.save_for_backward(axes)
        return a.transpose(axes)

    def backward(self, upstream):
        (axes,) = self.saved
        return (upstream.transpose(np.argsort(axes)),)


class GetItem(Function):
    """a[index]: the gradient flows back to the picked entries (summed where picked twice)."""

    name, local_rules = "[]", ("1 at the picked entries, 0 elsewhere",)
    formula = "{0}[{index}]"

    def forward(self, a, index):
        self.save_for_backward(a.shape, a.dtype, index)
        return a[index]

    def backward(self, upstream):
        shape, dtype, index = self.saved
        downstream = np.zeros(shape, dtype=dtype)
        np.add.at(downstream, index, upstream)
        return (downstream,)


def _softmax(z: Array, axis: int) -> Array:
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))  # shifted: exp never overflows
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(z: Array, axis: int) -> Array:
    shifted = z - np.max(z, axis=axis, keepdims=True)  # log Σ exp(z), shifted: never overflows
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class Softmax(Function):
    """p = exp(z) / Σ exp(z). Its Jacobian is diag(p) - p pᵀ, so the downstream gradient
    is p ⊙ (upstream - ⟨upstream, p⟩)."""

    name, local_rules = "softmax", ("diag(p) - p pᵀ",)

    def forward(self, z, axis=-1):
        p = _softmax(z, axis)
        self.save_for_backward(p, axis)
        return p

    def backward(self, upstream):
        p, axis = self.saved
        return (p * (upstream - np.sum(upstream * p, axis=axis, keepdims=True)),)


class LogSoftmax(Function):
    """log p = z - log Σ exp(z); downstream = upstream - p · Σ upstream."""

    name, local_rules = "log_softmax", ("I - 1 pᵀ",)

    def forward(self, z, axis=-1):
        out = _log_softmax(z, axis)
        self.save_for_backward(out, axis)
        return out

    def backward(self, upstream):
        out, axis = self.saved
        return (upstream - np.exp(out) * np.sum(upstream, axis=axis, keepdims=True),)


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
        logp = _log_softmax(z2, axis=1)
        p = np.exp(logp)
        onehot = np.zeros_like(p)
        onehot[np.arange(n), t] = 1.0
        self.save_for_backward(((p - onehot) / n).reshape(z.shape))
        return np.asarray(-np.mean(logp[np.arange(n), t]), dtype=z.dtype)

    def local(self):
        (local,) = self.saved
        return (local,)
