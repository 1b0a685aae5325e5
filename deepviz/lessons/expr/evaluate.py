"""Evaluate a parsed expression with the engine, and trace its forward and backward pass."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine import ops
from deepviz.engine.tensor import Tensor
from deepviz.engine.trace import Trace, graph_order, record
from deepviz.lessons.expr.parser import (
    Binary,
    Call,
    ExprError,
    Expression,
    Index,
    Num,
    Unary,
    Var,
    parse,
)

# Names given to unnamed intermediate results, in order: the notes call x + y "q".
_AUTO_LABELS = ["q", "r", "s", "t", "u", "v", "g", "h", "k", "m", "n", "p"]

_UNARY_CALLS = {
    "exp": Tensor.exp, "log": Tensor.log, "tanh": Tensor.tanh, "sigmoid": Tensor.sigmoid,
    "relu": Tensor.relu, "sin": Tensor.sin, "cos": Tensor.cos, "sqrt": Tensor.sqrt,
    "abs": Tensor.abs, "sum": Tensor.sum, "mean": Tensor.mean,
    "softmax": F.softmax, "log_softmax": F.log_softmax,
}  # fmt: skip
_BINARY = {
    "+": Tensor.__add__, "-": Tensor.__sub__, "*": Tensor.__mul__, "/": Tensor.__truediv__,
    "^": Tensor.__pow__, "@": Tensor.__matmul__, "max": Tensor.maximum, "min": Tensor.minimum,
}  # fmt: skip


@dataclass
class Evaluation:
    """The result of evaluating an expression: its output tensor, its variables (with
    their gradients after backward), and the trace of both passes."""

    expression: Expression
    output: Tensor
    variables: dict[str, Tensor]
    trace: Trace
    note: str = ""  # why there is no backward pass, if there is none
    warnings: list[str] = field(default_factory=list)  # where values stopped being numbers

    @property
    def value(self) -> np.ndarray:
        return self.output.data

    @property
    def gradients(self) -> dict[str, np.ndarray | None]:
        return {name: t.grad for name, t in self.variables.items()}


def as_value(name: str, value) -> np.ndarray:
    """A variable's value as a float64 array of at most two dimensions."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ExprError(
            f"the value of {name} is not a number or a rectangular list of numbers",
            field=("values", name),
        ) from error
    if array.ndim > 2:
        raise ExprError(f"the value of {name} has {array.ndim} dimensions; at most 2", field=("values", name))
    return array


def compute(expression: Expression, env: Mapping[str, Tensor], max_values: int | None = None) -> Tensor:
    """The output tensor of ``expression`` with variables bound by ``env``. Iterative, and
    shared subtrees (named statements) are computed once, so their gradients add up.
    ``max_values`` bounds how many numbers all the nodes hold together (broadcasting a
    column against a row can make a small input large)."""
    done: dict[int, Tensor] = {}
    labels = expression.labels
    total = 0
    with np.errstate(all="ignore"):  # overflow gives inf, 0/0 gives nan: reported, not raised
        for node in expression.order:
            done[id(node)] = tensor = _COMPUTE[type(node)](node, done, env)
            if id(node) in labels:  # named by the user: q = x + y
                tensor.label = labels[id(node)]
            total += tensor.data.size
            if max_values is not None and total > max_values:
                raise ExprError(f"the graph would hold more than {max_values} numbers", node.pos)
    return done[id(expression.root)]


# How each kind of node is computed from its children's tensors (``done``, by id), one
# function per kind.


def _number(node: Num, done, env) -> Tensor:
    return Tensor(np.float64(node.value), label=f"{node.value:g}")


def _variable(node: Var, done, env) -> Tensor:
    if node.name not in env:
        raise ExprError(f"no value given for {node.name}", node.pos)
    return env[node.name]


def _unary(node: Unary, done, env) -> Tensor:
    operand = done[id(node.operand)]
    return -operand if node.op == "-" else Tensor.apply(ops.Identity, operand)


def _binary(node: Binary, done, env) -> Tensor:
    a, b = done[id(node.left)], done[id(node.right)]
    try:
        return _BINARY[node.op](a, b)
    except ValueError as error:
        raise ExprError(f"cannot apply {node.op} to shapes {a.shape} and {b.shape}", node.pos) from error


