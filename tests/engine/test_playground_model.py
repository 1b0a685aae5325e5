"""The training lab's model and run: the MLP against a torch MLP with the same weights
(outputs and every parameter's gradient, for each task and activation), the schedules
against torch's schedulers, the seed deciding the run, reset and live changes."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepviz.engine.tensor import Tensor
from deepviz.lessons.playground.config import RunConfig
from deepviz.lessons.playground.frame import GRID, frame, model_message
from deepviz.lessons.playground.model import MLP, formula, loss
from deepviz.lessons.playground.run import Diverged, Run, scheduled_lr

TORCH_ACTIVATION = {"relu": torch.nn.ReLU(), "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid()}
TORCH_LOSS = {
    "binary": lambda z, y: torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], y.double()),
    "multiclass": lambda z, y: torch.nn.functional.cross_entropy(z, y),
    "regression": lambda z, y: torch.nn.functional.mse_loss(z[:, 0], y.double()),
}


def torch_twin(model: MLP) -> torch.nn.Sequential:
    layers = []
    for i, layer in enumerate(model.layers):
        linear = torch.nn.Linear(*layer.weight.shape[::-1]).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weight.data))
            linear.bias.copy_(torch.from_numpy(layer.bias.data))
        layers.append(linear)
        if i < len(model.activation):
            layers.append(TORCH_ACTIVATION[model.activation[i]])
    return torch.nn.Sequential(*layers)


@given(
    hidden=st.lists(st.integers(1, 16), max_size=4),
    data=st.data(),
    task=st.sampled_from(["binary", "multiclass", "regression"]),
    seed=st.integers(0, 1000),
)
def test_the_mlp_and_its_loss_are_torchs(hidden, data, task, seed):
    activation = data.draw(st.lists(st.sampled_from(["relu", "tanh", "sigmoid"]), min_size=len(hidden),
                                    max_size=len(hidden)))  # fmt: skip
    d_in, d_out = (1, 1) if task == "regression" else (2, 3 if task == "multiclass" else 1)
    model = MLP([d_in, *hidden, d_out], activation, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (13, d_in))
    y = rng.uniform(-1, 1, 13) if task == "regression" else rng.integers(0, 3 if task == "multiclass" else 2, 13)
    value = loss(model(Tensor(x)), y, task)
    value.backward()
    twin = torch_twin(model)
    expected = TORCH_LOSS[task](twin(torch.from_numpy(x)), torch.from_numpy(y))
    expected.backward()
    assert float(value.data) == pytest.approx(expected.item(), rel=1e-10, abs=1e-12)
    theirs = [p.grad.numpy() for p in twin.parameters()]
    for ours, want in zip(model.parameters(), theirs):
        np.testing.assert_allclose(ours.grad, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine"])
def test_the_schedules_are_torchs(schedule):
    parameter = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([parameter], lr=0.1)
    scheduler = {
        "constant": torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0),
        "step": torch.optim.lr_scheduler.StepLR(opt, step_size=100, gamma=0.5),
        "cosine": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000),
    }[schedule]
    for t in range(1500):
        assert scheduled_lr(0.1, schedule, t) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-15)
        opt.step()
        scheduler.step()


def test_the_seed_decides_the_weights_and_reset_returns_to_them():
    a, b = Run(RunConfig()), Run(RunConfig())
    c = Run(RunConfig.from_dict({"seed": 1}))
    assert np.array_equal(a.model.layers[0].weight.data, b.model.layers[0].weight.data)
    assert not np.array_equal(a.model.layers[0].weight.data, c.model.layers[0].weight.data)
    first = [a.step() for _ in range(30)]
    a.reset()
    assert a.steps == 0 and [a.step() for _ in range(30)] == first  # the same batches and optimizer again


def test_set_changes_the_training_live_and_keeps_the_weights():
    run = Run(RunConfig())
    for _ in range(20):
        run.step()
    weights = run.model.layers[0].weight.data.copy()
    run.set(lr=0.5, optimizer="momentum", batch_size=3)
    assert run.steps == 20 and np.array_equal(run.model.layers[0].weight.data, weights)
    assert run.lr == 0.5 and len(run.batch()) == 3
    run.step()
    assert not np.array_equal(run.model.layers[0].weight.data, weights)
    with pytest.raises(ValueError, match="no field"):
        run.set(speed=3)


def test_a_run_that_diverges_stops():
    run = Run(RunConfig.from_dict({"data": {"name": "sine"}, "train": {"optimizer": "gd", "lr": 1e6}}))
    with pytest.raises(Diverged):
        for _ in range(100):
            run.step()
    assert run.diverged and frame(run)["stopped"] == "diverged"
    with pytest.raises(Diverged):
        run.step()


@pytest.mark.filterwarnings("ignore:Newton")
def test_newton_reports_its_step():
    # no hidden layer: logistic regression, whose objective is convex (H positive semi-definite)
    convex = Run(RunConfig.from_dict({"data": {"name": "blobs"}, "model": {"hidden": [], "activation": []},
                                      "train": {"optimizer": "newton", "lr": 1.0, "damping": 0.01}}))  # fmt: skip
    first = convex.step()
    assert convex.newton["fell_back"] is False and convex.newton["smallest_eigenvalue"] >= 0.01 - 1e-9
    assert convex.step() < first
    # a hidden layer from small weights: near a saddle, where H has negative eigenvalues
    saddle = Run(RunConfig.from_dict({"data": {"name": "xor"}, "train": {"optimizer": "newton", "damping": 0.0}}))
    saddle.step()
    assert saddle.newton["fell_back"] is True and saddle.newton["smallest_eigenvalue"] < 0


@pytest.mark.parametrize("name", ["xor", "spiral", "sine"])
def test_a_frame_has_what_the_page_draws(name):
    run = Run(
        RunConfig.from_dict({"data": {"name": name}, "model": {"hidden": [4, 3], "activation": ["relu", "tanh"]}})
    )
    f = frame(run)
    assert f["step"] == 0 and f["train_loss"] > 0 and f["test_loss"] > 0
    assert [len(layer) for layer in f["units"]] == [4, 3]
    grid = GRID if name == "sine" else GRID * GRID
    assert all(u["values"].shape == (grid,) and u["min"] <= u["max"] for layer in f["units"] for u in layer)
    assert [np.shape(w["w"]) for w in f["weights"]] == [(4, run.sizes[0]), (3, 4), (run.sizes[-1], 3)]
    if name == "sine":
        assert len(f["boundary"]["curve"]) == GRID and f["train_accuracy"] is None
    else:
        assert f["boundary"]["label"].shape == (GRID * GRID,) and f["boundary"]["label"].max() < run.train_set.classes
        assert 0 <= f["test_accuracy"] <= 1 and f["boundary"]["confidence"].min() >= 255 // run.train_set.classes
    m = model_message(run)
    assert m["parameters"] == sum(a * b + b for a, b in zip(run.sizes, run.sizes[1:]))
    assert len(m["points"]["train"]) + len(m["points"]["test"]) == 200


def test_the_formula_names_each_layer_and_the_objective():
    text = formula([2, 8, 3], ["relu"], "multiclass", 0.01)
    assert r"\operatorname{ReLU}(W_1 x + b_1)" in text and r"\operatorname{softmax}(W_2 h_1 + b_2)" in text
    assert r"\mathbb{R}^{3 \times 8}" in text and r"\frac{0.01}{2}" in text
