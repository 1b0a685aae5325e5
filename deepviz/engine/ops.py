"""The elementwise primitives, each with its forward and its local gradient side by side.

Each gives its local gradient ∂out/∂input (``local``), evaluated at this point (its inputs
and its output ``out``, arrays or Tensors: see ``engine.function``); the chain rule is
applied once for all of them (``engine.backprop``). The ops whose Jacobian is
not diagonal live in ``engine.array_ops``; composite operations (``mean``, ``mse_loss``, …)
are one-liners on primitives in ``engine.tensor`` and ``engine.functional``.

``sub``, ``div`` and ``neg`` could be written with ``add``, ``mul`` and ``pow`` (micrograd
does): they are primitives here so that the backprop page shows the operator the student
typed, with its own local gradient, and so that ``a / b`` rounds like torch's.
"""

from __future__ import annotations

import numpy as np

from deepviz.engine.function import Elementwise, cos, log, sigmoid, sin, value

# --------------------------------------------------------------------------- binary


class Add(Elementwise):
    name, local_rules = "+", ("1", "1")
    formula = "{0} + {1}"

    def forward(self, a, b):
        return a + b

    def local(self, a, b, out):
        return 1.0, 1.0


class Sub(Elementwise):
    name, local_rules = "-", ("1", "-1")
    formula = "{0} - {1}"

    def forward(self, a, b):
        return a - b

    def local(self, a, b, out):
        return 1.0, -1.0


class Mul(Elementwise):
    name, local_rules = "*", ("b", "a")
    formula = "{0} * {1}"

    def forward(self, a, b):
        return a * b

    def local(self, a, b, out):
        return b, a


class Div(Elementwise):
    name, local_rules = "/", ("1 / b", "-a / b²")
    formula = "{0} / {1}"

    def forward(self, a, b):
        return a / b

    def local(self, a, b, out):
        return 1.0 / b, -a / (b * b)


class Pow(Elementwise):
    name, local_rules = "^", ("b · a^(b-1)", "a^b · ln a")
    formula = "{0} ^ {1}"

    def forward(self, a, b):
        return a**b

    def local(self, a, b, out):
        need_a, need_b = self.needs_grad
        # The exponent's gradient needs ln a: only computed when the exponent wants one.
        return (b * a ** (b - 1) if need_a else None, out * log(a) if need_b else None)


class Maximum(Elementwise):
    """max(a, b), value by value. On a tie each side gets half the gradient, as in torch."""

    name, local_rules = "maximum", ("[a > b] (½ on a tie)", "[b > a] (½ on a tie)")
    formula = "max({0}, {1})"

    def forward(self, a, b):
        return np.maximum(a, b)

    def local(self, a, b, out):
        a, b = value(a), value(b)  # which side wins: a constant, piece by piece
        tie = 0.5 * (a == b)
        return (a > b) + tie, (b > a) + tie


class Minimum(Elementwise):
    name, local_rules = "minimum", ("[a < b] (½ on a tie)", "[b < a] (½ on a tie)")
    formula = "min({0}, {1})"

    def forward(self, a, b):
        return np.minimum(a, b)

    def local(self, a, b, out):
        a, b = value(a), value(b)
        tie = 0.5 * (a == b)
        return (a < b) + tie, (b < a) + tie


# --------------------------------------------------------------------------- unary


class Neg(Elementwise):
    name, local_rules = "neg", ("-1",)
    formula = "-{0}"

    def forward(self, a):
        return -a

    def local(self, a, out):
        return (-1.0,)


class Exp(Elementwise):
    name, local_rules = "exp", ("exp(a)",)

    def forward(self, a):
        return np.exp(a)

    def local(self, a, out):
        return (out,)


class Log(Elementwise):
    name, local_rules = "log", ("1 / a",)

    def forward(self, a):
        return np.log(a)

    def local(self, a, out):
        return (1.0 / a,)


class Tanh(Elementwise):
    name, local_rules = "tanh", ("1 - tanh²(a)",)

    def forward(self, a):
        return np.tanh(a)

    def local(self, a, out):
        return (1.0 - out * out,)


class Sigmoid(Elementwise):
    name, local_rules = "sigmoid", ("σ(a) · (1 - σ(a))",)

    def forward(self, a):
        return sigmoid(a)  # computed as ½(1 + tanh(a/2)): no overflow for large |a|

    def local(self, a, out):
        return (out * (1.0 - out),)


class ReLU(Elementwise):
    name, local_rules = "relu", ("[a > 0]",)

    def forward(self, a):
        return np.maximum(a, 0)

    def local(self, a, out):
        return (value(out) > 0,)  # [a > 0], read off the output: a constant


class Sin(Elementwise):
    name, local_rules = "sin", ("cos(a)",)

    def forward(self, a):
        return np.sin(a)

    def local(self, a, out):
        return (cos(a),)


class Cos(Elementwise):
    name, local_rules = "cos", ("-sin(a)",)

    def forward(self, a):
        return np.cos(a)

    def local(self, a, out):
        return (-sin(a),)


class Sqrt(Elementwise):
    name, local_rules = "sqrt", ("1 / (2 √a)",)

    def forward(self, a):
        return np.sqrt(a)

    def local(self, a, out):
        return (0.5 / out,)


class Abs(Elementwise):
    name, local_rules = "abs", ("sign(a)",)

    def forward(self, a):
        return np.abs(a)

    def local(self, a, out):
        return (np.sign(value(a)),)


class Identity(Elementwise):
    """A named copy (``q = x`` on the backprop page): the value and the gradient pass through."""

    name, local_rules = "=", ("1",)
    formula = "{0}"

    def forward(self, a):
        return a.copy()

    def local(self, a, out):
        return (1.0,)
