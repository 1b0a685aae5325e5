"""LeNet-5 learning live (lessons/live_lenet.py): a fresh network trained by minibatches."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepviz.lessons.lenet import LeNet5
from deepviz.lessons.live_lenet import LiveConfig, LiveLeNet
from tests.engine.oracle import torch_lenet


def test_a_few_steps_reduce_the_loss_and_raise_the_accuracy():
    run = LiveLeNet(LiveConfig(digits=512, validation=300, batch_size=32, lr=2e-3))
    before = run.evaluate()
    for _ in range(40):
        run.step()
    assert np.mean(run.losses[-8:]) < 0.7 * np.mean(run.losses[:8])
    assert run.evaluate() > before + 0.3  # ~10 % at random, ~70 % after 40 steps
    assert run.epoch == pytest.approx(40 * 32 / 512)


@settings(max_examples=6, deadline=None)
@given(optimizer=st.sampled_from(["adam", "sgd"]), batch=st.integers(1, 48), lr=st.floats(1e-4, 0.05))
def test_a_step_is_torchs_step_with_the_same_weights_and_batch(optimizer, batch, lr):
    run = LiveLeNet(LiveConfig(digits=100, validation=100, optimizer=optimizer, lr=lr, batch_size=batch, seed=3))
    before = LeNet5()
    before.load_state_dict({k: v.copy() for k, v in run.model.state_dict().items()})
    position = run.position
    x, y = run.batch()
    run.position = position  # the step takes the same batch
    run.step()
    forward, params = torch_lenet(before, trainable=True)
    reference = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(params, lr=lr)
    loss = torch.nn.functional.cross_entropy(forward(torch.tensor(x)), torch.tensor(y))
    loss.backward()
    reference.step()
    assert run.losses == [pytest.approx(loss.item(), rel=1e-5)]
    for (name, ours), theirs in zip(run.model.state_dict().items(), params):
        mine, torchs = ours, theirs.detach().numpy()
        if optimizer == "adam":
            # Adam's first step is lr·g/(|g| + eps): about lr·sign(g). Where a float32 gradient is
            # near 0, the two libraries' rounding moves the weight anywhere within ±lr; elsewhere
            # the steps agree.
            clear = np.abs(theirs.grad.numpy()) > 1e-5
            np.testing.assert_allclose(mine[clear], torchs[clear], atol=0.02 * lr, err_msg=name)
            np.testing.assert_allclose(mine, torchs, atol=1.01 * lr, err_msg=name)
        else:
            np.testing.assert_allclose(mine, torchs, atol=1e-6, err_msg=name)
        assert not np.allclose(ours, before.state_dict()[name]) or name.endswith("bias")


def test_set_changes_lr_and_batch_and_a_new_optimizer_only_when_it_changes():
    run = LiveLeNet(LiveConfig(digits=100, validation=100, batch_size=10))
    run.step()
    adam = run.optimizer
    run.set(lr=0.01, batch_size=20)
    assert run.optimizer is adam and adam.lr == 0.01
    run.step()
    assert run.seen == 30 and run.epoch == pytest.approx(0.3)
    run.set(optimizer="sgd")
    assert run.optimizer is not adam and run.optimizer.lr == 0.01
    run.reset()
    assert run.steps == 0 and run.losses == [] and run.config.batch_size == 20


def torch_rates(schedule: str, lr: float, steps: int) -> list[float]:
    """The learning rate torch's scheduler gives each of the first ``steps`` steps."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    make = {"constant": lambda o: torch.optim.lr_scheduler.ConstantLR(o, factor=1.0),
            "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=100, gamma=0.5),
            "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=1000)}  # fmt: skip
    scheduler, rates = make[schedule](optimizer), []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine"])
def test_each_steps_learning_rate_is_torchs_scheduler(schedule):
    run = LiveLeNet(LiveConfig(digits=100, validation=100, batch_size=1, lr=0.004, schedule=schedule))
    used = []
    for _ in range(210):
        run.step()
        used.append(run.optimizer.lr)
    np.testing.assert_allclose(used, torch_rates(schedule, 0.004, 210), rtol=1e-9)


def test_a_new_rate_or_schedule_goes_on_from_the_step_the_run_is_at():
    run = LiveLeNet(LiveConfig(digits=100, validation=100, batch_size=1, lr=0.004, schedule="step"))
    for _ in range(210):
        run.step()
    run.set(lr=0.001)
    assert run.lr_now == 0.001 / 4 and run.optimizer.lr == run.lr_now
    run.set(schedule="constant")
    assert run.lr_now == 0.001
    run.reset()
    assert run.steps == 0 and run.lr_now == 0.001


def test_the_accuracy_measured_in_chunks_is_the_accuracy_measured_at_once():
    run = LiveLeNet(LiveConfig(digits=200, validation=250))
    for _ in range(5):
        run.step()
    assert [run.evaluate(100), run.evaluate(100)] == [None, None]
    chunked = run.evaluate(100)
    assert chunked == run.evaluate() and not run.evaluating
    assert run.accuracies == [(5, chunked), (5, chunked)]


def test_the_accuracy_is_measured_every_20_steps_and_at_each_epochs_end():
    run = LiveLeNet(LiveConfig(digits=100, validation=50, batch_size=32))  # epochs of 4 steps: 32, 32, 32, 4
    for _ in range(21):
        if run.evaluating:
            run.evaluate()
        run.step()
    assert [step for step, _ in run.accuracies] == [0, 4, 8, 12, 16, 20] and not run.evaluating
    assert run.epoch == pytest.approx(5 + 32 / 100)
