"""LeNet-5 learning live (/lenet-live): a fresh LeNet-5 from seeded random weights, trained
by minibatches on a subset of MNIST's training digits, with the learning rate and the batch
size changeable while it runs, and measured on a subset of the validation digits.

A session holds indices into the MNIST arrays loaded once per process, not copies: a class of
thirty sessions of 10,000 digits shares one 160 MB array instead of holding 30 × 31 MB.
Evaluating is done a chunk at a time (``evaluate(chunk)``), with the weights unchanged between
the chunks, so that the server can spread it over several short turns."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine import optim
from deepviz.engine.tensor import Tensor, no_grad
from deepviz.lessons import lenet
from deepviz.lessons.lenet import Inference, LeNet5
from deepviz.lessons.mnist import Mnist, load
from deepviz.lessons.playground.config import SCHEDULES
from deepviz.lessons.playground.run import scheduled_lr

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class LiveConfig:
    digits: int = 2000  # training digits, the first of a seeded shuffle of MNIST's 50,000
    validation: int = 1000  # the first validation digits, the accuracy is measured on
    optimizer: str = "adam"  # "adam", or "sgd" (plain minibatch gradient descent)
    lr: float = 5e-3  # the first steps' rate; the schedule scales it
    # the training lab's schedules (SCHEDULES): "step" halves the rate every 100 steps. With lr
    # 0.005 and batch 32, one epoch on 10,000 digits ends at 95.5–97.4 % of the first 1,000
    # validation digits over 10 seeds, where a constant 0.002 ended at 93.9–95.6 %
    # (docs/lenet-live.md's table)
    schedule: str = "step"
    batch_size: int = 32
    seed: int = 0  # the initial weights and the order of the minibatches
    probe: int = 0  # the validation digit whose activations the page shows
    evaluate_every: int = 20  # steps between two measures of the validation accuracy (and one at each epoch's end)


class Diverged(Exception):
    pass


class LiveLeNet:
    def __init__(self, config: LiveConfig, data: Mnist | None = None):
        self.data = data or load()
        if not 1 <= config.digits <= len(self.data.train):
            raise ValueError(f"digits is 1–{len(self.data.train)}, not {config.digits}")
        if not 1 <= config.validation <= len(self.data.validation) or not 0 <= config.probe < len(self.data.validation):
            raise ValueError("validation and probe lie within MNIST's validation set")
        if config.schedule not in SCHEDULES:
            raise ValueError(f"schedule is one of {', '.join(SCHEDULES)}, not {config.schedule!r}")
        self.config = config
        self.subset = np.random.default_rng(config.seed).permutation(len(self.data.train))[: config.digits]
        self.reset()

    def reset(self) -> None:
        """The run from its initial weights, its first minibatches again, a fresh optimizer."""
        self.model = LeNet5(seed=self.config.seed)
        self.optimizer = self._optimizer()
        self.rng = np.random.default_rng(self.config.seed)
        self.order, self.position = self.rng.permutation(len(self.subset)), 0
        self.steps, self.seen = 0, 0  # optimizer steps, training digits seen (epochs = seen / digits)
        self.losses: list[float] = []  # the minibatch's loss before each step
        self.accuracies: list[tuple[int, float]] = []  # (step, validation accuracy)
        self.diverged = False
        self._correct, self._checked = 0, 0  # the evaluation under way
        self._due = True  # the initial weights are measured too

    def _optimizer(self) -> optim.Optimizer:
        params, c = self.model.parameters(), self.config
        return optim.Adam(params, lr=c.lr) if c.optimizer == "adam" else optim.SGD(params, lr=c.lr)

    def set(self, lr: float | None = None, batch_size: int | None = None, optimizer: str | None = None,
            schedule: str | None = None) -> None:  # fmt: skip
        """Change the settings between two steps; a new optimizer (its state lost) only when
        the optimizer itself changes. The schedule goes on from the step the run is at."""
        given = {"lr": lr, "batch_size": batch_size, "optimizer": optimizer, "schedule": schedule}
        old = self.config
        self.config = replace(old, **{k: v for k, v in given.items() if v is not None})
        if self.config.optimizer != old.optimizer:
            self.optimizer = self._optimizer()
        self.optimizer.lr = self.lr_now

    @property
    def lr_now(self) -> float:
        """The learning rate of the next step: the schedule's, at the step the run is at."""
        return scheduled_lr(self.config.lr, self.config.schedule, self.steps)

    @property
    def epoch(self) -> float:
        return self.seen / len(self.subset)

    @property
    def evaluating(self) -> bool:
        """An evaluation is due or under way: the server finishes it before the next step."""
        return self._due

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next minibatch of the subset, in a fresh seeded order each epoch."""
        n = len(self.subset)
        if self.position >= n:
            self.order, self.position = self.rng.permutation(n), 0
        index = self.subset[self.order[self.position : self.position + self.config.batch_size]]
        self.position += len(index)
        return self.data.train.images[index], self.data.train.labels[index]

    def step(self) -> float:
        """One optimizer step on the next minibatch; its loss before the step."""
        if self.diverged:
            raise Diverged
        x, y = self.batch()
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(Tensor(x)), y)
        value = float(loss.data)
        if not np.isfinite(value):
            self.diverged = True
            raise Diverged
        loss.backward()
        self.optimizer.lr = self.lr_now
        self.optimizer.step()
        self.steps, self.seen = self.steps + 1, self.seen + len(y)
        self.losses.append(value)
        if self.steps % self.config.evaluate_every == 0 or self.position >= len(self.subset):
            self._due = True  # every evaluate_every steps, and at the end of each epoch
        return value

    def evaluate(self, chunk: int | None = None) -> float | None:
        """Measure the next ``chunk`` validation digits (all that are left when None); the
        accuracy once the whole validation subset is measured, else None."""
        split, n = self.data.validation, self.config.validation
        end = n if chunk is None else min(n, self._checked + chunk)
        with no_grad():
            logits = self.model(Tensor(split.images[self._checked : end])).data
        self._correct += int(np.sum(logits.argmax(axis=1) == split.labels[self._checked : end]))
        self._checked = end
        if end < n:
            return None
        accuracy = self._correct / n
        self.accuracies.append((self.steps, accuracy))
        self._correct, self._checked, self._due = 0, 0, False
        return accuracy

    def probe(self) -> tuple[Inference, np.ndarray]:
        """The probe digit through the network as it is now: activations, probabilities."""
        image = self.data.validation.images[self.config.probe, 0]
        return lenet.infer(self.model, image[None]), image

    def probe_label(self) -> int:
        return int(self.data.validation.labels[self.config.probe])

    def kernels(self) -> dict[str, np.ndarray]:
        return {"conv1": self.model.conv1.weight.data, "conv2": self.model.conv2.weight.data}

    def read(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """A 28×28 image's probabilities by this network and by the one that ships."""
        with no_grad():
            return {
                "live": F.softmax(self.model(Tensor(image.reshape(1, 1, 28, 28))), dim=1).data[0],
                "shipped": F.softmax(lenet.load_pretrained()(Tensor(image.reshape(1, 1, 28, 28))), dim=1).data[0],
            }
