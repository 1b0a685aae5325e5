"""The training lab's datasets: small, seeded, in the square [-1, 1]² (the sine's x in
[-1, 1]), the pipeline of notes 1.2 in miniature: a dataset, then a training set and a
held-out test set.

    >>> data = make("xor", points=200, noise=0.1, seed=0)
    >>> data.x.shape, data.y.dtype.name, data.classes, data.task
    ((200, 2), 'int64', 2, 'binary')
    >>> train, test = split(data, test_fraction=0.3, seed=0)
    >>> len(train), len(test)
    (140, 60)

Classification sets have integer labels 0, 1 (and 2 for the spiral's third arm); the sine is
a regression whose targets are floats. ``noise`` is the standard deviation of Gaussian jitter
added to every coordinate (and to the sine's targets) after the labels are decided, so that a
noisy point can land on the other class's side; points are then clipped to the square.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NAMES = ("blobs", "xor", "circles", "moons", "spiral", "sine", "custom")
CLASSES = {"blobs": 2, "xor": 2, "circles": 2, "moons": 2, "spiral": 3, "sine": 0}  # 0: regression

# Each random draw has its own stream of the seed, so that changing the split does not move
# the points, and changing the number of points does not change which fraction is held out.
_POINTS, _SPLIT = 0, 1


@dataclass(frozen=True)
class Dataset:
    """Inputs ``x`` (n, d) float32, d = 2 (d = 1 for the sine), and ``y`` (n,): int64 class
    labels, or float32 targets for a regression (``classes == 0``)."""

    x: np.ndarray
    y: np.ndarray
    classes: int
    name: str = ""

    @property
    def task(self) -> str:
        """``binary`` (2 classes: one logit), ``multiclass`` (3: softmax) or ``regression``."""
        return "regression" if self.classes == 0 else "binary" if self.classes == 2 else "multiclass"

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, index: np.ndarray) -> Dataset:
        return Dataset(self.x[index], self.y[index], self.classes, self.name)


def make(
    name: str,
    points: int = 200,
    noise: float = 0.1,
    seed: int = 0,
    custom: Sequence[Sequence[float]] | None = None,
) -> Dataset:
    """``points`` examples of the dataset ``name`` (one of ``NAMES``), jittered by ``noise``,
    the same for the same seed. The classes take turns (as equal in size as ``points``
    allows) and the examples come in a shuffled order. ``custom`` takes the student's own
    points as ``[x, y, label]`` rows instead (label 0, 1 or 2; ``points``, ``noise`` and
    ``seed`` are then unused): three classes if any label is 2, else two."""
    if name == "custom":
        return _custom(custom)
    if name not in CLASSES:
        raise ValueError(f"unknown dataset {name!r}: one of {', '.join(NAMES)}")
    if points < 1 or noise < 0:
        raise ValueError(f"a dataset needs points ≥ 1 and noise ≥ 0, not points={points}, noise={noise}")
    rng = np.random.default_rng([seed, _POINTS])
    if name == "sine":
        x = rng.uniform(-1, 1, points)
        y = 0.8 * np.sin(np.pi * x) + noise * rng.standard_normal(points)
        return Dataset(x.reshape(-1, 1).astype(np.float32), np.clip(y, -1, 1).astype(np.float32), 0, name)
    labels = rng.permutation(np.arange(points) % CLASSES[name])  # classes in turn, then shuffled
    x = _SHAPES[name](labels, rng)  # (n, 2), before the noise
    x = x + noise * rng.standard_normal(x.shape)
    return Dataset(np.clip(x, -1, 1).astype(np.float32), labels.astype(np.int64), CLASSES[name], name)


def split(data: Dataset, test_fraction: float = 0.3, seed: int = 0) -> tuple[Dataset, Dataset]:
    """(train, test): ``round(test_fraction · n)`` examples, chosen by ``seed``, held out for
    the test metric; the training set keeps at least one. Each keeps the dataset's order."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction is in [0, 1), not {test_fraction}")
    n = len(data)
    n_test = min(round(test_fraction * n), n - 1)
    held_out = np.zeros(n, dtype=bool)
    held_out[np.random.default_rng([seed, _SPLIT]).permutation(n)[:n_test]] = True
    return data.subset(np.flatnonzero(~held_out)), data.subset(np.flatnonzero(held_out))


# ------------------------------------------------------------------ the shapes, before noise


def _blobs(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two round clouds around (-0.5, -0.5) and (0.5, 0.5): a straight line separates them."""
    centres = np.array([[-0.5, -0.5], [0.5, 0.5]])
    return centres[labels] + 0.15 * rng.standard_normal((len(labels), 2))


def _xor(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class 1 in the quadrants where x·y > 0, class 0 where x·y < 0: no line separates them.
    Points keep 0.05 away from the axes, so that without noise every label is clear."""
    n = len(labels)
    magnitude = rng.uniform(0.05, 1, (n, 2))
    sign_x = rng.choice([-1.0, 1.0], n)
    sign_y = np.where(labels == 1, sign_x, -sign_x)  # same signs: x·y > 0
    return magnitude * np.stack([sign_x, sign_y], axis=1)


def _circles(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class 0 in a disc of radius 0.5, class 1 in a ring from 0.7 to 1 around it."""
    n = len(labels)
    radius = np.where(labels == 0, 0.5 * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0.7, 1, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _moons(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two interleaved half circles (scikit-learn's moons), scaled by 0.6 into the square."""
    t = rng.uniform(0, np.pi, len(labels))
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)  # x in [-1, 1], y in [0, 1]
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)  # x in [0, 2], y in [-0.5, 0.5]
    both = np.where(labels[:, None] == 0, upper, lower)
    return 0.6 * (both - [0.5, 0.25])  # x in [-0.9, 0.9], y in [-0.45, 0.45]


def _spiral(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Three arms winding out from the centre, one per class, a third of a turn apart."""
    r = rng.uniform(0.05, 0.95, len(labels))
    angle = 1.25 * 2 * np.pi * r + labels * 2 * np.pi / 3  # 1¼ turns from centre to edge
    return r[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)


_SHAPES = {"blobs": _blobs, "xor": _xor, "circles": _circles, "moons": _moons, "spiral": _spiral}


def _custom(rows: Sequence[Sequence[float]] | None) -> Dataset:
    rows = np.asarray(rows if rows is not None else [], dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != 3 or len(rows) == 0:
        raise ValueError("custom points are a non-empty list of [x, y, label] rows")
    x, labels = rows[:, :2], rows[:, 2]
    if not np.all(np.isin(labels, (0, 1, 2))):
        raise ValueError("a custom point's label is 0, 1 or 2")
    if not np.all(np.isfinite(x)) or np.any(np.abs(x) > 1):
        raise ValueError("custom points lie in the square [-1, 1]²")
    classes = 3 if np.any(labels == 2) else 2
    return Dataset(x.astype(np.float32), labels.astype(np.int64), classes, "custom")
