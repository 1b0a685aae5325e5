"""Symbolic differentiation: build the derivative's own expression from the parse tree.

Each rule of calculus becomes a constructor call (d(a·b) = da·b + a·db, …), with the
obvious simplifications (0·x = 0, 1·x = x, constants folded). What it shows is
*expression swell*: the derivative's tree grows much faster than the function's, because
subexpressions are copied rather than shared. Autodiff avoids this by working with
values, not formulas. Only scalar expressions are covered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepviz.engine import walk
from deepviz.lessons.expr.parser import (
    ELEMENTWISE,
    Binary,
    Call,
    Expression,
    Index,
    Node,
    Num,
    Unary,
    Var,
    children,
    postorder,
)

_SCALAR_FUNCTIONS = set(ELEMENTWISE)  # on tensors (sum, softmax…) symbolic derivatives are not shown


class NotSymbolic(ValueError):
    """The expression uses something symbolic differentiation does not cover here."""


@dataclass
class Derivative:
    variable: str
    root: Node
    size: int  # nodes in the derivative's tree, counting every copy
    text: str | None  # None when too large to print
    value: float


# -- smart constructors: the simplifications -------------------------------------------

ZERO, ONE = Num(0.0, -1), Num(1.0, -1)


def _is(node: Node, value: float) -> bool:
    return isinstance(node, Num) and node.value == value


def add(a: Node, b: Node) -> Node:
    if _is(a, 0):
        return b
    if _is(b, 0):
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value + b.value, -1)
    return Binary("+", a, b, -1)


def sub(a: Node, b: Node) -> Node:
    if _is(b, 0):
        return a
    if _is(a, 0):
        return neg(b)
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value - b.value, -1)
    return Binary("-", a, b, -1)


def mul(a: Node, b: Node) -> Node:
    if _is(a, 0) or _is(b, 0):
        return ZERO
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value * b.value, -1)
    if _is(a, 1):
        return b
    if _is(b, 1):
        return a
    if _is(a, -1):
        return neg(b)
    if _is(b, -1):
        return neg(a)
    return Binary("*", a, b, -1)


def div(a: Node, b: Node) -> Node:
    if _is(a, 0):
        return ZERO
    if _is(b, 1):
        return a
    return Binary("/", a, b, -1)


def power(a: Node, b: Node) -> Node:
    if _is(b, 0):
        return ONE
    if _is(b, 1):
        return a
    return Binary("^", a, b, -1)


def neg(a: Node) -> Node:
    return Num(-a.value, -1) if isinstance(a, Num) else Unary("-", a, -1)


def call(name: str, *args: Node) -> Node:
    return Call(name, args, -1)


# -- the rules --------------------------------------------------------------------------


def differentiate(expression: Expression, variable: str) -> Node:
    """The tree of ∂f/∂variable. Iterative: children before parents."""
    d: dict[int, Node] = {}
    for node in postorder(expression.root):
        if id(node) not in d:
            d[id(node)] = _rule(node, variable, d)
    return d[id(expression.root)]


def _rule(node: Node, v: str, d: dict[int, Node]) -> Node:
    if isinstance(node, Num):
        return ZERO
    if isinstance(node, Var):
        return ONE if node.name == v else ZERO
    if isinstance(node, Unary):
        da = d[id(node.operand)]
        return neg(da) if node.op == "-" else da
    if isinstance(node, Index):
        raise NotSymbolic("indexing")
    if isinstance(node, Binary):
        a, b, da, db = node.left, node.right, d[id(node.left)], d[id(node.right)]
        if node.op == "+":
            return add(da, db)
        if node.op == "-":
            return sub(da, db)
        if node.op == "*":
            return add(mul(da, b), mul(a, db))
        if node.op == "/":
            return div(sub(mul(da, b), mul(a, db)), power(b, Num(2.0, -1)))
        if node.op == "^":
            if _is(db, 0):  # d(a^c) = c a^(c-1) da
                return mul(mul(b, power(a, sub(b, ONE))), da)
            return mul(power(a, b), add(mul(db, call("log", a)), div(mul(b, da), a)))
        raise NotSymbolic("matrix products")
    if isinstance(node, Call):
        if node.name not in _SCALAR_FUNCTIONS:
            raise NotSymbolic(node.name)
        a = node.args[0]
        da = d[id(a)]
        if node.name in ("max", "min"):
            b, db = node.args[1], d[id(node.args[1])]
            first = sub(a, b) if node.name == "max" else sub(b, a)
            return add(mul(call("step", first), da), mul(call("step", neg(first)), db))
        local = {
            "exp": lambda: node,
            "log": lambda: div(ONE, a),
            "tanh": lambda: sub(ONE, power(node, Num(2.0, -1))),
            "sigmoid": lambda: mul(node, sub(ONE, node)),
            "relu": lambda: call("step", a),
            "sin": lambda: call("cos", a),
            "cos": lambda: neg(call("sin", a)),
            "sqrt": lambda: div(ONE, mul(Num(2.0, -1), node)),
            "abs": lambda: call("sign", a),
        }[node.name]()
        return mul(local, da)
    raise NotSymbolic(type(node).__name__)


# -- size, value and text ---------------------------------------------------------------


def tree_size(root: Node) -> int:
    """Nodes in the tree when every shared subexpression is written out again."""
    sizes: dict[int, int] = {}
    for node in _unique_postorder(root):
        sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children(node))
    return sizes[id(root)]


def _unique_postorder(root: Node) -> list[Node]:
    return walk.postorder(root, children)


_NUMPY = {
    "exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
    "sqrt": np.sqrt, "abs": np.abs, "sign": np.sign, "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 0.5 * (1 + np.tanh(0.5 * x)), "step": lambda x: float(x > 0),
    "max": max, "min": min,
}  # fmt: skip
_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}


def value_of(root: Node, values: dict[str, float]) -> float:
    """Evaluate a (derivative) tree at ``values``, each shared subtree once."""
    out: dict[int, float] = {}
    with np.errstate(all="ignore"):
        for node in _unique_postorder(root):
            args = [out[id(c)] for c in children(node)]
            if isinstance(node, Num):
                out[id(node)] = node.value
            elif isinstance(node, Var):
                out[id(node)] = float(values[node.name])
            elif isinstance(node, Unary):
                out[id(node)] = -args[0] if node.op == "-" else args[0]
            elif isinstance(node, Binary):
                out[id(node)] = float(_BINARY[node.op](*args))
            else:
                out[id(node)] = float(_NUMPY[node.name](*args))
    return out[id(root)]


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}


def to_text(root: Node) -> str:
    """Readable infix text, with only the parentheses precedence needs."""
    text: dict[int, tuple[str, int]] = {}  # id -> (text, precedence of its top operator)
    for node in _unique_postorder(root):
        if isinstance(node, Num):
            text[id(node)] = (f"{node.value:g}", 5 if node.value >= 0 else 3)
        elif isinstance(node, Var):
            text[id(node)] = (node.name, 5)
        elif isinstance(node, Unary):
            inner, p = text[id(node.operand)]
            text[id(node)] = (
                inner if node.op == "+" else "-" + _wrap(inner, p, 3),
                3 if node.op == "-" else p,
            )
        elif isinstance(node, Binary):
            p = _PRECEDENCE[node.op]
            (left, lp), (right, rp) = text[id(node.left)], text[id(node.right)]
            right_assoc = node.op == "^"
            left = _wrap(left, lp, p + 1 if right_assoc else p)
            right = _wrap(right, rp, p if right_assoc else p + 1)
            text[id(node)] = (
                f"{left}{node.op}{right}" if node.op == "^" else f"{left} {node.op} {right}",
                p,
            )
        else:
            args = ", ".join(text[id(a)][0] for a in node.args)
            text[id(node)] = (f"{node.name}({args})", 5)
    return text[id(root)][0]


def _wrap(text: str, precedence: int, needed: int) -> str:
    return f"({text})" if precedence < needed else text


def symbolic_derivatives(
    expression: Expression, values: dict[str, float], max_print: int = 400
) -> dict[str, Derivative]:
    """∂f/∂v for every variable: its tree's size, its text (when small) and its value."""
    result = {}
    for v in expression.variables:
        root = differentiate(expression, v)
        size = tree_size(root)
        text = to_text(root) if size <= max_print else None
        result[v] = Derivative(v, root, size, text, value_of(root, values))
    return result
