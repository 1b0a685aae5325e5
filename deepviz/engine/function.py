"""The base of every differentiable operation.

An operation is a small class whose ``forward`` computes on numpy arrays and whose
``backward`` turns the gradient arriving from the output (the *upstream* gradient) into a
gradient for each input (the *downstream* gradients). ``backward`` sits right under
``forward`` in every op, so the chain rule for one op reads in one place.

An op whose local gradient ∂out/∂input is one number per input value (every elementwise
op, and a loss whose output is one number) only says that ``local`` gradient, evaluated at
this point; ``Function.backward`` applies the chain rule once for all of them:

    downstream = local × upstream

Other ops (matmul, softmax, convolution, …) write their ``backward`` instead. No op writes
both: one mechanism per op.

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

    def __init__(self, needs_grad: tuple[bool, ...]):
        self.needs_grad = needs_grad  # which inputs want a gradient
        self.saved: tuple | None = ()
        self.params: dict = {}

    def describe(self, args: list[str]) -> str:
        """How this node is computed from its inputs' labels: "x + y", "exp(q)", "p[1]"."""
        if self.formula is None:
            return f"{self.name}({', '.join(args)})"
        return self.formula.format(*args, **self.params)

    def save_for_backward(self, *values) -> None:
        """Keep exactly what ``backward`` needs; forward is never run again."""
        self.saved = values

    def release(self) -> None:
        """Drop the saved values once backward has used them (see ``Tensor.backward``)."""
        self.saved = None

    def forward(self, *inputs: Array) -> Array:
        raise NotImplementedError

    def backward(self, upstream: Array) -> tuple[Array | None, ...]:
        """Downstream gradients: local × upstream, for ops that give their ``local`` gradient."""
        locals_ = self.local()
        if locals_ is None:
            raise NotImplementedError(f"{type(self).__name__} gives neither local() nor backward()")
        return tuple(None if local is None else local * upstream for local in locals_)

    def local(self) -> tuple[Array | None, ...] | None:
        """Local gradients ∂out/∂input as arrays, one value per input value (for elementwise
        ops, and for losses); ``None`` for ops whose Jacobian is not that simple."""
        return None


class Elementwise(Function):
    """An op applied value by value: its Jacobian is diagonal, so the local gradient is an
    array the shape of the output and the chain rule is one multiplication per input."""
