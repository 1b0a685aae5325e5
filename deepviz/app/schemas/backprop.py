"""Models of the backprop routes: /api/v1/graph and /api/v1/descent."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from deepviz.app.schemas.common import Finite, Name, Strict

# Sizes a user controls are bounded by the settings (app/settings.py), checked by the router
# with a message naming the limit: not here, so that each limit lives in one place.
Row = list[Finite]
VariableValue = Finite | Row | list[Row]


class GraphRequest(Strict):
    expression: str = Field(
        description="e.g. (x + y) * z, or named steps: q = x + y; f = q * z (at most max_expression_length characters)",
        examples=["(x + y) * z"],
    )
    values: dict[Name, VariableValue] = Field(
        default_factory=dict,
        description="a number, a list or a list of lists for each variable (at most max_variables of them, each "
        "of at most max_tensor_elements numbers)",
        examples=[{"x": -2, "y": 5, "z": -4}],
    )
    check: bool = Field(True, description="also compute numerical and symbolic derivatives")
    h: float = Field(1e-5, gt=0, le=1, description="step of the central difference")


class NodeOut(BaseModel):
    id: int
    kind: Literal["variable", "constant", "op"]
    op: str
    label: str
    formula: str = Field(description="how the node is computed from its inputs' labels")
    shape: list[int]
    value: JsonValue
    grad: JsonValue = None
    inputs: list[int]


class EdgeOut(BaseModel):
    source: int
    target: int
    slot: int = Field(description="which argument of the target the source is")


class InputStepOut(BaseModel):
    node: int
    rule: str = Field(description="the local gradient ∂node/∂input, in words")
    local: JsonValue = Field(None, description="its value, for elementwise ops")
    downstream: JsonValue = Field(None, description="local × upstream")


class StepOut(BaseModel):
    node: int
    upstream: JsonValue
    inputs: list[InputStepOut]


class SymbolicOut(BaseModel):
    text: str | None = Field(description="the derivative's expression, None when too large")
    size: int = Field(description="nodes in the derivative's expression tree")
    value: JsonValue


class CheckOut(BaseModel):
    name: str
    autodiff: JsonValue
    numeric: JsonValue = None
    relative_error: JsonValue = None
    symbolic: SymbolicOut | None = None


class GradientCheckOut(BaseModel):
    h: float
    function_size: int
    variables: list[CheckOut]
    notes: list[str]


class TimeStepOut(BaseModel):
    t: int
    node: int = Field(description="id of h_t's node")
    label: str
    norm: JsonValue = Field(description="‖∂L/∂h_t‖ (|∂L/∂h_t| for a number), None without a backward pass")


class GraphOut(BaseModel):
    value: JsonValue
    shape: list[int]
    gradients: dict[str, JsonValue]
    output: int = Field(description="id of the output node")
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    backward: list[StepOut] = Field(description="backward steps, from the output to the inputs")
    note: str = ""
    warnings: list[str] = Field(default_factory=list, description="where a value overflowed or left a domain")
    check: GradientCheckOut | None = None
    through_time: list[TimeStepOut] = Field(
        default_factory=list,
        description="for steps named h0, h1, h2, … (an unrolled recurrent network): the gradient's size at each",
    )


class RnnPresetOut(BaseModel):
    T: int
    regime: Literal["vanishing", "exploding"]
    expression: str = Field(description="h_t = tanh(w·h_{t−1} + u·x_t) unrolled over T steps, loss L = h_T")
    values: str = Field(description="w, u, h0 and x1..xT, as the page's values field reads them")


class DescentRequest(Strict):
    expression: str = Field(examples=["(w - 3)^2 + 1"], description="at most max_expression_length characters")
    parameter: Name = "w"
    start: Finite = Field(-1.0, ge=-1e6, le=1e6)
    learning_rate: Finite = Field(0.1, gt=0, le=100)
    steps: int = Field(10, ge=1, description="at most max_descent_steps")


class DescentStepOut(BaseModel):
    step: int
    theta: JsonValue
    loss: JsonValue
    gradient: JsonValue


class DescentOut(BaseModel):
    steps: list[DescentStepOut]
    curve_theta: list[float]
    curve_loss: list[JsonValue]
