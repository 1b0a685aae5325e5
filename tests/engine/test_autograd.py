"""The backward pass itself: composite expressions against torch (micrograd's two tests),
fan-out, accumulation, and what a second backward does."""

import numpy as np
import pytest
import torch

from deepviz.engine import Tensor, no_grad
from deepviz.engine import functional as F
from tests.engine.oracle import check


def test_the_notes_example():
    x, y, z = (Tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    q = x + y
    f = q * z
    f.backward()
    assert (q.item(), f.item()) == (3.0, -12.0)
    assert (x.grad, y.grad, z.grad, q.grad) == (-4.0, -4.0, 3.0, -4.0)


def test_micrograd_sanity_check():
    def build(x):
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        return h + q + q * x

    check(build, build, [np.array(-4.0)])


def test_micrograd_more_ops():
    def build(a, b):
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + (b + a).relu()
        d = d + 3 * d + (b - a).relu()
        e = c - d
        f = e**2
        g = f / 2.0
        return g + 10.0 / f

    check(build, build, [np.array(-4.0), np.array(2.0)], rtol=1e-9)


def test_a_two_layer_network_with_broadcasting():
    rng = np.random.default_rng(1)
    x, w1, b1, w2 = (
        rng.standard_normal((5, 3)),
        rng.standard_normal((3, 4)),
        rng.standard_normal(4),
        rng.standard_normal((4, 2)),
    )

    def build(x, w1, b1, w2, lib):
        h = (x @ w1 + b1).tanh()
        return lib.log_softmax(h @ w2, -1).mean()

    check(
        lambda *t: build(*t, F),
        lambda *t: build(*t, torch),
        [x, w1, b1, w2],
        grad_inputs=[False, True, True, True],
    )


def test_fan_out_sums_the_gradients():
    x = Tensor(3.0, requires_grad=True)
    y = Tensor(-4.0, requires_grad=True)
    (x * y + x).backward()
    assert x.grad == -3.0  # y + 1


def test_leaves_accumulate_across_backward_calls():
    x = Tensor(2.0, requires_grad=True)
    (x * x).backward()
    (3 * x).backward()
    assert x.grad == 4.0 + 3.0


def test_a_second_backward_through_the_same_graph_raises():
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    assert x.grad == 4.0  # not silently doubled


def test_retain_graph_allows_a_second_backward_which_accumulates():
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == 8.0


def test_backward_needs_a_scalar_or_a_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


def test_no_grad_records_nothing():
    x = Tensor(2.0, requires_grad=True)
    with no_grad():
        y = x * x
    assert not y.requires_grad and y.parents == ()


def test_float32_stays_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (2 * x + 1.5).sigmoid().sum()
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_long_chains_do_not_hit_the_recursion_limit():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + x
    y.backward()
    assert x.grad == 5001.0


def test_no_grad_in_one_thread_leaves_other_threads_recording():
    # regression: the server computes requests in threads; a global flag made one
    # request's numerical check switch off another's gradients
    import threading

    inside, release = threading.Event(), threading.Event()

    def hold_no_grad():
        with no_grad():
            inside.set()
            release.wait(5)

    other = threading.Thread(target=hold_no_grad)
    other.start()
    inside.wait(5)
    try:
        x = Tensor(2.0, requires_grad=True)
        (x * x).backward()
        assert x.grad == 4.0
    finally:
        release.set()
        other.join()
