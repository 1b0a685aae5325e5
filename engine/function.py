"""The base of every differentiable operation.

An operation is a small class whose ``forward`` computes on numpy arrays and whose
``backward`` turns the gradient arriving from the output (the *upstream* gradient) into a
gradient for each input (the *downstream* gradients). ``backward`` sits right under
``forward`` in every op, so the chain rule for one op reads in one place.

Elementwise ops only say their *local* gradient, ∂out/∂input, evaluated at this point;
``Elementwise.backward`` applies the chain rule once for all of them:

    downstream = local × upstream

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

    def __init__(self, needs_grad: tuple[bool, ...]):
        self.needs_grad = needs_grad  # which inputs want a gradient
        self.saved: tuple | None = ()
        self.params: dict = {}

    def save_for_backward(self, *values) -> None:
        """Keep exactly what ``backward`` needs; forward is never run again."""
        self.saved = values

    def release(self) -> None:
        """Drop the saved values once backward has used them (see ``Tensor.backward``)."""
        self.saved = None

    def forward(self, *inputs: Array) -> Array:
        raise NotImplementedError

    def backward(self, upstream: Array) -> tuple[Array | None, ...]:
        raise NotImplementedError

    def local(self) -> tuple[Array | None, ...] | None:
        """Local gradients ∂out/∂input as arrays, for elementwise ops; ``None`` for others."""
        return None


class Elementwise(Function):
    """An op applied value by value: its Jacobian is diagonal, so the local gradient is an
    array the shape of the output and the chain rule is one multiplication per input."""

    def backward(self, upstream: Array) -> tuple[Array | None, ...]:
        return tuple(None if local is None else local * upstream for local in self.local())
