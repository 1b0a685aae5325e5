"""The optimizers page's loss surfaces (lessons.surfaces): each surface's value, gradient and
Hessian from the engine against torch at random points, the contour's numpy grid against the
engine's value, and where the minima and saddles are said to be."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepviz.engine import Tensor, autograd
from deepviz.lessons import surfaces
from deepviz.lessons.playground import datasets

TF = torch.nn.functional


def blobs() -> surfaces.Surface:
    data = datasets.make("blobs", points=60, noise=0.2, seed=3)
    return surfaces.logistic(data.x, data.y, "blobs")


def build(name: str, condition: float = 10.0) -> surfaces.Surface:
    if name == "quadratic":
        return surfaces.quadratic(condition)
    return blobs() if name == "logistic" else surfaces.ANALYTIC[name]()


def torch_loss(surface: surfaces.Surface, theta: torch.Tensor) -> torch.Tensor:
    """The same loss written with torch: the analytic formula itself (it is plain arithmetic),
    or torch's logistic loss on the same points, plus (λ/2)‖w‖²."""
    if surface.data is None:
        return surface.f(theta[0], theta[1])
    points, labels = surface.data
    logits = torch.tensor(points) @ theta
    return TF.binary_cross_entropy_with_logits(logits, torch.tensor(labels)) + surfaces.L2 / 2 * (theta * theta).sum()


def point_in(surface: surfaces.Surface, u: float, v: float) -> np.ndarray:
    x0, x1, y0, y1 = surface.extent
    return np.array([x0 + u * (x1 - x0), y0 + v * (y1 - y0)])


unit = st.floats(0, 1)


@pytest.mark.parametrize("name", surfaces.SURFACES)
@settings(max_examples=25, deadline=None)
@given(u=unit, v=unit, condition=st.floats(1, 1000))
def test_value_gradient_and_hessian_match_torch(name, u, v, condition):
    surface = build(name, condition)
    theta = point_in(surface, u, v)
    engine = Tensor(theta, requires_grad=True)
    loss = surface.loss(engine)
    g, h = autograd.gradient_and_hessian(loss, [engine])
    reference = torch.tensor(theta, requires_grad=True)
    torch_value = torch_loss(surface, reference)
    (torch_g,) = torch.autograd.grad(torch_value, reference)
    torch_h = torch.autograd.functional.hessian(lambda t: torch_loss(surface, t), torch.tensor(theta))
    scale = max(1.0, abs(torch_value.item()))
    assert loss.item() == pytest.approx(torch_value.item(), rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(g, torch_g.numpy(), rtol=1e-9, atol=1e-10 * scale)
    np.testing.assert_allclose(h, torch_h.numpy(), rtol=1e-9, atol=1e-10 * scale)


@pytest.mark.parametrize("name", surfaces.SURFACES)
def test_the_contours_grid_is_the_engines_loss(name):
    surface = build(name)
    xs, ys, z = surface.grid(9)
    assert z.shape == (9, 9) and xs[0] == surface.extent[0] and ys[-1] == surface.extent[3]
    for i in (0, 4, 8):
        for j in (0, 3, 8):
            engine = surface.loss(Tensor(np.array([xs[j], ys[i]]))).item()  # row i is y[i], column j is x[j]
            assert z[i, j] == pytest.approx(engine, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", surfaces.SURFACES)
def test_the_minima_are_minima_and_the_other_stationary_points_are_what_they_say(name):
    surface = build(name)
    for x, y in surface.minima:
        theta = Tensor(np.array([x, y]), requires_grad=True)
        loss = surface.loss(theta)
        g, h = autograd.gradient_and_hessian(loss, [theta])
        assert loss.item() == pytest.approx(surface.minimum, abs=1e-9)
        assert np.abs(g).max() < 1e-4 and np.linalg.eigvalsh(h)[0] > 0
    for x, y, kind in surface.stationary:
        theta = Tensor(np.array([x, y]), requires_grad=True)
        g, h = autograd.gradient_and_hessian(surface.loss(theta), [theta])
        eigenvalues = np.linalg.eigvalsh(h)
        assert np.abs(g).max() < 1e-4
        assert (eigenvalues[0] < 0 < eigenvalues[1]) if kind == "saddle" else (eigenvalues[1] < 0)
    x0, x1, y0, y1 = surface.extent
    assert x0 <= surface.start[0] <= x1 and y0 <= surface.start[1] <= y1
    assert set(surface.learning_rates) == set(surface.optimizers)


def test_only_a_loss_over_examples_offers_stochastic_gradients():
    assert "sgd" not in surfaces.rosenbrock().optimizers and "minibatch" not in surfaces.quadratic().optimizers
    logistic = blobs()
    assert logistic.examples == 60 and {"sgd", "minibatch"} <= set(logistic.optimizers)
    batch = np.array([0, 5, 7])
    points, labels = logistic.data
    theta = torch.tensor([0.3, -0.2], dtype=torch.float64)
    on_batch = TF.binary_cross_entropy_with_logits(torch.tensor(points[batch]) @ theta, torch.tensor(labels[batch]))
    expected = on_batch + surfaces.L2 / 2 * (theta * theta).sum()
    assert logistic.loss(Tensor(theta.numpy()), batch).item() == pytest.approx(expected.item(), rel=1e-12)
