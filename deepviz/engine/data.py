"""Minibatches: which examples each step of training sees.

An epoch goes once through the N examples, in an order shuffled by a seeded generator, in
batches of ``batch_size``. The batch size is the knob between the notes' two extremes:

- ``batch_size=1``: stochastic gradient descent, one step per example (N steps an epoch);
- ``batch_size=N``: batch gradient descent, one step on the whole set (the true gradient);
- in between, minibatch gradient descent: what is trained in practice.

``batches`` gives the indices of one epoch; ``DataLoader`` (named after torch's) iterates
over arrays, reshuffling at every epoch, and is reproducible from its seed.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def batches(
    n: int,
    batch_size: int,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> list[np.ndarray]:
    """The index arrays of one epoch over ``n`` examples: every index once, in batches of
    ``batch_size``, shuffled by ``seed`` (an int, or a Generator that carries on from
    epoch to epoch) unless ``shuffle=False``. The last batch is smaller when ``batch_size``
    does not divide ``n``; ``drop_last`` leaves it out."""
    if n < 0 or batch_size < 1:
        raise ValueError(f"batches needs n ≥ 0 and batch_size ≥ 1, not n={n}, batch_size={batch_size}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return [order[start : start + batch_size] for start in range(0, stop, batch_size)]


class DataLoader:
    """Minibatches of arrays that share their first axis (inputs and labels, say):

    >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> loader = DataLoader(x, y, batch_size=2, seed=0)
    >>> [len(yb) for xb, yb in loader]
    [2, 2, 1]

    Each ``for`` over it is one epoch in a new order; two loaders with the same seed give the
    same epochs. One array gives batches of that array, several give tuples."""

    def __init__(self, *arrays, batch_size: int = 1, shuffle: bool = True, seed: int | None = None,
                 drop_last: bool = False):  # fmt: skip
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        self.arrays = [np.asarray(a) for a in arrays]
        n = len(self.arrays[0])
        if any(len(a) != n for a in self.arrays):
            raise ValueError(f"the arrays have different lengths: {[len(a) for a in self.arrays]}")
        self.n, self.batch_size, self.shuffle, self.drop_last = n, batch_size, shuffle, drop_last
        self.rng = np.random.default_rng(seed)  # one generator for all epochs: each is a new order

    def __iter__(self) -> Iterator:
        for index in batches(self.n, self.batch_size, self.rng, self.shuffle, self.drop_last):
            picked = tuple(a[index] for a in self.arrays)
            yield picked if len(picked) > 1 else picked[0]

    def __len__(self) -> int:
        """Batches (optimizer steps) per epoch."""
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)
