"""Backpropagation through time (chapter 6): a recurrent network of one unit,
h_t = tanh(w·h_{t−1} + u·x_t), unrolled over T steps into named steps of an expression, and
the size of ∂L/∂h_t at every step of the unrolled graph.

Going back one step multiplies the gradient by ∂h_t/∂h_{t−1} = w·tanh'(a_t) = w·(1 − h_t²):
a factor below 1 in size again and again makes ∂L/∂h_t vanish geometrically, one above 1
makes it explode."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepviz.lessons.expr.evaluate import Evaluation

# The inputs x_1, x_2, … of the vanishing case (repeated after the 12th).
_INPUTS = [0.5, -1.0, 0.8, 0.2, -0.6, 1.0, -0.3, 0.7, -0.9, 0.4, 0.1, -0.5]

# Each case's weights and starting state. Vanishing: |w| < 1 and tanh' ≤ 1, so every step back
# multiplies the gradient by less than 0.5. Exploding: w = 3 with inputs 0 keeps h_t at 0, where
# tanh' = 1, so every step back multiplies it by exactly 3 (inputs that pushed h_t towards ±1
# would flatten tanh and make the gradient vanish again: tanh saturates).
REGIMES = {
    "vanishing": {"w": 0.5, "u": 1.0, "h0": 0.0, "inputs": _INPUTS},
    "exploding": {"w": 3.0, "u": 1.0, "h0": 0.0, "inputs": [0.0]},
}


def unrolled(steps: int) -> str:
    """The expression of the network unrolled over ``steps`` time steps, loss L = h_T:
    ``a1 = w * h0 + u * x1; h1 = tanh(a1); …; L = hT``."""
    if steps < 1:
        raise ValueError(f"at least one time step, not {steps}")
    lines = [f"a{t} = w * h{t - 1} + u * x{t}; h{t} = tanh(a{t})" for t in range(1, steps + 1)]
    return "; ".join([*lines, f"L = h{steps}"])


def starting_values(steps: int, regime: str = "vanishing") -> str:
    """The values of w, u, h0 and x1..xT for ``regime``, as the page's values field reads
    them: ``w = 0.5, u = 1, h0 = 0, x1 = 0.5, …``."""
    case = REGIMES[regime]
    inputs = case["inputs"]
    named = [("w", case["w"]), ("u", case["u"]), ("h0", case["h0"])]
    named += [(f"x{t}", inputs[(t - 1) % len(inputs)]) for t in range(1, steps + 1)]
    return ", ".join(f"{name} = {value:g}" for name, value in named)


@dataclass
class TimeStep:
    t: int
    node: int  # the id of h_t's node in the trace
    label: str  # "h3"
    norm: float | None  # ‖∂L/∂h_t‖ (|∂L/∂h_t| for a number); None before the backward pass


def through_time(run: Evaluation) -> list[TimeStep]:
    """‖∂L/∂h_t‖ for each node labelled h0, h1, h2, … in a row (none if there is no h1): the
    gradient's size at each time step of an unrolled recurrent network."""
    by_label = {node.label: node for node in run.trace.nodes}
    if "h1" not in by_label:
        return []
    found = []
    for t in range(len(run.trace.nodes) + 1):
        node = by_label.get(f"h{t}")
        if node is None:
            if t == 0:
                continue
            break
        norm = None if node.grad is None else float(np.linalg.norm(np.asarray(node.grad, dtype=np.float64)))
        found.append(TimeStep(t, node.id, node.label, norm))
    return found
