"""Gradients of gradients (autograd.grad with create_graph=True) against torch.autograd:
every op's second derivatives, an MLP's full Hessian, Hessian-vector products, and
autograd.grad's semantics (torch's)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from deepviz.engine import Tensor, autograd
from deepviz.engine import functional as F
from tests.engine.oracle import check_second_order
from tests.engine.test_ops import UNARY as FIRST_ORDER
from tests.engine.test_ops import arrays, away_from_zero, broadcastable_pair, finite, positive, shapes

TF = torch.nn.functional

BINARY = {
    "add": (lambda a, b: a + b, finite),
    "sub": (lambda a, b: a - b, finite),
    "mul": (lambda a, b: a * b, finite),
    "div": (lambda a, b: a / b, away_from_zero),
    "pow": (lambda a, b: a**b, positive),  # both the base and the exponent are differentiated
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_second_derivatives_of_binary_ops(name, data):
    fn, elements = BINARY[name]
    check_second_order(fn, fn, list(data.draw(broadcastable_pair(elements))))


@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, -1.5])
@given(a=arrays(shapes, positive))
def test_second_derivatives_of_pow_with_a_constant_exponent(a, exponent):
    check_second_order(lambda x: x**exponent, lambda x: x**exponent, [a])


@given(data=st.data())
def test_second_derivatives_of_maximum_and_minimum(data):
    # away from ties: there max(a, b) is not differentiable
    a, b = (data.draw(hnp.arrays(np.float64, (3, 2), elements=finite, unique=True)) for _ in range(2))
    b = np.where(np.abs(a - b) < 1e-3, b + 0.5, b)
    check_second_order(lambda x, y: x.maximum(y) * x, lambda x, y: torch.maximum(x, y) * x, [a, b])
    check_second_order(lambda x, y: x.minimum(y) * y, lambda x, y: torch.minimum(x, y) * y, [a, b])


# the first-order table, with sigmoid kept where its second derivative is not lost in rounding
UNARY = {**FIRST_ORDER, "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid, st.floats(-20, 20, width=64))}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_second_derivatives_of_unary_ops(name, data):
    ours, theirs, elements = UNARY[name]
    a = data.draw(arrays(shapes, elements))
    check_second_order(ours, theirs, [a])
    # and composed with a product, so that the op's own second derivative meets another's
    check_second_order(lambda x: ours(x) * x, lambda x: theirs(x) * x, [a])


@given(data=st.data())
def test_second_derivatives_of_matmul(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    a = data.draw(arrays(data.draw(st.sampled_from([(n, k), (k,)]))))
    b = data.draw(arrays(data.draw(st.sampled_from([(k, m), (k,)]))))
    check_second_order(lambda x, y: (x @ y).tanh(), lambda x, y: (x @ y).tanh(), [a, b])


@given(data=st.data())
def test_second_derivatives_of_sum_mean_and_max(data):
    a = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=finite,
                             unique=True))  # fmt: skip
    axis = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    keep = data.draw(st.booleans())
    dim = tuple(range(a.ndim)) if axis is None else axis
    check_second_order(lambda x: (x * x).sum(axis, keep), lambda x: (x * x).sum(dim=dim, keepdim=keep), [a])
    check_second_order(lambda x: x.mean(axis, keep).sin(), lambda x: x.mean(dim=dim, keepdim=keep).sin(), [a])
    if axis is None:
        check_second_order(lambda x: x.max() * x, lambda x: x.max() * x, [a])
    else:
        check_second_order(lambda x: x.max(axis) ** 2, lambda x: x.max(dim=axis).values ** 2, [a])


@given(a=arrays(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4)))
def test_second_derivatives_through_reshape_transpose_and_indexing(a):
    check_second_order(lambda x: x.reshape(-1) ** 3, lambda x: x.reshape(-1) ** 3, [a])
    check_second_order(lambda x: x.transpose().sin(), lambda x: x.permute(*reversed(range(x.ndim))).sin(), [a])
    index = np.array([0, 1, 0])
    check_second_order(lambda x: x[index] ** 2, lambda x: x[torch.tensor(index)] ** 2, [a])


@pytest.mark.parametrize("dim", [0, -1])
@given(a=arrays(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), st.floats(-10, 10, width=64)))
def test_second_derivatives_of_softmax_and_log_softmax(a, dim):
    check_second_order(lambda z: F.softmax(z, dim), lambda z: torch.softmax(z, dim), [a])
    check_second_order(lambda z: F.log_softmax(z, dim), lambda z: torch.log_softmax(z, dim), [a])


@given(data=st.data())
def test_second_derivatives_of_the_losses(data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 5))
    logits = data.draw(arrays((n, c), st.floats(-10, 10, width=64)))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    check_second_order(lambda z: F.cross_entropy(z, labels), lambda z: TF.cross_entropy(z, torch.tensor(labels)),
                       [logits])  # fmt: skip
    check_second_order(lambda z: F.nll_loss(F.log_softmax(z), labels),
                       lambda z: TF.nll_loss(torch.log_softmax(z, -1), torch.tensor(labels)), [logits])  # fmt: skip
    y = data.draw(arrays((n, c), st.floats(0, 1, width=64)))
    check_second_order(F.mse_loss, TF.mse_loss, [logits, y])
    check_second_order(lambda z: F.binary_cross_entropy_with_logits(z, y),
                       lambda z: TF.binary_cross_entropy_with_logits(z, torch.tensor(y)), [logits])  # fmt: skip
    p = data.draw(arrays((n,), st.floats(0.05, 0.95, width=64)))
    t = y[:, 0].round()
    check_second_order(lambda q: F.binary_cross_entropy(q, t), lambda q: TF.binary_cross_entropy(q, torch.tensor(t)),
                       [p])  # fmt: skip


def test_second_derivatives_of_linear():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    check_second_order(lambda *t: F.linear(*t).tanh(), lambda *t: TF.linear(*t).tanh(), [x, w, b])
    check_second_order(lambda *t: F.linear(*t).sin(), lambda *t: TF.linear(*t).sin(), [x, w])


# ----------------------------------------------------------------------------- Hessians


def mlp_loss(theta, x, y, lib):
    """A 2-4-1 network with tanh, its 17 parameters one vector θ: the mean squared error
    on the points x (N, 2) with targets y (N,)."""
    w1, b1 = theta[:8].reshape(4, 2), theta[8:12]
    w2, b2 = theta[12:16].reshape(1, 4), theta[16:]
    h = (x @ w1.T + b1).tanh()  # (N, 4)
    out = (h @ w2.T + b2).reshape(-1)  # (N,)
    return lib.mse_loss(out, y)


def test_the_full_hessian_of_an_mlp_matches_torch():
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(17)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal(3)  # a few points
    ours = autograd.hessian(lambda t: mlp_loss(t, Tensor(x), y, F), theta)
    theirs = torch.autograd.functional.hessian(lambda t: mlp_loss(t, torch.tensor(x), torch.tensor(y), TF),
                                               torch.tensor(theta))  # fmt: skip
    assert ours.shape == (17, 17)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.data, ours.data.T, atol=1e-12)  # a Hessian is symmetric


def test_the_hessian_of_an_mlp_in_its_input_matches_torch():
    rng = np.random.default_rng(1)
    w1, b1, w2 = rng.standard_normal((4, 2)), rng.standard_normal(4), rng.standard_normal(4)
    for point in rng.standard_normal((3, 2)):

        def f(x, lib=torch):
            return ((x @ lib.tensor(w1.T) + lib.tensor(b1)).tanh() * lib.tensor(w2)).sum()

        ours = autograd.hessian(lambda x: ((x @ Tensor(w1.T) + Tensor(b1)).tanh() * Tensor(w2)).sum(), point)
        theirs = torch.autograd.functional.hessian(f, torch.tensor(point))
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-9, atol=1e-12)


@given(x=arrays((2, 3), st.floats(-2, 2, width=64)), v=arrays((2, 3), st.floats(-2, 2, width=64)))
def test_hessian_vector_products_match_torch(x, v):
    def f(t):
        return (t.sin() * t.exp()).sum() + (t @ t.T).tanh().sum()

    value, ours = autograd.hvp(f, x, v)
    their_value, theirs = torch.autograd.functional.hvp(f, torch.tensor(x), torch.tensor(v))
    np.testing.assert_allclose(value.data, their_value.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-9, atol=1e-12)
    full = autograd.hessian(f, x).data.reshape(6, 6)
    np.testing.assert_allclose(ours.data.reshape(-1), full @ v.reshape(-1), rtol=1e-9, atol=1e-12)


def test_the_hessian_of_a_linear_function_is_zero():
    assert not autograd.hessian(lambda x: (3 * x).sum(), np.ones(2)).data.any()
    _, hv = autograd.hvp(lambda x: (3 * x).sum(), np.ones(2), np.ones(2))
    assert not hv.data.any()


def test_third_derivatives():
    x = Tensor(0.7, requires_grad=True)
    t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    ours, theirs = x.tanh() * x.sin(), t.tanh() * t.sin()
    for _ in range(3):
        (ours,) = autograd.grad(ours, x, create_graph=True)
        (theirs,) = torch.autograd.grad(theirs, t, create_graph=True)
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


# ----------------------------------------------------------------------------- grad's semantics


def test_grad_leaves_dot_grad_alone_and_returns_a_tuple():
    x, y = Tensor(2.0, requires_grad=True), Tensor(3.0, requires_grad=True)
    gx, gy = autograd.grad(x * y, [x, y])
    assert (gx.item(), gy.item()) == (3.0, 2.0)
    assert x.grad is None and y.grad is None
    assert not gx.requires_grad  # no create_graph: a plain value


def test_retain_graph_defaults_to_create_graph():
    x = Tensor(2.0, requires_grad=True)
    y = x**3
    autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        autograd.grad(y, x)
    y = x**3
    autograd.grad(y, x, create_graph=True)
    (again,) = autograd.grad(y, x)  # the graph was kept
    assert again.item() == 12.0


def test_an_unused_input_raises_unless_allowed():
    x, unused = Tensor(2.0, requires_grad=True), Tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad(x * x, [x, unused], retain_graph=True)
    assert autograd.grad(x * x, [x, unused], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError):  # torch agrees
        t = torch.tensor(2.0, requires_grad=True)
        torch.autograd.grad(t * t, [t, torch.tensor(1.0, requires_grad=True)])


def test_grad_refuses_what_torch_refuses():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="grad_outputs"):
        autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * 2).sum(), Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad(Tensor(1.0), x)


def test_grad_of_several_outputs_and_of_an_intermediate_tensor():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x.exp()
    a, b = h.sum(), (h * h).sum()
    gh, gx = autograd.grad([a, b], [h, x], grad_outputs=[1.0, 2.0])
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    th = t.exp()
    tgh, tgx = torch.autograd.grad([th.sum(), (th * th).sum()], [th, t], grad_outputs=[torch.tensor(1.0),
                                   torch.tensor(2.0)])  # fmt: skip
    np.testing.assert_allclose(gh.data, tgh.numpy())
    np.testing.assert_allclose(gx.data, tgx.numpy())


def test_a_grad_output_that_requires_grad_is_differentiated_too():
    x, u = Tensor(np.array([0.3, 1.2]), requires_grad=True), Tensor(np.array([2.0, -1.0]), requires_grad=True)
    (g,) = autograd.grad(x.sin() * x, x, grad_outputs=u, create_graph=True)  # u · (sin x + x cos x)
    (du,) = autograd.grad((g * g).sum(), u)
    t, tu = (torch.tensor(v.data, requires_grad=True) for v in (x, u))
    (tg,) = torch.autograd.grad(t.sin() * t, t, grad_outputs=tu, create_graph=True)
    (tdu,) = torch.autograd.grad((tg * tg).sum(), tu)
    np.testing.assert_allclose(du.data, tdu.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # torch's, about its own cycles
def test_backward_with_create_graph_gives_differentiable_grads():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    (x.sin() * x * x).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Tensor) and first.requires_grad
    x.grad = None
    (first * Tensor(np.array([1.0, 3.0]))).sum().backward()
    t = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    (t.sin() * t * t).sum().backward(create_graph=True)
    np.testing.assert_allclose(first.data, t.grad.detach().numpy())
    tfirst, t.grad = t.grad, None
    (tfirst * torch.tensor([1.0, 3.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy())


def test_the_rules_on_tensors_give_the_first_order_gradients_of_the_rules_on_arrays():
    # one rule per op, run on arrays (the fast path) or on Tensors (create_graph): the same numbers
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((6, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    labels = np.array([0, 1, 3, 2, 1, 0])

    def loss(*params):
        h = F.linear(Tensor(x), *params)
        return F.cross_entropy(h.relu() * h.sigmoid() + h.max(1, keepdims=True) / h.abs().sqrt(), labels)

    params = [Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)]
    fast = autograd.grad(loss(*params), params)
    graphed = autograd.grad(loss(*params), params, create_graph=True)
    for a, g in zip(fast, graphed):
        assert g.requires_grad
        np.testing.assert_array_equal(a.data, g.data)


def test_convolution_says_it_is_first_order_only():
    x = Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    out = F.conv2d(x, Tensor(np.ones((1, 1, 3, 3)))).sum()
    with pytest.raises(NotImplementedError, match="conv2d"):
        autograd.grad(out, x, create_graph=True)
    assert autograd.grad(out, x)[0].data.sum() == 36.0  # first order: fine
