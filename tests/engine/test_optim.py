"""The optimizers step for step against torch.optim (same initial weights, float64, the same
function to minimise), and Newton's method against a quadratic and a numpy reference."""

import warnings

import numpy as np
import pytest
import torch

from deepviz.engine import Tensor, optim
from deepviz.engine import functional as F

CONFIGS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd, weight decay": ("SGD", dict(lr=0.1, weight_decay=0.05)),
    "sgd, momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "sgd, momentum, dampening": ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    "sgd, nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.02)),
    "adam": ("Adam", dict(lr=0.05)),
    "adam, betas, eps": ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
    "adam, weight decay": ("Adam", dict(lr=0.05, weight_decay=0.1)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop, alpha, eps": ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4)),
    "rmsprop, momentum": ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.05)),
    "rmsprop, centered": ("RMSprop", dict(lr=0.01, centered=True)),
    "rmsprop, centered, momentum": ("RMSprop", dict(lr=0.01, alpha=0.95, centered=True, momentum=0.5)),
}


def loss(w, b):
    """Something with curvature in every direction (engine or torch tensors alike)."""
    return (w.sin() * w).sum() + (b**3).sum() / 3 + (w.sum(0) * b).sum()


@pytest.mark.parametrize("config", CONFIGS)
def test_optimizers_follow_torch_step_for_step(config):
    name, settings = CONFIGS[config]
    rng = np.random.default_rng(0)
    w0, b0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    w, b = Tensor(w0.copy(), requires_grad=True), Tensor(b0.copy(), requires_grad=True)
    tw, tb = torch.tensor(w0.copy(), requires_grad=True), torch.tensor(b0.copy(), requires_grad=True)
    ours, theirs = getattr(optim, name)([w, b], **settings), getattr(torch.optim, name)([tw, tb], **settings)
    for step in range(8):
        ours.zero_grad()
        theirs.zero_grad()
        loss(w, b).backward()
        loss(tw, tb).backward()
        if step % 3 == 1:  # a parameter without a gradient does not move (nor count the step)
            b.grad, tb.grad = None, None
        ours.step()
        theirs.step()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"step {step}")
        np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_on_a_float32_mlp_follows_torch(weight_decay):
    """The training lab's case: every parameter of a float32 MLP steps each time (Adam then
    updates them as one vector), and its numbers stay float32, as torch's do."""
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, (50, 2)).astype(np.float32), rng.integers(0, 2, (50, 1)).astype(np.float32)
    shapes = [(8, 2), (8,), (1, 8), (1,)]
    start = [rng.uniform(-0.7, 0.7, s).astype(np.float32) for s in shapes]
    ours = [Tensor(a.copy(), requires_grad=True) for a in start]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt = optim.Adam(ours, lr=0.05, weight_decay=weight_decay)
    topt = torch.optim.Adam(theirs, lr=0.05, weight_decay=weight_decay)
    for _ in range(20):
        opt.zero_grad()
        topt.zero_grad()
        w1, b1, w2, b2 = ours
        F.binary_cross_entropy_with_logits(F.linear(F.linear(Tensor(x), w1, b1).tanh(), w2, b2), y).backward()
        w1, b1, w2, b2 = theirs
        logits = torch.nn.functional.linear(torch.nn.functional.linear(torch.tensor(x), w1, b1).tanh(), w2, b2)
        torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(y)).backward()
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        assert p.data.dtype == np.float32
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_weight_decay_is_the_gradient_of_the_l2_penalty():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(4)
    decayed, penalised = Tensor(w0.copy(), requires_grad=True), Tensor(w0.copy(), requires_grad=True)
    a = optim.SGD([decayed], lr=0.1, momentum=0.9, weight_decay=0.3)
    b = optim.SGD([penalised], lr=0.1, momentum=0.9)
    for _ in range(5):
        a.zero_grad()
        b.zero_grad()
        (decayed.sin() * decayed).sum().backward()
        ((penalised.sin() * penalised).sum() + F.l2_penalty([penalised], 0.3)).backward()
        a.step()
        b.step()
        np.testing.assert_allclose(decayed.data, penalised.data, rtol=1e-12)


def test_nesterov_needs_momentum_and_no_dampening_as_in_torch():
    w = Tensor(np.zeros(2), requires_grad=True)
    for settings in (dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1)):
        with pytest.raises(ValueError):
            optim.SGD([w], lr=0.1, **settings)
        with pytest.raises(ValueError):
            torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, **settings)


def test_the_learning_rate_can_be_changed_between_steps():
    # lessons/train.py decays it: optimizer.lr *= decay
    w = Tensor(np.array([1.0]), requires_grad=True)
    sgd = optim.SGD([w], lr=0.5)
    sgd.lr *= 0.5
    (w * w).sum().backward()
    sgd.step()
    assert w.data[0] == 1.0 - 0.25 * 2.0


# ----------------------------------------------------------------------------- Newton


