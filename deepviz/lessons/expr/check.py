"""Section 2.3 side by side: for each input, automatic, numerical and symbolic derivatives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from deepviz.lessons.expr.evaluate import Evaluation
from deepviz.lessons.expr.numeric import central_difference, relative_error
from deepviz.lessons.expr.parser import postorder
from deepviz.lessons.expr.symbolic import Derivative, NotSymbolic, symbolic_derivatives, tree_size


@dataclass
class VariableCheck:
    name: str
    autodiff: np.ndarray | None
    numeric: np.ndarray | None = None
    relative_error: float | None = None
    symbolic: Derivative | None = None


@dataclass
class GradientCheck:
    h: float
    variables: list[VariableCheck]
    function_size: int  # nodes in the function's tree, to compare with its derivatives'
    notes: list[str] = field(default_factory=list)


def gradient_check(
    run: Evaluation,
    h: float = 1e-5,
    max_numeric_work: int = 200_000,
    max_print: int = 400,
    between: Callable[[], None] | None = None,
) -> GradientCheck:
    """Compare autodiff's gradients with central differences (step ``h``) and, for scalar
    expressions, with symbolic derivatives. Work is bounded: numerical differentiation
    costs two evaluations per input element; ``between`` is called between them (a server's
    deadline check)."""
    expression = run.expression
    names = [n for n, g in run.gradients.items() if g is not None]
    checks = {n: VariableCheck(n, run.gradients[n]) for n in run.variables}
    notes: list[str] = []
    values = {n: t.data for n, t in run.variables.items()}
    work = sum(values[n].size for n in names) * len(postorder(expression.root))
    if not names:
        notes.append("no gradients to check")
    elif work > max_numeric_work:
        notes.append(f"numerical check skipped: {work} element-evaluations exceed {max_numeric_work}")
    else:
        for name, numeric in central_difference(expression, values, names, h, between).items():
            checks[name].numeric = numeric
            checks[name].relative_error = relative_error(run.gradients[name], numeric)
            if not np.isfinite(checks[name].relative_error):
                notes.append(
                    f"∂/∂{name} cannot be checked here: f is not finite within h = {h:g} of this point "
                    "(outside the domain of a function such as log or sqrt, or an overflow), so a "
                    "derivative there means nothing"
                )
    if all(v.ndim == 0 for v in values.values()):
        try:
            scalars = {n: float(v) for n, v in values.items()}
            for name, derivative in symbolic_derivatives(expression, scalars, max_print).items():
                if name in checks:
                    checks[name].symbolic = derivative
        except NotSymbolic as reason:
            notes.append(f"symbolic differentiation does not cover {reason} here")
    else:
        notes.append("symbolic derivatives are shown for scalar expressions")
    return GradientCheck(h, list(checks.values()), tree_size(expression.root), notes)
