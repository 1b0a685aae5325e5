"""POST /api/v1/graph and /api/v1/descent: the backprop page's computations."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from deepviz.app import serialize
from deepviz.app.dependencies import BudgetDep, SettingsDep
from deepviz.app.errors import InputError
from deepviz.app.schemas import BAD_INPUT, DescentOut, DescentRequest, GraphOut, GraphRequest, RnnPresetOut
from deepviz.app.settings import Settings
from deepviz.lessons.expr import evaluate, parse
from deepviz.lessons.expr.check import gradient_check
from deepviz.lessons.expr.descent import curve_around, gradient_descent
from deepviz.lessons.expr.descent import work as descent_work
from deepviz.lessons.expr.rnn import starting_values, through_time, unrolled

router = APIRouter(prefix="/api/v1", tags=["backprop"])


def _limits(settings: Settings) -> dict[str, int]:
    return {
        "max_length": settings.max_expression_length,
        "max_depth": settings.max_expression_depth,
        "max_nodes": settings.max_expression_nodes,
    }


def _check_sizes(values: dict, settings: Settings) -> None:
    if len(values) > settings.max_variables:
        raise InputError(["body", "values"], f"at most {settings.max_variables} variables")
    for name, value in values.items():
        rows = value if isinstance(value, list) else [value]
        size = sum(len(r) if isinstance(r, list) else 1 for r in rows)
        if size > settings.max_tensor_elements:
            raise InputError(
                ["body", "values", name],
                f"{name} has {size} elements; the limit is {settings.max_tensor_elements}",
            )


# Plain `def`: FastAPI runs it in a worker thread, so a slow request never blocks others.
@router.post("/graph", response_model=GraphOut, responses=BAD_INPUT)
def graph(request: GraphRequest, settings: SettingsDep, budget: BudgetDep) -> dict:
    """Evaluate an expression, run its backward pass, and return the traced graph."""
    _check_sizes(request.values, settings)
    run = evaluate(request.expression, request.values, max_values=settings.max_graph_values, **_limits(settings))
    out = {
        "value": serialize.values(run.value),
        "shape": list(run.output.shape),
        "gradients": {name: serialize.values(g) for name, g in run.gradients.items()},
        "output": run.trace.output,
        "note": run.note,
        "warnings": run.warnings,
        **serialize.trace_json(run.trace),
        "through_time": [
            {"t": s.t, "node": s.node, "label": s.label, "norm": None if s.norm is None else serialize.number(s.norm)}
            for s in through_time(run)
        ],
    }
    if request.check and not run.note:
        check = gradient_check(
            run, request.h, settings.max_numeric_work, settings.max_symbolic_print, between=budget.check
        )
        out["check"] = serialize.check_json(check)
    return out


@router.get("/graph/rnn", response_model=RnnPresetOut, responses=BAD_INPUT)
def rnn_preset(
    settings: SettingsDep,
    T: Annotated[int, Query(ge=1, description="time steps, at most max_rnn_steps")] = 6,  # noqa: N803 (the notes' T)
    regime: Literal["vanishing", "exploding"] = "vanishing",
) -> dict:
    """The preset of backpropagation through time (chapter 6): h_t = tanh(w·h_{t−1} + u·x_t)
    unrolled over T steps, with values whose gradients vanish (w = 0.5) or explode (w = 3)."""
    if T > settings.max_rnn_steps:
        raise InputError(["query", "T"], f"at most {settings.max_rnn_steps} time steps")
    return {"T": T, "regime": regime, "expression": unrolled(T), "values": starting_values(T, regime)}


@router.post("/descent", response_model=DescentOut, responses=BAD_INPUT)
def descent(request: DescentRequest, settings: SettingsDep, budget: BudgetDep) -> dict:
    """Gradient descent on a one-parameter loss (figure 2.1): every step and the curve."""
    if request.steps > settings.max_descent_steps:
        raise InputError(["body", "steps"], f"at most {settings.max_descent_steps} steps")
    expression = parse(request.expression, **_limits(settings))
    cost = descent_work(expression, request.steps)
    if cost > settings.max_descent_work:
        raise InputError(
            ["body"],
            f"{request.steps} steps of this expression and its curve are {cost} node evaluations; the limit is "
            f"{settings.max_descent_work}: use fewer steps or a shorter expression",
            kind="too_expensive",
        )
    steps = gradient_descent(
        expression, request.parameter, request.start, request.learning_rate, request.steps, between=budget.check
    )
    thetas, losses = curve_around(expression, request.parameter, [s.theta for s in steps])
    return {
        "steps": [
            {
                "step": s.step,
                "theta": serialize.number(s.theta),
                "loss": serialize.number(s.loss),
                "gradient": serialize.number(s.gradient),
            }
            for s in steps
        ],
        "curve_theta": thetas.tolist(),
        "curve_loss": serialize.values(losses),
    }
