"""POST /api/v1/graph and /api/v1/descent: answers, and the 4xx bad input gets."""

import math

import pytest

from tests.api.conftest import small_client


def graph(client, expression, values=None, **extra):
    return client.post("/api/v1/graph", json={"expression": expression, "values": values or {}, **extra})


def test_the_notes_example(client):
    r = graph(client, "(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert r.status_code == 200
    body = r.json()
    assert body["value"] == -12 and body["gradients"] == {"x": -4, "y": -4, "z": 3}
    labels = {n["label"]: n for n in body["nodes"]}
    assert labels["q"]["formula"] == "x + y" and labels["q"]["value"] == 3 and labels["q"]["grad"] == -4
    first = body["backward"][0]
    assert first["node"] == body["output"] and first["upstream"] == 1
    assert [i["downstream"] for i in first["inputs"]] == [-4, 3]
    assert [i["rule"] for i in first["inputs"]] == ["z", "q"]  # ∂(q·z)/∂q = z, ∂(q·z)/∂z = q
    assert {(e["source"], e["target"]) for e in body["edges"]} == {(0, 2), (1, 2), (2, 4), (3, 4)}
    check = {v["name"]: v for v in body["check"]["variables"]}
    assert check["z"]["symbolic"]["text"] == "x + y"
    assert all(v["relative_error"] < 1e-8 for v in check.values())


def test_softmax_regression_gradient_at_the_logits_is_p_minus_onehot(client):
    W = [[0.2, -0.5], [1.5, 1.3], [0.0, 0.25]]
    x, b, y = [1.0, -2.0], [1.1, 3.2, -1.2], 2
    r = graph(client, "z = W @ x + b; p = softmax(z); L = -log(p[y])", {"W": W, "x": x, "b": b, "y": y})
    assert r.status_code == 200, r.text
    nodes = {n["label"]: n for n in r.json()["nodes"]}
    p = nodes["p"]["value"]
    expected = [p[0], p[1], p[2] - 1]
    assert all(math.isclose(a, e, abs_tol=1e-12) for a, e in zip(nodes["z"]["grad"], expected))
    assert r.json()["gradients"]["y"] is None  # an index: not differentiable


def test_the_fused_cross_entropy_agrees(client):
    values = {"z": [1.0, 2.0, 0.5], "y": 1}
    fused = graph(client, "cross_entropy(z, y)", values).json()
    composed = graph(client, "-log(softmax(z)[y])", values).json()
    assert math.isclose(fused["value"], composed["value"])
    assert all(math.isclose(a, b) for a, b in zip(fused["gradients"]["z"], composed["gradients"]["z"]))


def test_overflow_and_nan_are_reported_not_raised(client):
    r = graph(client, "9^9^9^9 + x - x", {"x": 1})
    assert r.status_code == 200 and r.json()["value"] == "Infinity"
    r = graph(client, "log(x - x) * 0", {"x": 1})
    assert r.status_code == 200 and r.json()["value"] == "NaN"


def test_a_tensor_output_has_no_backward_and_says_why(client):
    r = graph(client, "W @ x", {"W": [[1, 2], [3, 4]], "x": [1, 1]})
    assert r.status_code == 200 and "sum(" in r.json()["note"] and r.json()["backward"] == []


@pytest.mark.parametrize(
    ("expression", "values", "field", "message", "position"),
    [
        ("(x + y", {"x": 1, "y": 2}, ["body", "expression"], "expected ')'", 6),
        ("x +* y", {"x": 1, "y": 2}, ["body", "expression"], "expected a number", 3),
        ("x $ y", {}, ["body", "expression"], "unexpected character '$'", 2),
        ("foo(x)", {"x": 1}, ["body", "expression"], "unknown function 'foo'", 0),
        ("x * q", {"x": 1}, ["body", "expression"], "no value given for q", 4),
        ("W @ x", {"W": [[1, 2]], "x": [1, 2, 3]}, ["body", "expression"], "cannot apply @", 2),
        ("p[y]", {"p": [1, 2], "y": 5}, ["body", "expression"], "must lie in 0..1", 1),
        ("max(x)", {"x": 1}, ["body", "expression"], "takes 2 argument", 0),
        ("W", {"W": [[1, 2], [3]]}, ["body", "values", "W"], "rectangular", None),
    ],
)
def test_bad_input_says_what_and_where(client, expression, values, field, message, position):
    r = graph(client, expression, values)
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == field and message in error["msg"]
    assert error.get("position") == position


@pytest.mark.parametrize(
    "body",
    [
        {"values": {"x": 1}},  # no expression
        {"expression": "x", "values": {"x": "one"}},
        {"expression": "x", "values": {"x": [[[1]]]}},  # 3-D
        {"expression": "x", "values": {"1x": 1}},  # not a name
        {"expression": "x", "values": {"x": 1}, "h": 0},
        {"expression": "x", "values": {"x": 1}, "extra": True},
    ],
)
def test_schema_violations_are_422(client, body):
    r = client.post("/api/v1/graph", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "body"


def test_nan_in_values_is_rejected(client):
    r = client.post(
        "/api/v1/graph",
        content=b'{"expression": "x", "values": {"x": NaN}}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422


def test_limits_are_enforced_with_clear_messages():
    client = small_client(
        max_expression_length=20,
        max_expression_nodes=10,
        max_expression_depth=5,
        max_tensor_elements=4,
        max_body_bytes=2000,
    )
    assert "the limit is 20" in graph(client, "x" + " + x" * 10, {"x": 1}).json()["detail"][0]["msg"]
    assert "more than 10 nodes" in graph(client, "x+x+x+x+x+x+x", {"x": 1}).json()["detail"][0]["msg"]
    assert "deeper than 5" in graph(client, "((((((x))))))", {"x": 1}).json()["detail"][0]["msg"]
    r = graph(client, "sum(v)", {"v": [1, 2, 3, 4, 5]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "values", "v"]
    r = client.post(
        "/api/v1/graph",
        content=b"{" + b" " * 5000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def test_broadcasting_cannot_blow_up_the_graph(client):
    column = [[float(i)] for i in range(256)]
    row = list(range(256))
    r = graph(client, "sum(c + r) + sum(c * r)", {"c": column, "r": row})
    assert r.status_code == 422 and "more than 20000 numbers" in r.json()["detail"][0]["msg"]


def test_the_numerical_check_is_skipped_beyond_its_budget():
    client = small_client(max_numeric_work=10)
    r = graph(client, "sum(v * v)", {"v": [1, 2, 3, 4]})
    assert r.status_code == 200 and "skipped" in r.json()["check"]["notes"][0]


def test_symbolic_derivatives_show_swell_and_stop_printing_when_large():
    client = small_client(max_symbolic_print=30)
    r = graph(client, "exp(x * sin(x)) * x^3 / (1 + exp(-x))", {"x": 0.5})
    (x,) = r.json()["check"]["variables"]
    assert x["symbolic"]["size"] > r.json()["check"]["function_size"] and x["symbolic"]["text"] is None
    assert math.isclose(x["symbolic"]["value"], x["autodiff"], rel_tol=1e-9)


def test_gradient_descent_goes_downhill(client):
    r = client.post(
        "/api/v1/descent",
        json={"expression": "(w - 3)^2 + 1", "start": -1, "learning_rate": 0.3, "steps": 20},
    )
    steps = r.json()["steps"]
    assert r.status_code == 200 and len(steps) == 21 and abs(steps[-1]["theta"] - 3) < 1e-3
    assert all(a["loss"] >= b["loss"] for a, b in zip(steps, steps[1:]))


def test_gradient_descent_stops_when_it_diverges(client):
    r = client.post(
        "/api/v1/descent",
        json={"expression": "w^4", "start": 10, "learning_rate": 50, "steps": 100},
    )
    assert r.status_code == 200 and len(r.json()["steps"]) < 101


def test_descent_needs_a_loss_of_its_parameter(client):
    r = client.post("/api/v1/descent", json={"expression": "(v - 3)^2", "parameter": "w"})
    assert r.status_code == 422 and "one parameter w" in r.json()["detail"][0]["msg"]


def test_descent_steps_are_bounded_by_the_setting():
    client = small_client(max_descent_steps=5)
    r = client.post("/api/v1/descent", json={"expression": "(w - 3)^2", "steps": 6})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "steps"]


@pytest.mark.parametrize(
    "expression, x",
    [("log(x)", -1.0), ("sqrt(x)", 0.0), ("x^1000000", -2.0)],  # each showed "0" in green before
)
def test_a_gradient_check_outside_the_domain_is_never_a_perfect_match(client, expression, x):
    check = client.post("/api/v1/graph", json={"expression": expression, "values": {"x": x}}).json()["check"]
    assert check["variables"][0]["relative_error"] == "NaN"
    assert any("not finite within h" in note for note in check["notes"])


def test_the_descent_curve_is_the_loss_at_every_point_even_through_a_sum(client):
    answer = client.post("/api/v1/descent", json={"expression": "sum(w^2)", "start": 2, "steps": 3}).json()
    thetas, losses = answer["curve_theta"], answer["curve_loss"]
    assert losses == pytest.approx([t * t for t in thetas])  # was a flat line at the sum over the grid


def test_every_node_says_how_it_is_computed(client):
    values = {"x": 2, "y": 3, "W": [[1, 2], [3, 4]], "v": [1, -1]}
    source = "a = x + y; b = x - y; c = a * b; d = c / y; e = d ^ x; f = -e; g = max(f, x); h = min(g, y); " \
             "k = exp(h); m = W @ v; n = m[1]; o = cross_entropy(m, 0); out = k + n + o"  # fmt: skip
    nodes = {n["label"]: n["formula"] for n in client.post("/api/v1/graph", json={"expression": source,
             "values": values, "check": False}).json()["nodes"]}  # fmt: skip
    assert nodes["a"] == "x + y" and nodes["b"] == "x - y" and nodes["c"] == "a * b" and nodes["d"] == "c / y"
    assert nodes["e"] == "d ^ x" and nodes["f"] == "-e" and nodes["g"] == "max(f, x)" and nodes["h"] == "min(g, y)"
    assert nodes["k"] == "exp(h)" and nodes["m"] == "W @ v" and nodes["n"] == "m[1]"
    assert nodes["o"] == "cross_entropy(m, 0)"


@pytest.mark.parametrize(
    "expression, x, words",
    [("x ** 1000000", 2.0, "overflowed"), ("log(x) + 1", -1.0, "not a number"), ("exp(x) * 2", 1000.0, "overflowed")],
)
def test_where_a_value_stops_being_a_number_is_said(client, expression, x, words):
    warnings = client.post("/api/v1/graph", json={"expression": expression, "values": {"x": x}}).json()["warnings"]
    assert len(warnings) == 1 and words in warnings[0]  # the first node only: what follows inherits it


def test_finite_graphs_have_no_warning(client):
    assert client.post("/api/v1/graph", json={"expression": "x * 2", "values": {"x": 1}}).json()["warnings"] == []
