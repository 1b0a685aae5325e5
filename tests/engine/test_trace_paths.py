"""The trace's shortcuts give what the plain way gave: it walks the graph once for both passes
(the backward order is the one Tensor.backward walks), it takes each local gradient from the
backward pass (the value the op's local() gives at that point), and the tokenizer's one scan
finds the tokens and the errors the token-by-token loop found."""

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from deepviz.engine.tensor import Tensor
from deepviz.engine.trace import graph_order
from deepviz.lessons.expr import ExprError, evaluate, parse
from deepviz.lessons.expr.evaluate import compute
from deepviz.lessons.expr.parser import tokenize
from tests.engine.expressions import expressions, points


def plain_backward(source: str, values: dict):
    """Tensor.backward on the same graph, its own walk, each step as (node, upstream, [(input,
    downstream, local() computed again from the inputs' values)]), nodes by their label."""
    parsed = parse(source)
    env = {k: Tensor(np.float64(v), requires_grad=True, label=k) for k, v in values.items() if k in parsed.variables}
    run = evaluate(parsed, values)  # the labels, for naming the nodes of this second graph
    with np.errstate(all="ignore"):
        output = compute(parsed, env)
    for t, node in zip(graph_order(output), run.trace.nodes, strict=True):
        t.label = node.label
    steps = []

    def on_step(node, upstream, inputs):
        fn = node.fn
        local = fn.local(*(p.data for p in node.parents), node.data) if fn else None
        steps.append(
            (node.label, upstream, [(p.label, down, None if local is None else local[i]) for i, (p, down, _) in
                                    enumerate(inputs)])
        )  # fmt: skip

    if output.requires_grad:  # (an output made of constants only has no backward pass)
        with np.errstate(all="ignore"):
            output.backward(on_step=on_step)
    return run, steps


def same(a, b) -> bool:
    """Equal values, NaN equal to NaN, None to None."""
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True)


@given(source=expressions, values=points)
def test_the_trace_walks_and_computes_as_backward_does(source, values):
    run, plain = plain_backward(source, values)
    labels = [n.label for n in run.trace.nodes]
    assert len(run.trace.backward) == len(plain)
    for step, (label, upstream, inputs) in zip(run.trace.backward, plain, strict=True):
        assert labels[step.node] == label and same(step.upstream, upstream)
        assert len(step.inputs) == len(inputs)
        for got, (input_label, downstream, local) in zip(step.inputs, inputs, strict=True):
            assert labels[got.node] == input_label
            assert same(got.downstream, downstream) and same(got.local, local)


_OLD_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/^@()\[\],;=]))"
)


def plain_tokenize(source: str):
    """The tokenizer as it was: one match at a time, an error where none matches."""
    tokens, pos = [], 0
    while True:
        match = _OLD_TOKEN.match(source, pos)
        if match is None:
            start = re.compile(r"\s*").match(source, pos).end()
            if start == len(source):
                break
            raise ExprError(f"unexpected character {source[start]!r}", start)
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(("end", "", len(source)))
    return tokens


def _outcome(tokenizer, source):
    try:
        return tokenizer(source)
    except ExprError as error:
        return str(error)


@given(st.text(alphabet=st.sampled_from(list("x y_1.2e+-*/^@()[],;=**\t\n$é²#σ")), max_size=40) | st.text(max_size=30))
def test_the_tokenizer_finds_what_the_token_by_token_loop_found(source):
    assert _outcome(tokenize, source) == _outcome(plain_tokenize, source)
