"""The PyTorch program of a run (lessons/playground/program.py) is the run: executed with
torch, from the engine's initial weights and batches written into it, its loss curve equals
the engine's to 1e-4 over 200 steps, for every optimizer, with a schedule and with L2, for
each task. Dropout is left out: torch draws its own masks (the program says so)."""

import numpy as np
import pytest
import torch

from deepviz.lessons.playground.config import RunConfig
from deepviz.lessons.playground.program import program
from deepviz.lessons.playground.run import Run

STEPS = 200
pytestmark = pytest.mark.filterwarnings("ignore:Newton")  # where H + λI is not positive definite


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: torch's thread pool only contends with the other tests for the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def engine_curve(config: RunConfig) -> list[float]:
    run = Run(config)
    return [run.step() for _ in range(STEPS)]


def torch_curve(config: RunConfig) -> list[float]:
    namespace = {"__name__": "generated"}
    exec(compile(program(config, STEPS), "generated.py", "exec"), namespace)  # our own program
    return namespace["losses"]


def config(optimizer, data="xor", **train) -> RunConfig:
    base = {
        "data": {"name": data, "points": 60, "noise": 0.15, "test_fraction": 0.25, "seed": 2},
        "model": {"hidden": [5, 4], "activation": ["tanh", "relu"]},
        "train": {"optimizer": optimizer, **train},
        "seed": 3,
    }
    return RunConfig.from_dict(base)


CASES = [
    config("gd", lr=0.5, schedule="step"),
    config("sgd", lr=0.05, batch_size=1, schedule="cosine", l2=0.01),
    config("sgd", lr=0.2, batch_size=7, l2=0.003),  # 45 examples: the last batch of an epoch is partial
    config("momentum", lr=0.05, momentum=0.9, batch_size=10, schedule="step", l2=0.01),
    config("nesterov", lr=0.05, momentum=0.8, batch_size=10, schedule="cosine"),
    config("adam", lr=0.02, batch_size=10, schedule="step", l2=0.001),
    config("rmsprop", lr=0.005, batch_size=16, schedule="cosine", l2=0.01),
    config("newton", lr=1.0, damping=0.1, schedule="step", l2=0.01),  # Newton steps, and 6 gradient steps
    config("adam", data="spiral", lr=0.02, batch_size=12, l2=0.001),  # three classes: cross-entropy
    config("momentum", data="sine", lr=0.05, batch_size=8, schedule="cosine", l2=0.001),  # squared error
    config("newton", data="sine", lr=1.0, damping=0.1),
]


@pytest.mark.parametrize("config", CASES, ids=lambda c: f"{c.data.name}-{c.train.optimizer}-{c.train.batch_size}")
def test_the_program_gets_the_engines_loss_curve(config):
    engine, program_run = engine_curve(config), torch_curve(config)
    assert len(program_run) == len(engine) == STEPS
    np.testing.assert_allclose(program_run, engine, rtol=0, atol=1e-4)
    assert np.mean(engine[-50:]) < np.mean(engine[:50])  # it learned: the curves are not flat and equal


def test_a_different_start_would_show():
    """The comparison can fail: another seed's initial weights give another curve."""
    moved = RunConfig.from_dict({**CASES[0].to_dict(), "seed": 4})
    assert np.max(np.abs(np.subtract(engine_curve(moved), torch_curve(CASES[0])))) > 1e-3
