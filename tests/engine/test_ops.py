"""Every primitive and composite op of the engine against torch.autograd, forward values
and gradients, over random shapes (with broadcasting) and values (hypothesis)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from deepviz.engine import Tensor
from deepviz.engine import functional as F
from tests.engine.oracle import check

finite = st.floats(-3, 3, allow_nan=False, width=64)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def arrays(shape, elements=finite):
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def broadcastable_pair(draw, elements=finite):
    """Two arrays whose shapes broadcast together (one may have fewer or size-1 axes)."""
    a_shape, b_shape = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    return draw(arrays(a_shape, elements)), draw(arrays(b_shape, elements))


away_from_zero = st.floats(0.3, 3, width=64) | st.floats(-3, -0.3, width=64)
positive = st.floats(0.1, 3, width=64)

BINARY = {
    "add": (lambda a, b: a + b, finite),
    "sub": (lambda a, b: a - b, finite),
    "mul": (lambda a, b: a * b, finite),
    "div": (lambda a, b: a / b, away_from_zero),
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_broadcasting(name, data):
    fn, elements = BINARY[name]
    a, b = data.draw(broadcastable_pair(elements))
    check(fn, fn, [a, b])


@given(pair=broadcastable_pair(positive))
def test_pow_tensor_exponent(pair):
    a, b = pair
    check(lambda x, y: x**y, lambda x, y: x**y, [a, b])


@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, -1.5])
@given(a=arrays(shapes, positive))
def test_pow_constant_exponent(a, exponent):
    check(lambda x: x**exponent, lambda x: x**exponent, [a])


@given(pair=broadcastable_pair(st.floats(-3, 3, width=64)))
def test_maximum_and_minimum(pair):
    a, b = pair
    check(lambda x, y: x.maximum(y), torch.maximum, [a, b])
    check(lambda x, y: x.minimum(y), torch.minimum, [a, b])


def test_maximum_splits_the_gradient_on_a_tie():
    check(lambda x, y: x.maximum(y), torch.maximum, [np.array([1.0, 2.0]), np.array([1.0, 0.0])])


UNARY = {
    "neg": (lambda x: -x, lambda x: -x, finite),
    "exp": (lambda x: x.exp(), torch.exp, finite),
    "log": (lambda x: x.log(), torch.log, positive),
    "tanh": (lambda x: x.tanh(), torch.tanh, finite),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid, st.floats(-40, 40, width=64)),
    "relu": (lambda x: x.relu(), torch.relu, away_from_zero),
    "sin": (lambda x: x.sin(), torch.sin, finite),
    "cos": (lambda x: x.cos(), torch.cos, finite),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt, positive),
    "abs": (lambda x: x.abs(), torch.abs, away_from_zero),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary(name, data):
    ours, theirs, elements = UNARY[name]
    check(ours, theirs, [data.draw(arrays(shapes, elements))])


@given(data=st.data())
def test_matmul_vectors_and_matrices(data):
    n, k, m = (data.draw(st.integers(1, 5)) for _ in range(3))
    a_shape = data.draw(st.sampled_from([(n, k), (k,)]))
    b_shape = data.draw(st.sampled_from([(k, m), (k,)]))
    check(
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        [data.draw(arrays(a_shape)), data.draw(arrays(b_shape))],
    )


@given(data=st.data())
def test_sum_and_mean(data):
    a = data.draw(arrays(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
    axis = data.draw(st.none() | st.integers(0, a.ndim - 1))
    keepdims = data.draw(st.booleans())
    dim = tuple(range(a.ndim)) if axis is None else axis
    check(lambda x: x.sum(axis, keepdims), lambda x: x.sum(dim=dim, keepdim=keepdims), [a])
    check(lambda x: x.mean(axis, keepdims), lambda x: x.mean(dim=dim, keepdim=keepdims), [a])


@given(data=st.data())
def test_max_routes_the_gradient_to_the_argmax(data):
    # distinct values: along an axis, torch gives a tie's gradient to the index it returns
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    a = data.draw(hnp.arrays(np.float64, shape, elements=finite, unique=True))
    axis = data.draw(st.none() | st.integers(0, a.ndim - 1))
    if axis is None:
        check(lambda x: x.max(), lambda x: x.max(), [a])
    else:
        check(lambda x: x.max(axis), lambda x: x.max(dim=axis).values, [a])
        check(
            lambda x: x.max(axis, keepdims=True),
            lambda x: x.max(dim=axis, keepdim=True).values,
            [a],
        )


@given(
    a=hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=st.sampled_from([-1.0, 2.0])
    )
)
def test_max_of_all_elements_shares_the_gradient_among_ties_as_torch(a):
    check(lambda x: x.max(), lambda x: x.max(), [a])  # values from two numbers: ties everywhere


def test_an_integer_tensor_cannot_require_gradients():
    with pytest.raises(TypeError, match="floating-point"):  # torch refuses too; ours stayed zero in silence
        Tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2], requires_grad=True)


@given(a=arrays(hnp.array_shapes(min_dims=2, max_dims=3, max_side=4)))
def test_reshape_transpose_flatten(a):
    check(lambda x: x.reshape(-1), lambda x: x.reshape(-1), [a])
    check(lambda x: x.transpose(), lambda x: x.permute(*reversed(range(x.ndim))), [a])
    check(lambda x: x.transpose(1, 0, *range(2, a.ndim)), lambda x: x.transpose(0, 1), [a])
    check(lambda x: x.flatten(1), lambda x: x.flatten(1), [a])


@given(a=arrays(hnp.array_shapes(min_dims=1, max_dims=2, min_side=2, max_side=5)))
def test_indexing_sums_the_gradient_of_repeated_picks(a):
    index = np.array([0, 1, 0])
    check(lambda x: x[index], lambda x: x[torch.tensor(index)], [a])
    check(lambda x: x[1:], lambda x: x[1:], [a])


@pytest.mark.parametrize("dim", [0, -1])
@given(a=arrays(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5), st.floats(-20, 20, width=64)))
def test_softmax_and_log_softmax(a, dim):
    check(lambda z: F.softmax(z, dim), lambda z: torch.softmax(z, dim), [a])
    check(lambda z: F.log_softmax(z, dim), lambda z: torch.log_softmax(z, dim), [a])


@given(data=st.data())
def test_cross_entropy_and_nll_loss(data):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(2, 6))
    logits = data.draw(arrays((n, c), st.floats(-30, 30, width=64)))
    targets = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    t = torch.tensor(targets)
    check(
        lambda z: F.cross_entropy(z, targets),
        lambda z: torch.nn.functional.cross_entropy(z, t),
        [logits],
    )
    check(
        lambda z: F.nll_loss(F.log_softmax(z), targets),
        lambda z: torch.nn.functional.nll_loss(torch.log_softmax(z, -1), t),
        [logits],
    )


def test_cross_entropy_of_one_vector_and_its_famous_gradient():
    z = np.array([1.0, 2.0, 0.5])
    check(
        lambda z: F.cross_entropy(z, 1),
        lambda z: torch.nn.functional.cross_entropy(z[None], torch.tensor([1])),
        [z],
    )
    logits = Tensor(z, requires_grad=True)
    F.cross_entropy(logits, 1).backward()
    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(logits.grad, p - np.array([0, 1, 0]))


@given(pair=broadcastable_pair())
def test_mse_loss(pair):
    a, b = pair
    a, b = np.broadcast_arrays(a, b)
    check(F.mse_loss, torch.nn.functional.mse_loss, [a.copy(), b.copy()])


@given(data=st.data())
def test_binary_cross_entropy(data):
    p = data.draw(arrays((4,), st.floats(0.05, 0.95, width=64)))
    y = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=4, max_size=4)))
    check(
        lambda p: F.binary_cross_entropy(p, y),
        lambda p: torch.nn.functional.binary_cross_entropy(p, torch.tensor(y)),
        [p],
    )


@given(data=st.data())
def test_binary_cross_entropy_with_logits(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    z = data.draw(arrays(shape, st.floats(-50, 50, width=64)))
    y = data.draw(arrays(shape, st.floats(0, 1, width=64)))
    check(
        lambda z: F.binary_cross_entropy_with_logits(z, y),
        lambda z: torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(y)),
        [z],
    )


def test_binary_cross_entropy_with_logits_is_stable_and_has_its_minus_sign():
    z, y = np.array([-800.0, 0.0, 800.0]), np.array([1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(Tensor(z), y)  # σ(±800) rounds to 0 and 1: log would be -inf
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y))
    np.testing.assert_allclose(loss.item(), expected.item())
    assert loss.item() > 0  # a loss: -[y log σ(z) + (1 - y) log(1 - σ(z))] ≥ 0, the minus sign kept
    z = Tensor(np.array([2.0]), requires_grad=True)
    F.binary_cross_entropy_with_logits(z, np.array([1.0])).backward()
    assert z.grad[0] < 0  # minimising raises the logit of a positive example
    with pytest.raises(ValueError, match="shape"):
        F.binary_cross_entropy_with_logits(Tensor(np.zeros(3)), np.zeros(2))


def test_l2_penalty_is_half_the_weight_decay_times_the_squared_norm():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(3)
    check(
        lambda w, b: F.l2_penalty([w, b], 0.1),
        lambda w, b: 0.1 / 2 * (w.pow(2).sum() + b.pow(2).sum()),
        [w, b],
    )
