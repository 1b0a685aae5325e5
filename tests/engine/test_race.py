"""Optimizers racing on a surface (lessons.race): Newton lands on a quadratic's minimum in one
step, plain Newton heads for a saddle where the safeguarded one escapes, divergence stops a
trajectory with finite numbers, and the stochastic racers sample a seeded minibatch."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepviz.engine import Tensor, optim
from deepviz.lessons import surfaces
from deepviz.lessons.playground import datasets
from deepviz.lessons.race import Racer, run, work


@settings(max_examples=30, deadline=None)
@given(condition=st.floats(1, 1000), x=st.floats(-2, 2), y=st.floats(-2, 2))
def test_newton_lands_on_the_quadratics_minimum_in_one_step(condition, x, y):
    surface = surfaces.quadratic(condition)
    trajectory = run(surface, (x, y), Racer("newton"), 3)
    assert trajectory.points[1][:2] == pytest.approx((0.0, 0.0), abs=1e-12)
    assert trajectory.reached <= 1 and trajectory.points[1][2] == pytest.approx(0.0, abs=1e-20)


def test_gradient_descent_does_not_on_an_ill_conditioned_quadratic():
    surface = surfaces.quadratic(10)
    trajectory = run(surface, surface.start, Racer("gd"), 20)
    assert trajectory.reached is None or trajectory.reached > 5
    # along x it shrinks by 1 - γ per step: the engine's SGD is plain θ ← θ - γ∇L
    gamma = surface.learning_rates["gd"]
    assert trajectory.points[20][0] == pytest.approx(surface.start[0] * (1 - gamma) ** 20, rel=1e-9)
    assert trajectory.points[20][1] == pytest.approx(surface.start[1] * (1 - 10 * gamma) ** 20, rel=1e-9)


def test_plain_newton_goes_to_the_saddle_and_the_safeguarded_one_escapes():
    surface = surfaces.saddle()
    plain = run(surface, surface.start, Racer("newton"), 30)
    safe = run(surface, surface.start, Racer("newton_safeguarded"), 30)
    assert plain.points[-1][:2] == pytest.approx((0.0, 0.0), abs=1e-9) and plain.reached is None
    assert any("ended at the saddle" in note for note in plain.notes)
    assert any("headed for a saddle" in note for note in plain.notes)
    assert abs(safe.points[-1][0]) == pytest.approx(1.0, abs=1e-9) and safe.reached is not None
    assert any("took a gradient step" in note for note in safe.notes)


def test_the_race_is_the_engines_optimizer_step_for_step():
    surface = surfaces.rosenbrock()
    trajectory = run(surface, surface.start, Racer("adam", 0.05), 10)
    theta = Tensor(np.array(surface.start), requires_grad=True)
    adam = optim.Adam([theta], lr=0.05)
    for step in range(1, 11):
        adam.zero_grad()
        surface.loss(theta).backward()
        adam.step()
        assert trajectory.points[step][:2] == pytest.approx(tuple(theta.data), rel=1e-12)
        assert trajectory.step_sizes[step - 1] == pytest.approx(
            math.dist(trajectory.points[step][:2], trajectory.points[step - 1][:2]), rel=1e-12
        )


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "newton_safeguarded"])  # (RMSprop, Adam: steps ~γ)
def test_divergence_stops_a_trajectory_with_finite_numbers(name):
    surface = surfaces.beale()
    trajectory = run(surface, (4.0, 4.0), Racer(name, 10.0), 200)
    assert trajectory.stopped == "diverged" and len(trajectory.points) < 201
    assert all(math.isfinite(v) for point in trajectory.points for v in point)
    assert all(math.isfinite(s) for s in trajectory.step_sizes)
    assert any(note.startswith("diverged at step") for note in trajectory.notes)


def test_a_stable_race_is_not_called_diverged():
    surface = surfaces.himmelblau()
    trajectory = run(surface, surface.start, Racer("gd"), 100)
    assert trajectory.stopped is None and len(trajectory.points) == 101 and trajectory.reached is not None


def logistic() -> surfaces.Surface:
    data = datasets.make("blobs", points=50, noise=0.3, seed=1)
    return surfaces.logistic(data.x, data.y, "blobs")


def test_stochastic_gradients_are_noisy_and_seeded():
    surface = logistic()
    gd = run(surface, surface.start, Racer("gd", 1.0), 30)
    sgd = run(surface, surface.start, Racer("sgd", 1.0), 30, seed=4)
    again = run(surface, surface.start, Racer("sgd", 1.0), 30, seed=4)
    other = run(surface, surface.start, Racer("sgd", 1.0), 30, seed=5)
    full = run(surface, surface.start, Racer("minibatch", 1.0, batch_size=50), 30)
    assert sgd.points == again.points and sgd.points != other.points and sgd.points != gd.points
    np.testing.assert_allclose(full.points, gd.points, rtol=1e-12)  # a batch of all N is batch gradient descent


def test_stochastic_racers_are_refused_where_there_are_no_examples():
    with pytest.raises(ValueError, match="sgd does not apply to rosenbrock"):
        run(surfaces.rosenbrock(), (0.0, 0.0), Racer("sgd"), 5)


def test_newton_reaches_the_logistic_minimum_found_for_the_surface():
    surface = logistic()
    trajectory = run(surface, surface.start, Racer("newton"), 10)
    assert trajectory.reached is not None and trajectory.reached <= 6
    assert trajectory.points[-1][2] == pytest.approx(surface.minimum, rel=1e-12)


def test_work_counts_a_newton_step_as_several():
    assert work([Racer("gd"), Racer("newton")], 100) > work([Racer("gd"), Racer("adam")], 100) == 200


def test_a_step_that_overflows_is_divergence_with_finite_numbers():
    surface = surfaces.quadratic(1)
    trajectory = run(surface, (1e3, 1e3), Racer("gd", 1e305), 3)  # θ ≈ -1e308: finite, its step size is not
    assert trajectory.stopped == "diverged" and len(trajectory.points) == 1 and trajectory.step_sizes == []
