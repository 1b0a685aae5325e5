"""The expression language: parsing, evaluation against torch, named steps, limits, and a
fuzz of the parser (no input may crash it or hang it)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepviz.lessons.expr import ExprError, evaluate, parse
from deepviz.lessons.expr.numeric import central_difference
from deepviz.lessons.expr.symbolic import symbolic_derivatives


def test_precedence_and_associativity():
    assert evaluate("-2^2", {}).value == -4
    assert evaluate("2^3^2", {}).value == 512
    assert evaluate("2**3 - 4 / 2 * 3", {}).value == 2
    assert evaluate("1e-3 * .5e1", {}).value == pytest.approx(5e-3)


def test_named_steps_label_nodes_and_share_them():
    run = evaluate("q = x + y; f = q * q", {"x": 1, "y": 2})
    labels = [n.label for n in run.trace.nodes]
    assert labels.count("q") == 1 and run.gradients["x"] == 6  # 2q, summed over two uses


@pytest.mark.parametrize(
    "expression",
    [
        "sigmoid(a*b + c) * tanh(a) - log(abs(b)) / sqrt(c*c + 1)",
        "max(a, b) * min(b, c) + relu(a - c) + exp(sin(a) * cos(b))",
        "(a + c)^b + a^2^0.5",
    ],
)
def test_expressions_match_torch(expression):
    values = {"a": 0.7, "b": -1.3, "c": 2.1}
    run = evaluate(expression, values)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    env = {
        **t,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "log": torch.log,
        "abs": torch.abs,
        "sqrt": torch.sqrt,
        "max": torch.maximum,
        "min": torch.minimum,
        "relu": torch.relu,
        "exp": torch.exp,
        "sin": torch.sin,
        "cos": torch.cos,
    }
    expected = eval(expression.replace("^", "**"), {"__builtins__": {}}, env)  # noqa: S307 - test oracle
    expected.backward()
    assert run.value == pytest.approx(expected.item(), rel=1e-12)
    for k in values:
        assert run.gradients[k] == pytest.approx(t[k].grad.item(), rel=1e-10)


def test_three_ways_agree():
    expression = parse("x^3 / (1 + exp(-x)) * sin(x)^2")
    run = evaluate(expression, {"x": 1.5})
    numeric = central_difference(expression, {"x": np.array(1.5)}, ["x"])["x"]
    symbolic = symbolic_derivatives(expression, {"x": 1.5})["x"]
    assert numeric == pytest.approx(run.gradients["x"], rel=1e-8)
    assert symbolic.value == pytest.approx(run.gradients["x"], rel=1e-12)
    assert symbolic.size > 14  # swell: the function has 14 nodes


def test_long_chains_are_evaluated_without_recursion():
    n = 400
    run = evaluate(" + ".join(["x"] * n), {"x": 1}, max_length=10_000)
    assert run.value == n and run.gradients["x"] == n


TOKENS = st.sampled_from(
    [
        "x",
        "y",
        "2",
        "1e308",
        "0",
        "(",
        ")",
        "+",
        "-",
        "*",
        "/",
        "^",
        "**",
        "@",
        ",",
        "[",
        "]",
        "exp",
        "log",
        "max",
        "softmax",
        "=",
        ";",
        " ",
        ".5",
        "q",
        "sqrt",
        "$",
        "é",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(TOKENS, max_size=40).map("".join))
def test_fuzz_parse_and_evaluate_never_crash(source):
    try:
        evaluate(source, {"x": 0.5, "y": [1.0, -2.0]}, max_depth=30, max_nodes=60)
    except ExprError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_arbitrary_text(source):
    try:
        parse(source)
    except ExprError as error:
        assert error.position is None or 0 <= error.position <= len(source)


def test_repeated_squaring_of_named_steps_takes_linear_time():
    # regression: a tree walk visits a shared step once per path, 2^40 times here
    source = "; ".join(["a1 = x * x"] + [f"a{i} = a{i - 1} * a{i - 1}" for i in range(2, 41)])
    run = evaluate(source, {"x": 1.0000001})
    assert len(run.trace.nodes) == 41 and run.gradients["x"] > 0
    derivative = symbolic_derivatives(run.expression, {"x": 1.0000001}, max_print=100)["x"]
    assert derivative.text is None and derivative.size > 2**40


def test_deep_nesting_is_refused_not_a_recursion_error():
    # regression: 300 parentheses overflowed Python's stack before the depth limit fired
    for source in ["(" * 300 + "x" + ")" * 300, "-" * 3000 + "x", "2^" * 500 + "2", "exp(" * 400 + "x" + ")" * 400]:
        with pytest.raises(ExprError, match="deeper than"):
            parse(source, max_length=10_000)


def test_every_function_of_the_language_is_evaluated_and_elementwise_ones_differentiated_symbolically():
    from deepviz.lessons.expr.parser import ELEMENTWISE, FUNCTIONS, ON_TENSORS
    from deepviz.lessons.expr.symbolic import symbolic_derivatives

    assert set(FUNCTIONS) == set(ELEMENTWISE) | set(ON_TENSORS)
    for name, arity in ELEMENTWISE.items():
        source = f"{name}({', '.join(['x'] * arity)})"
        run = evaluate(source, {"x": 0.7})
        assert run.gradients["x"] is not None, name
        assert "x" in symbolic_derivatives(run.expression, {"x": 0.7}, max_print=100), name
    for name in ON_TENSORS:
        source = "sum(softmax(v))" if name != "cross_entropy" else "cross_entropy(v, 1)"
        source = source if name in ("softmax", "cross_entropy") else f"sum({name}(v))"
        assert evaluate(source, {"v": [0.1, 0.2, 0.3]}).gradients["v"] is not None, name
