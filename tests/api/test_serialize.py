"""The serializer's fast paths (one number, a rule's template, a whole trace) give what the plain way gave,
byte for byte."""

import json
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepviz.app import serialize
from deepviz.lessons.expr import evaluate
from tests.engine.expressions import expressions, points


def plain_values(a):
    """The serializer as it was before its fast paths: every value through an array."""
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        x = a.item()
        return x if np.isfinite(x) else ("NaN" if np.isnan(x) else ("Infinity" if x > 0 else "-Infinity"))
    return a.tolist() if np.all(np.isfinite(a)) else [plain_values(row) for row in a]


numbers = st.floats(allow_nan=True, allow_infinity=True, width=64)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@given(x=numbers, kind=st.sampled_from([float, np.float64, np.float32, np.array, int, bool]))
def test_one_number_serializes_as_through_an_array(x, kind):
    if kind in (int, bool) and not np.isfinite(x):
        return
    value = kind(x) if kind is not np.array else np.array(x)
    assert json.dumps(serialize.values(value)) == json.dumps(plain_values(value))


@given(rows=st.lists(st.lists(numbers, min_size=2, max_size=2), min_size=1, max_size=3))
def test_arrays_serialize_as_before(rows):
    for a in (np.array(rows), np.array(rows[0])):
        assert json.dumps(serialize.values(a)) == json.dumps(plain_values(a))


def plain_rule_text(rule, names):
    mapping = dict(zip("ab", names, strict=False))
    return re.sub(r"\b[ab]\b", lambda m: mapping.get(m.group(0), m.group(0)), rule)


@pytest.mark.parametrize("rule", ["1", "b", "1 / b", "-a / b²", "b · a^(b-1)", "a^b · ln a", "[a > b] (½ on a tie)",
                                  "sign(a)", "Σ upstream", "upstream @ W", "{a}", "abs(b)"])  # fmt: skip
@pytest.mark.parametrize("names", [[], ["x"], ["q", "W"], ["p", "y", "z"]])
def test_rules_name_their_inputs_as_before(rule, names):
    assert serialize.rule_text(rule, names) == plain_rule_text(rule, names)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast", "ignore:invalid value encountered in cast")
@given(x=numbers, dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_]))
def test_a_0d_array_of_any_dtype_serializes_as_through_an_array(x, dtype):
    if dtype in (np.int64, np.bool_) and not np.isfinite(x):
        return
    value = np.array(x).astype(dtype)
    assert json.dumps(serialize.values(value)) == json.dumps(plain_values(value))


def plain_trace_json(trace) -> dict:
    """trace_json as it was before its fast paths: every value through an array, every rule
    through its regular expression, the edges from Trace.edges()."""
    labels = [n.label for n in trace.nodes]
    keys = ["id", "kind", "op", "label", "formula", "shape", "value", "grad", "inputs"]
    nodes = [
        dict(zip(keys, [n.id, n.kind, n.op, n.label, n.formula, list(n.shape), plain_values(n.value),
                        plain_values(n.grad), n.inputs], strict=True))
        for n in trace.nodes
    ]  # fmt: skip
    steps = []
    for s in trace.backward:
        names = [labels[i] for i in trace.nodes[s.node].inputs]
        inputs = [{"node": i.node, "rule": plain_rule_text(i.rule, names), "local": plain_values(i.local),
                   "downstream": plain_values(i.downstream)} for i in s.inputs]  # fmt: skip
        steps.append({"node": s.node, "upstream": plain_values(s.upstream), "inputs": inputs})
    edges = [{"source": s, "target": t, "slot": slot} for s, t, slot in trace.edges()]
    return {"nodes": nodes, "edges": edges, "backward": steps}


@given(source=expressions, values=points)
def test_a_trace_serializes_byte_for_byte_as_the_plain_way(source, values):
    trace = evaluate(source, values).trace
    assert json.dumps(serialize.trace_json(trace)) == json.dumps(plain_trace_json(trace))


@pytest.mark.parametrize(
    ("source", "values"),
    [
        ("z = W @ x + b; p = softmax(z); L = -log(p[y])", {"W": [[0.2, -0.5], [1.5, 1.3]], "x": [1.0, -2.0],
                                                            "b": [1.1, 3.2], "y": 1}),
        ("f = sum(W * W) + mean(log(W))", {"W": [[1.0, -1.0], [0.0, 2.0]]}),
        ("cross_entropy(W @ v, 1)", {"W": [[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]], "v": [0.25, -0.75]}),
    ],
)  # fmt: skip
def test_a_trace_of_tensors_serializes_as_the_plain_way(source, values):
    trace = evaluate(source, values).trace
    assert json.dumps(serialize.trace_json(trace)) == json.dumps(plain_trace_json(trace))
