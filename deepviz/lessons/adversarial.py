"""Adversarial examples (chapter 8): small changes to a digit's pixels, chosen with the
network's own input gradient, that change what the network reads.

An attack moves the image x (pixels in [0, 1]) within a box of half-width ε around it, the
L∞ ball ‖x' - x‖∞ ≤ ε, so that no pixel changes by more than ε:

- untargeted, it climbs the loss of the class the image is read as now:
  x' = x + ε · sign(∇ₓ L(x, y));
- targeted ("read it as a 3"), it descends the loss of the target class t:
  x' = x - ε · sign(∇ₓ L(x, t)).

One such step is the fast gradient sign method (FGSM, Goodfellow et al., 2015). The iterated
attack (Kurakin et al., 2017; "projected gradient descent" in Madry et al., 2018) takes
``steps`` smaller steps of size α, and after each puts the image back in the box and in
[0, 1]. The gradients come from the engine's backward pass, as the saliency maps do.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine import nn
from deepviz.engine.tensor import Tensor, no_grad
from deepviz.lessons import lenet

# the two LeNet-5s the page switches between: the one /lenet serves, and one trained by
# `deepviz train lenet --adversarial-epsilon 0.1` (its manifest says how, beside it)
WEIGHTS = {"standard": lenet.WEIGHTS, "robust": lenet.WEIGHTS.with_name("lenet5_robust.npz")}
# accuracy against ε of both, measured by bench/robustness.py (it writes this file)
CURVES = lenet.WEIGHTS.with_name("robustness.json")

# the step of the iterated attack: α = STEP_SCALE · ε / steps, so that the steps together
# can travel 2.5 ε, reach the box's edge and still move along it (Madry et al. use 2.5 too);
# with one step the projection cuts it back to ε: FGSM
STEP_SCALE = 2.5


def load(name: str) -> lenet.LeNet5:
    """The shipped model ``name`` ("standard" or "robust"), frozen and shared."""
    return lenet.load_pretrained(WEIGHTS[name])


def manifest(name: str) -> dict:
    return lenet.manifest(WEIGHTS[name].with_suffix(".json"))


@contextmanager
def frozen(model: nn.Module) -> Iterator[None]:
    """The model's parameters want no gradient inside: a backward pass then computes the
    input's gradient only (the convolutions skip their weights' gradients)."""
    params = model.parameters()
    wanted = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, w in zip(params, wanted):
            p.requires_grad = w


def loss_gradient(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """∇ₓ L for each image: the gradient of its own cross-entropy loss against ``labels``
    with respect to its pixels, (N, 1, 28, 28). The batch's loss is the mean, so it is
    multiplied by N to give each image the gradient of its own loss."""
    x = Tensor(np.asarray(images, dtype=np.float32), requires_grad=True)
    labels = np.asarray(labels)
    loss = F.cross_entropy(model(x), labels) * len(labels)
    loss.backward()
    return x.grad


def _as_column(epsilon, n: int) -> np.ndarray:
    """ε as one number per image, shaped to broadcast over (N, 1, 28, 28)."""
    return np.broadcast_to(np.asarray(epsilon, dtype=np.float32), (n,)).reshape(n, 1, 1, 1)


def fgsm(model: nn.Module, images: np.ndarray, labels: np.ndarray, epsilon, targeted: bool = False) -> np.ndarray:
    """One step of the fast gradient sign method, clipped to [0, 1]. Untargeted, ``labels``
    are the classes to move away from; targeted, the classes to move towards. ``epsilon``
    is a number or one per image."""
    images = np.asarray(images, dtype=np.float32)
    direction = -1.0 if targeted else 1.0
    step = _as_column(epsilon, len(images)) * np.sign(loss_gradient(model, images, labels))
    return np.clip(images + direction * step, 0.0, 1.0)


def iterated(model: nn.Module, images: np.ndarray, labels: np.ndarray, epsilon, steps: int,
             targeted: bool = False, between: Callable[[], None] | None = None) -> np.ndarray:  # fmt: skip
    """``steps`` signed-gradient steps of α = 2.5 ε / steps, each followed by a projection
    onto the L∞ box of half-width ε around the original images and onto [0, 1]. One step is
    FGSM. ``between`` is called before each step (a request's budget: it raises to stop)."""
    x0 = np.asarray(images, dtype=np.float32)
    eps = _as_column(epsilon, len(x0))
    alpha = STEP_SCALE * eps / steps
    direction = -1.0 if targeted else 1.0
    x = x0.copy()
    for _ in range(steps):
        if between:
            between()
        x = x + direction * alpha * np.sign(loss_gradient(model, x, labels))
        x = np.clip(np.clip(x, x0 - eps, x0 + eps), 0.0, 1.0)  # back in the box, then in [0, 1]
    return x


def attack(model: nn.Module, images: np.ndarray, labels: np.ndarray, epsilon, steps: int = 1,
           targeted: bool = False, between: Callable[[], None] | None = None) -> np.ndarray:  # fmt: skip
    """FGSM when ``steps`` is 1, else the iterated attack."""
    if steps == 1:
        return fgsm(model, images, labels, epsilon, targeted)
    return iterated(model, images, labels, epsilon, steps, targeted, between)


def probabilities(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """softmax of the logits, (N, 10), by the engine."""
    with no_grad():
        return F.softmax(model(Tensor(np.asarray(images, dtype=np.float32))), dim=1).data


@dataclass
class Attack:
    """One image attacked, with what the page shows."""

    original: np.ndarray  # (28, 28)
    pixels: np.ndarray  # (28, 28) the perturbed image
    before: np.ndarray  # (10,) probabilities of the original
    after: np.ndarray  # (10,) probabilities of the perturbed image
    prediction_before: int
    prediction: int
    target: int | None
    flipped: bool  # untargeted: read as another class; targeted: read as the target

    @property
    def perturbation(self) -> np.ndarray:
        return self.pixels - self.original

    @property
    def linf(self) -> float:
        return float(np.max(np.abs(self.perturbation)))


def succeeded(prediction_before: int, prediction: int, target: int | None) -> bool:
    return prediction == target if target is not None else prediction != prediction_before


def attack_one(model: nn.Module, pixels: np.ndarray, epsilon: float, steps: int, target: int | None = None,
               between: Callable[[], None] | None = None) -> Attack:  # fmt: skip
    """Attack one 28×28 image. Untargeted, it moves away from the class the network reads
    now (a drawn digit has no true label: the network's own reading stands in for it)."""
    x = np.asarray(pixels, dtype=np.float32).reshape(1, 1, 28, 28)
    before = probabilities(model, x)[0]
    read = int(before.argmax())
    labels = np.array([read if target is None else target])
    adversarial = attack(model, x, labels, epsilon, steps, target is not None, between)
    after = probabilities(model, adversarial)[0]
    prediction = int(after.argmax())
    return Attack(x[0, 0], adversarial[0, 0], before, after, read, prediction, target,
                  succeeded(read, prediction, target))  # fmt: skip


@dataclass
class Search:
    """What the smallest-ε search found: ``epsilon`` succeeds (None: not even the grid's
    largest), ``below`` (the largest ε tried that fails, 0 if none) does not; ``exact`` when
    they are neighbours on the grid, False when time ran out first (``epsilon`` is then an
    upper bound)."""

    epsilon: float | None
    below: float
    exact: bool
    attacks: int  # how many attacks were run


def smallest_epsilon(model: nn.Module, pixels: np.ndarray, steps: int, target: int | None, grid: np.ndarray,
                     between: Callable[[], None] | None = None, seconds: float = math.inf) -> Search:  # fmt: skip
    """The smallest ε of the increasing ``grid`` at which the attack succeeds, by bisection
    (about log₂ of the grid's length attacks). Bisection assumes that a larger box succeeds
    whenever a smaller one does: nearly always, not a theorem (a larger ε also means larger
    steps), so the answer is an ε that succeeds beside one that does not. ``between`` is
    called before each attack's step; once the next attack would end past ``seconds`` (judged
    by the slowest so far), the search stops with the bracket it has."""
    x = np.asarray(pixels, dtype=np.float32).reshape(1, 1, 28, 28)
    read = int(probabilities(model, x)[0].argmax())
    if target is not None and read == target:
        return Search(0.0, 0.0, True, 0)
    labels = np.array([read if target is None else target])
    began, slowest, attacks = time.perf_counter(), 0.0, 0

    def flips(eps: float) -> bool:
        nonlocal slowest, attacks
        if between:
            between()  # FGSM has one step and no loop: the budget is checked here too
        start = time.perf_counter()
        adversarial = attack(model, x, labels, eps, steps, target is not None, between)
        found = succeeded(read, int(probabilities(model, adversarial)[0].argmax()), target)
        slowest, attacks = max(slowest, time.perf_counter() - start), attacks + 1
        return found

    if not flips(float(grid[-1])):
        return Search(None, float(grid[-1]), True, attacks)
    lo, hi = -1, len(grid) - 1  # grid[hi] succeeds; grid[lo] fails (lo = -1: ε = 0)
    while hi - lo > 1:
        if time.perf_counter() - began + slowest > seconds:
            break
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if flips(float(grid[mid])) else (mid, hi)
    return Search(float(grid[hi]), float(grid[lo]) if lo >= 0 else 0.0, hi - lo == 1, attacks)


def robust_accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray, epsilon: float, steps: int,
                    batch_size: int = 500) -> float:  # fmt: skip
    """The fraction of images still read correctly after an untargeted attack of size ε
    (FGSM when ``steps`` is 1) that knows their true labels: what bench/robustness.py plots."""
    correct = 0
    for i in range(0, len(images), batch_size):
        x, y = images[i : i + batch_size], labels[i : i + batch_size]
        adversarial = attack(model, x, y, epsilon, steps) if epsilon > 0 else x
        correct += int(np.sum(probabilities(model, adversarial).argmax(axis=1) == y))
    return correct / len(images)


def grid(top: float, resolution: float) -> np.ndarray:
    """The ε the smallest-ε search tries: resolution, 2·resolution, … up to top."""
    return np.arange(1, int(np.floor(top / resolution + 1e-9)) + 1) * resolution


DIGITS = lenet.WEIGHTS.with_name("adversarial_digits.npz")


def save_digits(images: np.ndarray, labels: np.ndarray, per_class: int = 2) -> None:
    """The first ``per_class`` test digits of each class that both models read right: the
    page's gallery of digits to attack (as bytes)."""
    right = np.ones(len(images), dtype=bool)
    for name in WEIGHTS:
        read = [probabilities(load(name), images[i : i + 1000]).argmax(axis=1) for i in range(0, len(images), 1000)]
        right &= np.concatenate(read) == labels
    index = np.concatenate([np.flatnonzero(right & (labels == c))[:per_class] for c in range(10)])
    np.savez_compressed(DIGITS, index=index, images=np.round(images[index, 0] * 255).astype(np.uint8),
                        labels=labels[index])  # fmt: skip


@lru_cache(maxsize=1)
def digits() -> dict[str, np.ndarray]:
    with np.load(DIGITS) as found:
        return {k: found[k] for k in found.files}


def curves() -> dict:
    """What bench/robustness.py measured (see CURVES)."""
    return json.loads(CURVES.read_text())
