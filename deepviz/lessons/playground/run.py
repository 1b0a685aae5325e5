"""A run of the training lab: the loop of figure 2.1, one step at a time, so that a page can
watch it. Each ``step()`` takes a batch, computes the objective, its gradient (backward), and
lets the optimizer move θ; ``set`` changes how it is trained without starting again.

Which examples a step sees: ``gd`` and ``newton`` the whole training set; the others a
minibatch of ``batch_size`` from ``engine.data.DataLoader``, reshuffled every epoch by a
generator seeded with the run's ``seed`` (the program in ``program.py`` repeats it with numpy).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine import optim
from deepviz.engine.data import DataLoader
from deepviz.engine.tensor import Tensor
from deepviz.lessons.playground import datasets
from deepviz.lessons.playground.config import FULL_BATCH, RunConfig, TrainConfig
from deepviz.lessons.playground.model import DTYPE, MLP, loss, output_units

# Newton warns when H + λI is not positive definite; a run reports it in its frames instead.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"deepviz\.lessons\.playground\.run")

STEP_EVERY, STEP_FACTOR = 100, 0.5  # schedule "step": lr × 0.5 every 100 steps (torch's StepLR)
COSINE_STEPS = 1000  # schedule "cosine": lr (1 + cos(π t / 1000)) / 2 (torch's CosineAnnealingLR)


def scheduled_lr(lr: float, schedule: str, t: int) -> float:
    """The learning rate of step t (0, 1, …): torch's StepLR(step_size=100, gamma=0.5) or
    CosineAnnealingLR(T_max=1000) in closed form (past 1000 steps the cosine climbs back up,
    as torch's does)."""
    if schedule == "step":
        return lr * STEP_FACTOR ** (t // STEP_EVERY)
    if schedule == "cosine":
        return lr * (1 + math.cos(math.pi * t / COSINE_STEPS)) / 2
    return lr


def make_optimizer(params: list[Tensor], train: TrainConfig) -> optim.Optimizer:
    """The engine's optimizer for ``train.optimizer``; L2 as ``weight_decay`` (Newton: in
    its objective, see ``Run.objective``)."""
    name, lr, l2 = train.optimizer, train.lr, train.l2
    if name in ("gd", "sgd"):
        return optim.SGD(params, lr=lr, weight_decay=l2)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, lr=lr, momentum=train.momentum, weight_decay=l2, nesterov=name == "nesterov")
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=l2)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=l2)
    if name == "newton":
        return optim.Newton(params, lr=lr, damping=train.damping)
    raise ValueError(f"unknown optimizer {name!r}")


class Diverged(Exception):
    """The objective became infinite or NaN: the run stops there."""


class Run:
    """One training run of ``config``: its data split, its model from the seed's initial
    weights, its optimizer and its minibatches. ``step()`` trains one step and returns the
    objective's data term (the mean loss on the step's batch, before the step)."""

    def __init__(self, config: RunConfig):
        self.config = config
        d = config.data
        data = datasets.make(d.name, d.points, d.noise, d.seed, d.custom)
        self.task = data.task
        self.train_set, self.test_set = datasets.split(data, d.test_fraction, d.seed)
        sizes = [data.x.shape[1], *config.model.hidden, output_units(self.task)]
        self.model = MLP(sizes, config.model.activation, config.model.dropout, config.seed)
        self.initial = {name: value.copy() for name, value in self.model.state_dict().items()}
        self.x = self.train_set.x.astype(DTYPE)
        self.reset()

    @property
    def sizes(self) -> list[int]:
        return self.model.sizes

    def reset(self) -> None:
        """Back to the initial weights, step 0, the first minibatch, a fresh optimizer."""
        self.model.load_state_dict(self.initial)
        self.steps, self.examples, self.diverged = 0, 0, False
        self.newton: dict | None = None  # the last Newton step's report
        self.dropout_rng = np.random.default_rng([self.config.seed, 1])
        self._new_optimizer()
        self._new_loader()

    def set(self, **changes) -> None:
        """Change the training live: the weights stay; a new optimizer (fresh momentum and
        averages) when it or its settings change; new minibatches when the batch size does."""
        old = self.config.train
        self.config = self.config.with_train(**changes)
        new = self.config.train
        if (new.optimizer, new.momentum, new.damping) != (old.optimizer, old.momentum, old.damping) or (
            new.l2 != old.l2
        ):
            self._new_optimizer()
        if new.batch_size != old.batch_size:
            self._new_loader()

    def _new_optimizer(self) -> None:
        self.optimizer = make_optimizer(self.model.parameters(), self.config.train)

    def _new_loader(self) -> None:
        batch = min(self.config.train.batch_size, len(self.x))
        self.loader = DataLoader(np.arange(len(self.x)), batch_size=batch, seed=self.config.seed)
        self.batches = iter(self.loader)

    @property
    def lr(self) -> float:
        train = self.config.train
        return scheduled_lr(train.lr, train.schedule, self.steps)

    @property
    def epoch(self) -> float:
        return self.examples / len(self.x)

    def batch(self) -> np.ndarray:
        """The indices of the next step's examples."""
        if self.config.train.optimizer in FULL_BATCH:
            return np.arange(len(self.x))
        index = next(self.batches, None)
        if index is None:  # a new epoch, in a new order
            self.batches = iter(self.loader)
            index = next(self.batches)
        return index

    def objective(self, index: np.ndarray, rng: np.random.Generator | None) -> tuple[Tensor, Tensor]:
        """(data loss, J) on the examples ``index``: J adds (λ/2)‖θ‖² for Newton, whose
        optimizer has no weight_decay (the others add λθ to the gradient themselves)."""
        z = self.model.forward(Tensor(self.x[index]), rng)
        data_loss = loss(z, self.train_set.y[index], self.task)
        l2 = self.config.train.l2
        if self.config.train.optimizer == "newton" and l2:
            return data_loss, data_loss + F.l2_penalty(self.model.parameters(), l2)
        return data_loss, data_loss

    def step(self) -> float:
        """One step of the loop of figure 2.1; returns the batch's mean loss before it.
        Raises ``Diverged`` (and stays diverged) once the loss is not finite."""
        if self.diverged:
            raise Diverged
        index = self.batch()
        rng = self.dropout_rng if self.model.dropout > 0 else None
        self.optimizer.lr = self.lr
        with np.errstate(all="ignore"):
            if isinstance(self.optimizer, optim.Newton):
                data_loss = []

                def closure() -> Tensor:
                    value, j = self.objective(index, rng)
                    data_loss.append(value)
                    return j

                self.optimizer.step(closure)
                value = float(data_loss[0].data)
                self.newton = {
                    "fell_back": self.optimizer.fell_back,
                    "smallest_eigenvalue": self.optimizer.smallest_eigenvalue,
                }
            else:
                self.optimizer.zero_grad()
                data_loss, j = self.objective(index, rng)
                j.backward()
                self.optimizer.step()
                value = float(data_loss.data)
        self.steps += 1
        self.examples += len(index)
        if not math.isfinite(value) or not all(np.all(np.isfinite(p.data)) for p in self.model.parameters()):
            self.diverged = True
            raise Diverged
        return value
