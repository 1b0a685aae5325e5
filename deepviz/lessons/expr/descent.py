"""Gradient descent on one parameter (figure 2.1 of the notes), with the engine's gradients:

for step in range(steps):
    compute ∇θ L
    θ = θ - γ ∇θ L
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deepviz.engine.tensor import Tensor, no_grad
from deepviz.lessons.expr.evaluate import compute, evaluate
from deepviz.lessons.expr.parser import ExprError, Expression, is_elementwise, postorder


@dataclass
class DescentStep:
    step: int
    theta: float
    loss: float
    gradient: float


def gradient_descent(
    expression: Expression,
    parameter: str,
    start: float,
    learning_rate: float,
    steps: int,
    between: Callable[[], None] | None = None,
) -> list[DescentStep]:
    """Run ``steps`` updates θ ← θ - γ ∂L/∂θ from ``start``; one record per visited θ.
    ``between`` is called before each step (a server passes its deadline check: it raises
    to stop)."""
    if expression.variables != [parameter]:
        raise ExprError(f"the loss must depend on the one parameter {parameter} only")
    history, theta = [], float(start)
    for step in range(steps + 1):
        if between is not None:
            between()
        run = evaluate(expression, {parameter: theta})
        grad = run.gradients[parameter]
        gradient = float(grad) if grad is not None else 0.0
        history.append(DescentStep(step, theta, float(run.value), gradient))
        if not np.isfinite(theta - learning_rate * gradient):
            break  # diverged: the learning rate is too large
        theta = theta - learning_rate * gradient
    return history


CURVE_POINTS = 201


def work(expression: Expression, steps: int) -> int:
    """Node evaluations that ``steps`` steps and the curve cost: what a server bounds."""
    curve_evaluations = 1 if is_elementwise(expression.root) else CURVE_POINTS
    return len(postorder(expression.root)) * (steps + 1 + curve_evaluations)


def curve(expression: Expression, parameter: str, low: float, high: float, points: int = CURVE_POINTS):
    """L(θ) on an even grid: in one vectorised evaluation when every op is elementwise, else
    point by point (sum(w^2) summed over the grid would be one number, not a curve)."""
    thetas = np.linspace(low, high, points)
    with no_grad():
        if is_elementwise(expression.root):
            losses = compute(expression, {parameter: Tensor(thetas)}).data
            return thetas, np.broadcast_to(losses, thetas.shape)
        losses = [compute(expression, {parameter: Tensor(t)}).data.sum() for t in thetas]
    return thetas, np.array(losses, dtype=np.float64)


def curve_around(expression: Expression, parameter: str, thetas: list[float], points: int = CURVE_POINTS):
    """L(θ) over a range that holds every visited θ, with a margin on both sides."""
    finite = [t for t in thetas if np.isfinite(t)] or [0.0]
    low, high = min(finite), max(finite)
    margin = 0.25 * (high - low) + 1.0
    return curve(expression, parameter, low - margin, high + margin, points)
