"""Minibatches: every example once an epoch, reproducible from the seed, the last partial
batch kept or dropped, and the two extremes of the notes (batch size 1 and N)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepviz.engine import Tensor, optim
from deepviz.engine.data import DataLoader, batches


@given(n=st.integers(0, 50), batch_size=st.integers(1, 20), seed=st.integers(0, 2**32 - 1), shuffle=st.booleans())
def test_every_index_exactly_once_an_epoch(n, batch_size, seed, shuffle):
    epoch = batches(n, batch_size, seed, shuffle)
    assert sorted(np.concatenate([np.arange(0)] + epoch).tolist()) == list(range(n))
    assert all(len(b) == batch_size for b in epoch[:-1]) and (not epoch or 1 <= len(epoch[-1]) <= batch_size)
    assert len(epoch) == -(-n // batch_size)


@given(n=st.integers(0, 50), batch_size=st.integers(1, 20), seed=st.integers(0, 100))
def test_drop_last_leaves_out_only_the_partial_batch(n, batch_size, seed):
    kept, dropped = batches(n, batch_size, seed), batches(n, batch_size, seed, drop_last=True)
    assert len(dropped) == n // batch_size and all(len(b) == batch_size for b in dropped)
    assert [b.tolist() for b in dropped] == [b.tolist() for b in kept[: len(dropped)]]  # same order, tail cut


def test_the_seed_makes_the_order_reproducible():
    assert [b.tolist() for b in batches(20, 3, seed=7)] == [b.tolist() for b in batches(20, 3, seed=7)]
    assert [b.tolist() for b in batches(20, 3, seed=7)] != [b.tolist() for b in batches(20, 3, seed=8)]
    assert np.concatenate(batches(10, 4, shuffle=False)).tolist() == list(range(10))


def test_a_loader_reshuffles_every_epoch_and_two_loaders_with_one_seed_agree():
    x, y = np.arange(24.0).reshape(12, 2), np.arange(12)
    first, second = DataLoader(x, y, batch_size=5, seed=3), DataLoader(x, y, batch_size=5, seed=3)
    epochs = [[yb.tolist() for _, yb in first] for _ in range(3)]
    assert epochs == [[yb.tolist() for _, yb in second] for _ in range(3)]
    assert epochs[0] != epochs[1]  # a new order each epoch
    for xb, yb in DataLoader(x, y, batch_size=5, seed=3):
        np.testing.assert_array_equal(xb, x[yb])  # inputs and labels stay paired
    assert len(first) == 3 and len(DataLoader(x, batch_size=5, drop_last=True)) == 2
    assert [len(b) for b in DataLoader(x, batch_size=5, drop_last=True)] == [5, 5]  # one array: its batches


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        batches(10, 0)
    with pytest.raises(ValueError, match="lengths"):
        DataLoader(np.zeros(3), np.zeros(4))


def train(batch_size, epochs, lr=0.1):
    """Least squares y = 2x + 1 with SGD over minibatches; the final weights."""
    x = np.linspace(-1, 1, 8)
    y = 2 * x + 1
    w, b = Tensor(0.0, requires_grad=True), Tensor(0.0, requires_grad=True)
    sgd = optim.SGD([w, b], lr=lr)
    for _ in range(epochs):
        for xb, yb in DataLoader(x, y, batch_size=batch_size, seed=0):
            sgd.zero_grad()
            ((w * Tensor(xb) + b - Tensor(yb)) ** 2).mean().backward()
            sgd.step()
    return w.item(), b.item()


def test_batch_size_one_is_sgd_and_batch_size_n_is_batch_gradient_descent():
    # batch size N: every step is on the exact gradient, so one epoch is one full-gradient step
    x = np.linspace(-1, 1, 8)
    g_w, g_b = np.mean(2 * (0 - (2 * x + 1)) * x), np.mean(2 * (0 - (2 * x + 1)))
    np.testing.assert_allclose(train(8, 1), (-0.1 * g_w, -0.1 * g_b))
    # batch size 1: N steps an epoch, one example each; both reach the line
    np.testing.assert_allclose(train(1, 60), (2.0, 1.0), atol=1e-3)
    np.testing.assert_allclose(train(8, 400), (2.0, 1.0), atol=1e-3)