def _apply_binary(op: str, a: Tensor, b: Tensor, pos: int) -> Tensor:
    try:
        return _BINARY[op](a, b)
    except ValueError as error:
        raise ExprError(f"cannot apply {op} to shapes {a.shape} and {b.shape}", pos) from error


def _call(node: Call, done, env) -> Tensor:
    args = [done[id(c)] for c in node.args]
    if node.name in _BINARY:
        return _apply_binary(node.name, *args, node.pos)
    if node.name == "cross_entropy":
        logits, labels = args
        if logits.ndim not in (1, 2):
            raise ExprError(f"cross_entropy needs logits of 1 or 2 dimensions, not {logits.shape}", node.pos)
        targets = _integers(labels, logits.shape[-1], "class label", node.pos)
        try:
            return F.cross_entropy(logits, targets)
        except ValueError as error:
            raise ExprError(str(error), node.pos) from error
    return _UNARY_CALLS[node.name](*args)


def _index(node: Index, done, env) -> Tensor:
    target, index = done[id(node.target)], done[id(node.index)]
    if target.ndim == 0:
        raise ExprError("only a vector or a matrix can be indexed", node.pos)
    return target[int(_integers(index, target.shape[0], "index", node.pos))]


_COMPUTE = {Num: _number, Var: _variable, Unary: _unary, Binary: _binary, Call: _call, Index: _index}


def _integers(t: Tensor, bound: int, what: str, pos: int) -> np.ndarray:
    values = t.data
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise ExprError(f"a {what} must be a whole number", pos)
    if np.any(values < 0) or np.any(values >= bound):
        raise ExprError(f"a {what} must lie in 0..{bound - 1}", pos)
    return values.astype(np.int64)


def _label_intermediates(expression: Expression, output: Tensor, trace_order: list[Tensor]) -> None:
    taken = set(expression.variables) | set(expression.labels.values())
    spare = (f"n{i}" for i in itertools.count(1))  # after the letters run out: n1, n2, …
    free = itertools.chain((name for name in _AUTO_LABELS if name not in taken), (n for n in spare if n not in taken))
    if not output.label:
        output.label = "f" if "f" not in taken else "out"
    for t in trace_order:
        if t.fn is not None and not t.label:
            t.label = next(free)


def evaluate(
    expression: str | Expression,
    values: Mapping[str, object],
    backward: bool = True,
    max_values: int | None = None,
    **limits: int,
) -> Evaluation:
    """Evaluate ``expression`` at ``values`` (numbers, or nested lists for tensors) and
    trace it: ``evaluate("(x + y) * z", {"x": -2, "y": 5, "z": -4}).gradients`` is
    ``{"x": -4, "y": -4, "z": 3}``. ``max_values`` bounds the numbers the graph holds;
    ``limits`` go to ``parse`` (max_length, max_depth, max_nodes)."""
    parsed = parse(expression, **limits) if isinstance(expression, str) else expression
    env = {
        name: Tensor(as_value(name, values[name]), requires_grad=True, label=name)
        for name in parsed.variables
        if name in values
    }
    output = compute(parsed, env, max_values)
    order = graph_order(output)
    _label_intermediates(parsed, output, order)
    note = ""
    if backward and output.data.size != 1:
        note = f"the output has shape {output.shape}: gradients need a scalar (try sum(…))"
        backward = False
    with np.errstate(all="ignore"):
        trace = record(output, backward=backward, order=order)
    return Evaluation(parsed, output, env, trace, note, not_finite(trace))


def not_finite(trace: Trace) -> list[str]:
    """Where the forward pass first overflowed or left a function's domain: the nodes whose
    value is not finite although every input's is (what follows only inherits it)."""
    finite = [_finite(node.value) for node in trace.nodes]  # once a node, read by its users
    found = []
    for node, ok in zip(trace.nodes, finite, strict=True):
        if node.kind != "op" or ok or not all(finite[i] for i in node.inputs):
            continue
        value = np.asarray(node.value, dtype=np.float64)
        if np.any(np.isnan(value)):
            why = "is not a number: outside the function's domain (the log or the square root of a negative, 0/0)"
        else:
            why = "overflowed: beyond the largest float64 number (about 1.8·10³⁰⁸)"
        found.append(f"{node.label} = {node.formula} {why}")
    return found


def _finite(value) -> bool:
    """Whether every number of ``value`` is finite (one number: math's test, no array made)."""
    if type(value) is np.ndarray and value.ndim == 0 or type(value) is float:
        return math.isfinite(value)
    return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
