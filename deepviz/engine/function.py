"""The base of every differentiable operation.

An operation is a small class whose ``forward`` computes on numpy arrays and whose
``backward`` turns the gradient arriving from the output (the *upstream* gradient) into a
gradient for each input (the *downstream* gradients). ``backward`` sits right under
``forward`` in every op, so the chain rule for one op reads in one place.

An op whose local gradient ∂out/∂input is one number per input value (every elementwise
op, and a loss whose output is one number) only says that ``local`` gradient, evaluated at
this point; the backward pass (``engine.backprop``) applies the chain rule once for all of
them:

    downstream = local × upstream

Other ops (matmul, softmax, convolution, …) write their ``backward`` instead. No op writes
both: one mechanism per op.

A rule is written once, for arrays and for Tensors. ``local`` and ``backward`` are given
the point they are evaluated at, the op's inputs and its output ``out``, as arguments:

    def local(self, a, b, out):          # Mul: ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
        return b, a

Usually these are numpy arrays, and so is the upstream gradient: the rule computes with
numpy, fast. To differentiate a gradient again (``autograd.grad(..., create_graph=True)``),
the backward pass hands the same rule the input and output *Tensors* and a Tensor upstream
gradient: the very same lines then build graph nodes, and the gradient they compute can be
differentiated in turn. So a rule only uses what arrays and Tensors share (``+ - * / ** @``,
``.sum``, ``.reshape``, ``.T``, …) and the few functions below that take either. What does
not depend smoothly on the inputs (a shape, an axis, the mask of a ReLU, the position of a
max) is a constant of the rule: ``save_for_backward`` keeps it, as an array, in ``forward``.

Ops never import ``Tensor``: ``Tensor`` applies them (see ``engine.tensor``).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


class Function:
    """One node's operation: ``forward`` on arrays, ``backward`` from upstream to downstream."""

    name: str = "op"
    # How each input's local gradient reads, for the trace (``a`` and ``b`` name the inputs).
    local_rules: tuple[str, ...] = ()
    # How the op reads, for the trace: {0}, {1} stand for its inputs, {name} for a parameter.
    # None: name(inputs…).
    formula: str | None = None
    # Whether ``backward`` also works on Tensors (see above), so that it can be differentiated
    # again. The convolution and pooling ops compute theirs from arrays they saved (im2col's
    # columns, the padded input): they are first order only.
    twice_differentiable: bool = True

    def __init__(self, needs_grad: tuple[bool, ...], params: dict | None = None):
        self.needs_grad = needs_grad  # which inputs want a gradient
        self.saved: tuple | None = ()
        self.params: dict = {} if params is None else params  # its settings (an axis, an index…)

    def describe(self, args: list[str]) -> str:
        """How this node is computed from its inputs' labels: "x + y", "exp(q)", "p[1]"."""
        if self.formula is None:
            return f"{self.name}({', '.join(args)})"
        return self.formula.format(*args, **self.params)

    def save_for_backward(self, *values) -> None:
        """Keep the rule's constants (shapes, axes, masks); forward is never run again."""
        self.saved = values

    def release(self) -> None:
        """Drop the saved values once backward has used them (see ``Tensor.backward``)."""
        self.saved = None

    def forward(self, *inputs: Array) -> Array:
        raise NotImplementedError

    def backward(self, upstream, *inputs_and_out):
        """Downstream gradients from upstream, for ops whose ``local`` gives None: called as
        ``backward(upstream, *inputs, out)``. (For the others the backward pass applies the
        chain rule itself, local × upstream: see ``engine.backprop``.)"""
        raise NotImplementedError(f"{type(self).__name__} gives neither local() nor backward()")

    def local(self, *inputs_and_out):
        """Local gradients ∂out/∂input at this point (``local(*inputs, out)``), one value per
        input value (for elementwise ops, and for losses); ``None`` for ops whose Jacobian is
        not that simple."""
        return None


class Elementwise(Function):
    """An op applied value by value: its Jacobian is diagonal, so the local gradient is an
    array the shape of the output and the chain rule is one multiplication per input."""


# ----------------------------------------------------------------------------- for rules
# The functions a rule calls that numpy arrays do not have as methods: on an array, numpy's;
# on a Tensor, its method (an op, recorded in the graph).


def is_array(x) -> bool:
    """Whether ``x`` is plain numbers (an array, a numpy or Python scalar), not a Tensor."""
    return isinstance(x, np.ndarray | np.generic | float | int)


def value(x) -> Array:
    """The numbers of ``x``, never recorded: for a mask, a sign or a position, whose
    derivative is zero wherever it is defined."""
    return x if is_array(x) else x.data


def exp(x):
    """eˣ, of an array or of a Tensor."""
    return np.exp(x) if is_array(x) else x.exp()


def log(x):
    """ln x, of an array or of a Tensor."""
    return np.log(x) if is_array(x) else x.log()


def sin(x):
    """sin x, of an array or of a Tensor."""
    return np.sin(x) if is_array(x) else x.sin()


def cos(x):
    """cos x, of an array or of a Tensor."""
    return np.cos(x) if is_array(x) else x.cos()


def sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ), computed as ½(1 + tanh(x/2)): the same function, with no
    overflow for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * x)) if is_array(x) else x.sigmoid()


def unbroadcast(grad, shape: tuple[int, ...]):
    """Sum ``grad`` back down to ``shape``: the inverse of numpy broadcasting. An input
    that was stretched along an axis was used once per position, so its gradient is the
    sum over that axis."""
    if grad.shape == shape:
        return grad
    if grad.ndim > len(shape):
        grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad
