"""Backpropagation through time (chapter 6): the unrolled recurrent network's expression,
evaluated by the engine, against the same network in torch: every gradient, and the size of
∂L/∂h_t at each time step."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepviz.lessons.expr import evaluate
from deepviz.lessons.expr.rnn import REGIMES, starting_values, through_time, unrolled


def values_of(text: str) -> dict[str, float]:
    return {name.strip(): float(value) for name, value in (part.split("=") for part in text.split(","))}


def torch_rnn(values: dict[str, float], steps: int):
    """The same network in torch: each h_t keeps its gradient (retain_grad)."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    hs = [t["h0"]]
    for step in range(1, steps + 1):
        h = torch.tanh(t["w"] * hs[-1] + t["u"] * t[f"x{step}"])
        h.retain_grad()
        hs.append(h)
    hs[-1].backward()  # L = h_T
    return t, hs


def assert_matches_torch(values: dict[str, float], steps: int):
    run = evaluate(unrolled(steps), values)
    t, hs = torch_rnn(values, steps)
    assert run.value == pytest.approx(hs[-1].item(), rel=1e-12, abs=1e-15)
    for name, tensor in t.items():  # w, u, h0, x1..xT
        np.testing.assert_allclose(run.gradients[name], tensor.grad.item(), rtol=1e-9, atol=1e-15, err_msg=name)
    found = through_time(run)
    assert [s.t for s in found] == list(range(steps + 1))
    assert [s.label for s in found] == [f"h{t}" for t in range(steps + 1)]
    expected = [abs(h.grad.item()) if h.grad is not None else None for h in hs]
    expected[0] = abs(t["h0"].grad.item())  # a leaf: its .grad
    # L = h_T: ∂L/∂h_T = 1 sets the scale of the absolute tolerance
    np.testing.assert_allclose([s.norm for s in found], expected, rtol=1e-9, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.integers(1, 12),
    w=st.floats(-4, 4),
    u=st.floats(-2, 2),
    h0=st.floats(-1, 1),
    inputs=st.lists(st.floats(-2, 2), min_size=12, max_size=12),
)
def test_every_gradient_and_each_steps_norm_match_torch(steps, w, u, h0, inputs):
    values = {"w": w, "u": u, "h0": h0, **{f"x{t}": inputs[t - 1] for t in range(1, steps + 1)}}
    assert_matches_torch(values, steps)


@pytest.mark.parametrize("regime", sorted(REGIMES))
@pytest.mark.parametrize("steps", [1, 6, 12])
def test_the_presets_values_match_torch(regime, steps):
    assert_matches_torch(values_of(starting_values(steps, regime)), steps)


def test_vanishing_shrinks_every_step_back_and_exploding_triples():
    vanishing = through_time(evaluate(unrolled(8), values_of(starting_values(8, "vanishing"))))
    norms = [s.norm for s in vanishing]
    assert norms[-1] == 1 and all(a < 0.5 * b for a, b in zip(norms, norms[1:]))  # |w·tanh'| ≤ 0.5
    exploding = through_time(evaluate(unrolled(8), values_of(starting_values(8, "exploding"))))
    assert [s.norm for s in exploding] == [3.0 ** (8 - t) for t in range(9)]  # h_t = 0: tanh' = 1


def test_the_expression_names_each_step():
    assert unrolled(2) == "a1 = w * h0 + u * x1; h1 = tanh(a1); a2 = w * h1 + u * x2; h2 = tanh(a2); L = h2"
    assert starting_values(2, "exploding") == "w = 3, u = 1, h0 = 0, x1 = 0, x2 = 0"
    assert starting_values(14).endswith("x12 = -0.5, x13 = 0.5, x14 = -1")  # the inputs repeat
    with pytest.raises(ValueError):
        unrolled(0)


def test_no_steps_named_h_no_norms_and_none_before_the_backward_pass():
    assert through_time(evaluate("(x + y) * z", {"x": 1, "y": 2, "z": 3})) == []
    run = evaluate(unrolled(3), values_of(starting_values(3)), backward=False)
    assert [s.norm for s in through_time(run)] == [None] * 4