def test_newton_reaches_the_minimum_of_a_quadratic_in_one_step():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((5, 5))
    a = m @ m.T + 5 * np.eye(5)  # positive definite
    c = rng.standard_normal(5)
    w, b = Tensor(rng.standard_normal((2, 2)), requires_grad=True), Tensor(rng.standard_normal(1), requires_grad=True)

    def closure():  # ½ θᵀ A θ - cᵀ θ with θ = (w, b) flattened: its minimum is A⁻¹ c
        theta = (w.reshape(-1) @ Tensor(np.eye(4, 5))) + (b @ Tensor(np.eye(1, 5, 4)))
        return 0.5 * (theta @ Tensor(a) @ theta) - theta @ Tensor(c)

    newton = optim.Newton([w, b])
    newton.step(closure)
    np.testing.assert_allclose(np.concatenate([w.data.ravel(), b.data]), np.linalg.solve(a, c), rtol=1e-10)
    assert not newton.fell_back and newton.smallest_eigenvalue == pytest.approx(np.linalg.eigvalsh(a)[0])


def test_newton_on_logistic_regression_follows_a_numpy_reference():
    rng = np.random.default_rng(1)
    n, d = 40, 3
    x = np.hstack([rng.standard_normal((n, d - 1)), np.ones((n, 1))])  # a column of ones: the bias
    y = (x @ np.array([1.5, -2.0, 0.3]) + 2 * rng.standard_normal(n) > 0).astype(float)  # noisy: not separable
    damping = 1e-3
    w = Tensor(np.zeros(d), requires_grad=True)
    newton = optim.Newton([w], damping=damping)
    reference = np.zeros(d)
    for _ in range(10):
        newton.step(lambda: F.binary_cross_entropy_with_logits(Tensor(x) @ w, y))
        p = 1 / (1 + np.exp(-(x @ reference)))  # σ(Xw)
        g = x.T @ (p - y) / n  # the gradient of the mean logistic loss
        h = x.T @ (x * (p * (1 - p))[:, None]) / n  # its Hessian, Xᵀ diag(p(1 - p)) X / n
        reference = reference - np.linalg.solve(h + damping * np.eye(d), g)
        np.testing.assert_allclose(w.data, reference, rtol=1e-9, atol=1e-12)
    assert np.linalg.norm(x.T @ (1 / (1 + np.exp(-(x @ w.data))) - y) / n) < 1e-9  # at the minimum


def saddle():
    """f(x, y) = x² - y², at (1, 1): its Hessian diag(2, -2) is indefinite."""
    p = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    return p, lambda: p[0] * p[0] - p[1] * p[1]


def test_newton_reports_a_hessian_that_is_not_positive_definite_and_takes_a_gradient_step():
    p, closure = saddle()
    newton = optim.Newton([p], lr=0.1)
    with pytest.warns(RuntimeWarning, match=r"not positive definite \(smallest eigenvalue -2\)"):
        newton.step(closure)
    assert newton.fell_back and newton.smallest_eigenvalue == pytest.approx(-2.0)
    np.testing.assert_allclose(p.data, [1.0 - 0.1 * 2.0, 1.0 + 0.1 * 2.0])  # θ - γ g, away from the saddle


def test_enough_damping_makes_the_newton_step_again():
    p, closure = saddle()
    newton = optim.Newton([p], damping=3.0)  # eigenvalues 2 + 3 and -2 + 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = newton.step(closure)
    assert loss.item() == 0.0 and not newton.fell_back and newton.smallest_eigenvalue == pytest.approx(1.0)
    np.testing.assert_allclose(p.data, [1.0 - 2.0 / 5.0, 1.0 - (-2.0) / 1.0])


def test_plain_newton_steps_onto_the_saddle():
    """indefinite="newton": the textbook step, to the quadratic model's stationary point, which
    for x² - y² is the saddle itself, in one step (no warning: it was asked for)."""
    p, closure = saddle()
    newton = optim.Newton([p], indefinite="newton")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        newton.step(closure)
    assert not newton.fell_back and newton.smallest_eigenvalue == pytest.approx(-2.0)
    np.testing.assert_allclose(p.data, [0.0, 0.0], atol=1e-15)


def test_plain_newton_falls_back_only_where_the_hessian_has_no_inverse():
    p = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    newton = optim.Newton([p], lr=0.5, indefinite="newton")
    with pytest.warns(RuntimeWarning, match="took a gradient step"):
        newton.step(lambda: p[0] * p[0] - 3 * p[1])  # H = diag(2, 0): singular
    assert newton.fell_back
    np.testing.assert_allclose(p.data, [1.0 - 0.5 * 2.0, 1.0 + 0.5 * 3.0])


def test_newton_refuses_an_unknown_indefinite_rule():
    with pytest.raises(ValueError, match='"gradient" or "newton"'):
        optim.Newton([Tensor(np.zeros(2), requires_grad=True)], indefinite="saddle")
