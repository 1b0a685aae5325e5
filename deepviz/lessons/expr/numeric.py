"""Numerical differentiation: central differences, the check every autodiff answer gets.

    ∂f/∂x ≈ (f(x + h) - f(x - h)) / 2h

The error of the formula shrinks as h² (truncation) while rounding error grows as ε/h,
so h near 1e-5 is best in float64; try 1e-1 or 1e-12 on the page to watch both errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from deepviz.engine.tensor import Tensor, no_grad
from deepviz.lessons.expr.evaluate import compute
from deepviz.lessons.expr.parser import Expression


def central_difference(
    expression: Expression,
    values: dict[str, np.ndarray],
    names: Iterable[str],
    h: float = 1e-5,
    between: Callable[[], None] | None = None,
) -> dict[str, np.ndarray]:
    """∂f/∂v for each name in ``names``, one element at a time (2 evaluations each).
    ``between`` is called before each element (a server's deadline check: it raises to stop)."""
    env = {name: Tensor(np.array(v, dtype=np.float64)) for name, v in values.items()}
    gradients = {}
    with no_grad(), np.errstate(all="ignore"):
        for name in names:
            x = env[name].data
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                if between is not None:
                    between()
                original = x[i]
                x[i] = original + h
                above = float(compute(expression, env).data.sum())
                x[i] = original - h
                below = float(compute(expression, env).data.sum())
                x[i] = original
                grad[i] = (above - below) / (2 * h)
            gradients[name] = grad
    return gradients


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a|, |b|), elementwise, 0 where both are 0: the usual gradient-check
    measure (below 1e-7 is excellent in float64; above 1e-2 something is wrong). NaN when an
    element is not finite on either side (unless both are the same infinity): a NaN compares
    false with everything, so without this it would pass for a perfect match."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not np.all((np.isfinite(a) & np.isfinite(b)) | (a == b)):
        return float("nan")
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        error = np.where(scale > 0, np.abs(a - b) / np.where(scale > 0, scale, 1), 0.0)
    return float(np.max(error)) if error.size else 0.0
