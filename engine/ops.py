"""The primitive operations, each with its forward and its gradient side by side.

Elementwise ops give their local gradient ∂out/∂input (``local``); the others give their
``backward`` directly, because their Jacobian is not diagonal (a sum spreads, a max
routes, a matmul transposes). Composite operations (``mean``, ``mse_loss``, …) are
one-liners on these in ``engine.tensor`` and ``engine.functional``.

``sub``, ``div`` and ``neg`` could be written with ``add``, ``mul`` and ``pow`` (micrograd
does): they are primitives here so that the backprop page shows the operator the student
typed, with its own local gradient, and so that ``a / b`` rounds like torch's.
"""

from __future__ import annotations

import numpy as np

from engine.function import Array, Elementwise, Function

# --------------------------------------------------------------------------- binary


class Add(Elementwise):
    name, local_rules = "+", ("1", "1")

    def forward(self, a, b):
        return a + b

    def local(self):
        return 1.0, 1.0


class Sub(Elementwise):
    name, local_rules = "-", ("1", "-1")

    def forward(self, a, b):
        return a - b

    def local(self):
        return 1.0, -1.0


class Mul(Elementwise):
    name, local_rules = "*", ("b", "a")

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def local(self):
        a, b = self.saved
        return b, a


class Div(Elementwise):
    name, local_rules = "/", ("1 / b", "-a / b²")

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def local(self):
        a, b = self.saved
        return 1.0 / b, -a / (b * b)


class Pow(Elementwise):
    name, local_rules = "^", ("b · a^(b-1)", "a^b · ln a")

    def forward(self, a, b):
        out = a**b
        self.save_for_backward(a, b, out)
        return out

    def local(self):
        a, b, out = self.saved
        need_a, need_b = self.needs_grad
        # The exponent's gradient needs ln a: only computed when the exponent wants one.
        return (b * a ** (b - 1) if need_a else None, out * np.log(a) if need_b else None)


class Maximum(Elementwise):
    """max(a, b), value by value. On a tie each side gets half the gradient, as in torch."""

    name, local_rules = "max", ("[a > b] (½ on a tie)", "[b > a] (½ on a tie)")

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return np.maximum(a, b)

    def local(self):
        a, b = self.saved
        tie = 0.5 * (a == b)
        return (a > b) + tie, (b > a) + tie


class Minimum(Elementwise):
    name, local_rules = "min", ("[a < b] (½ on a tie)", "[b < a] (½ on a tie)")

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return np.minimum(a, b)

    def local(self):
        a, b = self.saved
        tie = 0.5 * (a == b)
        return (a < b) + tie, (b < a) + tie


# --------------------------------------------------------------------------- unary


class Neg(Elementwise):
    name, local_rules = "neg", ("-1",)

    def forward(self, a):
        return -a

    def local(self):
        return (-1.0,)


class Exp(Elementwise):
    name, local_rules = "exp", ("exp(a)",)

    def forward(self, a):
        out = np.exp(a)
        self.save_for_backward(out)
        return out

    def local(self):
        (out,) = self.saved
        return (out,)


class Log(Elementwise):
    name, local_rules = "log", ("1 / a",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.log(a)

    def local(self):
        (a,) = self.saved
        return (1.0 / a,)


class Tanh(Elementwise):
    name, local_rules = "tanh", ("1 - tanh²(a)",)

    def forward(self, a):
        out = np.tanh(a)
        self.save_for_backward(out)
        return out

    def local(self):
        (out,) = self.saved
        return (1.0 - out * out,)


class Sigmoid(Elementwise):
    name, local_rules = "sigmoid", ("σ(a) · (1 - σ(a))",)

    def forward(self, a):
        # σ(a) = ½(1 + tanh(a/2)): the same function, with no overflow for large |a|.
        out = 0.5 * (1.0 + np.tanh(0.5 * a))
        self.save_for_backward(out)
        return out

    def local(self):
        (out,) = self.saved
        return (out * (1.0 - out),)


class ReLU(Elementwise):
    name, local_rules = "relu", ("[a > 0]",)

    def forward(self, a):
        mask = a > 0
        self.save_for_backward(mask)
        return a * mask

    def local(self):
        (mask,) = self.saved
        return (mask,)


class Sin(Elementwise):
    name, local_rules = "sin", ("cos(a)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.sin(a)

    def local(self):
        (a,) = self.saved
        return (np.cos(a),)


class Cos(Elementwise):
    name, local_rules = "cos", ("-sin(a)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.cos(a)

    def local(self):
        (a,) = self.saved
        return (-np.sin(a),)


class Sqrt(Elementwise):
    name, local_rules = "sqrt", ("1 / (2 √a)",)

    def forward(self, a):
        out = np.sqrt(a)
        self.save_for_backward(out)
        return out

    def local(self):
        (out,) = self.saved
        return (0.5 / out,)


class Abs(Elementwise):
    name, local_rules = "abs", ("sign(a)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.abs(a)

    def local(self):
        (a,) = self.saved
        return (np.sign(a),)


# --------------------------------------------------------------------------- not elementwise


class MatMul(Function):
    """a @ b for vectors and matrices. A vector is a row on the left, a column on the right."""

    name, local_rules = "@", ("upstream @ bᵀ", "aᵀ @ upstream")

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
    """Max over ``axis``: the whole gradient goes to the position of the maximum (the
    first one, on a tie), the others get zero."""

    name, local_rules = "max", ("[a is the max]",)

    def forward(self, a, axis=None, keepdims=False):
        if axis is None:
            index = np.unravel_index(np.argmax(a), a.shape)
            out = a[index]
            out = np.reshape(out, (1,) * a.ndim) if keepdims else np.asarray(out)
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
            downstream[index] = upstream.reshape(())
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
        shifted = z - np.max(z, axis=axis, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
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

    def forward(self, z, targets):
        z2 = z.reshape(1, -1) if z.ndim == 1 else z  # (N, C)
        t = np.asarray(targets).reshape(-1)  # (N,)
        n, c = z2.shape
        if t.shape[0] != n or not np.issubdtype(t.dtype, np.integer):
            raise ValueError(f"cross_entropy needs {n} integer class labels, got {t.shape[0]}")
        if t.min() < 0 or t.max() >= c:
            raise ValueError(f"class labels must lie in 0..{c - 1}")
        p = _softmax(z2, axis=1)
        shifted = z2 - np.max(z2, axis=1, keepdims=True)
        logp = shifted[np.arange(n), t] - np.log(np.sum(np.exp(shifted), axis=1))
        onehot = np.zeros_like(p)
        onehot[np.arange(n), t] = 1.0
        self.save_for_backward(((p - onehot) / n).reshape(z.shape))
        return np.asarray(-np.mean(logp), dtype=z.dtype)

    def local(self):
        (local,) = self.saved
        return (local,)

    def backward(self, upstream):
        (local,) = self.saved
        return (local * upstream,)


class Identity(Elementwise):
    """A named copy (``q = x`` on the backprop page): the value and the gradient pass through."""

    name, local_rules = "=", ("1",)

    def forward(self, a):
        return a.copy()

    def local(self):
        return (1.0,)
