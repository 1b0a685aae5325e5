"""Optimizers racing on a loss surface (notes 2.2, 4): each is the engine's own optimizer
(``engine.optim``) stepping a 2-element parameter θ from the same start, with the gradient
(and for Newton the Hessian) from the engine's autograd.

The racers, by name:

- ``gd``: batch gradient descent, θ ← θ - γ ∇L(θ) on the whole loss;
- ``sgd``: stochastic gradient descent, the gradient of one example's loss (batch size 1);
- ``minibatch``: the gradient of a minibatch's mean loss (``batch_size`` examples), each epoch
  a new order from a seeded generator (``engine.data.batches``);
- ``momentum``, ``nesterov``: SGD with momentum μ, plain or Nesterov's, on the whole loss;
- ``adam``, ``rmsprop``: steps scaled per coordinate by running averages of the gradient;
- ``newton``: the textbook Newton step θ ← θ - γ (H + λI)⁻¹ ∇L, even where H is not positive
  definite (then it heads for a saddle or a maximum);
- ``newton_safeguarded``: the same, but a gradient step where H + λI is not positive definite.

A trajectory stops ("diverged") at the first value that is not finite or that leaves a
generous bound (``BOUND`` times the plotted region around its centre); what it sends is
always finite.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from deepviz.engine import Tensor, data, optim
from deepviz.lessons.surfaces import GAP_FLOOR, Surface

BOUND = 100.0  # a trajectory further than BOUND half-widths of the plot from its centre has diverged
TOLERANCE = 1e-3  # "at the minimum": within this fraction of the plot's width of one
NEWTON_COST = 5  # a Newton step costs about as much as this many gradient steps (its Hessian: 2 more passes)


@dataclass(frozen=True)
class Racer:
    name: str
    learning_rate: float | None = None  # None: the surface's default for this optimizer
    momentum: float = 0.9  # μ of momentum and nesterov
    batch_size: int = 10  # of minibatch
    damping: float = 0.0  # λ of the Newton methods


@dataclass
class Trajectory:
    name: str
    learning_rate: float
    points: list[tuple[float, float, float]]  # (x, y, loss) from the start, one per step
    step_sizes: list[float] = field(default_factory=list)  # ‖θₜ - θₜ₋₁‖, one per step
    stopped: str | None = None  # "diverged"
    reached: int | None = None  # the first step within tolerance of a minimum
    gaps: list[float] = field(default_factory=list)  # L - L* at each point, at least GAP_FLOOR (for a log scale)
    notes: list[str] = field(default_factory=list)


def within(surface: Surface) -> float:
    """The distance to a minimum that counts as reaching it."""
    x0, x1, _, _ = surface.extent
    return TOLERANCE * (x1 - x0)


def work(racers: list[Racer], steps: int) -> int:
    """What a race costs, in gradient steps (a Newton step counts NEWTON_COST)."""
    return steps * sum(NEWTON_COST if r.name.startswith("newton") else 1 for r in racers)


def race(surface: Surface, start: tuple[float, float], racers: list[Racer], steps: int, seed: int = 0,
         between: Callable[[], None] = lambda: None) -> list[Trajectory]:  # fmt: skip
    """Every racer from ``start`` for ``steps`` steps (fewer if it diverges); ``between()`` is
    called between steps (a request's deadline)."""
    return [run(surface, start, racer, steps, seed, between) for racer in racers]


def _optimizer(racer: Racer, theta: Tensor, lr: float) -> optim.Optimizer:
    name = racer.name
    if name in ("gd", "sgd", "minibatch"):
        return optim.SGD([theta], lr=lr)
    if name in ("momentum", "nesterov"):
        return optim.SGD([theta], lr=lr, momentum=racer.momentum, nesterov=name == "nesterov")
    if name == "adam":
        return optim.Adam([theta], lr=lr)
    if name == "rmsprop":
        return optim.RMSprop([theta], lr=lr)
    if name in ("newton", "newton_safeguarded"):
        indefinite = "newton" if name == "newton" else "gradient"
        return optim.Newton([theta], lr=lr, damping=racer.damping, indefinite=indefinite)
    raise ValueError(f"no optimizer named {name!r}")


def _batches(surface: Surface, racer: Racer, seed: int) -> Iterator[np.ndarray | None]:
    """The examples of each step: all (None) for the batch methods, else epoch after epoch
    of seeded minibatches (1 example for sgd)."""
    if racer.name not in ("sgd", "minibatch"):
        while True:
            yield None
    size = 1 if racer.name == "sgd" else min(racer.batch_size, surface.examples)
    rng = np.random.default_rng(seed)
    while True:
        yield from data.batches(surface.examples, size, rng)


def run(surface: Surface, start: tuple[float, float], racer: Racer, steps: int, seed: int = 0,
        between: Callable[[], None] = lambda: None) -> Trajectory:  # fmt: skip
    """One racer's trajectory."""
    if racer.name not in surface.optimizers:
        raise ValueError(f"{racer.name} does not apply to {surface.name}")
    lr = surface.learning_rates[racer.name] if racer.learning_rate is None else racer.learning_rate
    theta = Tensor(np.array(start, dtype=float), requires_grad=True)
    optimizer = _optimizer(racer, theta, lr)
    batches = _batches(surface, racer, seed)
    newton = isinstance(optimizer, optim.Newton)
    x0, x1, y0, y1 = surface.extent
    centre, half = np.array([(x0 + x1) / 2, (y0 + y1) / 2]), max(x1 - x0, y1 - y0) / 2
    tolerance = within(surface)
    minima = np.array(surface.minima)
    thetas, sizes = [theta.data.copy()], []  # θ at each step, and each step's length
    stopped: int | None = None  # the step at which it diverged
    indefinite = 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # Newton's fallback is counted below instead
        reached = 0 if _near(theta.data, minima, tolerance) else None
        for step in range(1, steps + 1):
            between()
            batch = next(batches)
            try:
                if newton:
                    optimizer.step(lambda: surface.loss(theta))  # full batch: Newton is a batch method
                    indefinite += optimizer.smallest_eigenvalue <= 0
                else:
                    optimizer.zero_grad()
                    surface.loss(theta, batch).backward()
                    optimizer.step()
            except np.linalg.LinAlgError:  # a Hessian of infinities: nothing left to solve
                stopped = step
                break
            size = float(np.linalg.norm(theta.data - thetas[-1]))
            if not (np.all(np.isfinite(theta.data)) and np.isfinite(size)):
                stopped = step
                break
            thetas.append(theta.data.copy())
            sizes.append(size)
            if np.abs(theta.data - centre).max() > BOUND * half:  # kept, to show it leave
                stopped = step
                break
            if reached is None and _near(theta.data, minima, tolerance):
                reached = step
        path = np.array(thetas)  # (steps + 1, 2)
        losses = surface.value(path[:, 0], path[:, 1])  # the loss at every point at once (numpy: the engine's value)
    keep = int(np.argmin(np.isfinite(losses))) if not np.all(np.isfinite(losses)) else len(losses)
    if keep < len(losses):  # a loss that overflowed, within the bound: the trajectory ends before it
        stopped, path, losses, sizes = keep, path[:keep], losses[:keep], sizes[: keep - 1]
        reached = reached if reached is not None and reached < keep else None
    points = [(float(x), float(y), float(v)) for (x, y), v in zip(path, losses)]
    out = Trajectory(racer.name, lr, points, sizes, None if stopped is None else "diverged", reached)
    out.gaps = [float(g) for g in np.maximum(losses - surface.minimum, GAP_FLOOR)]
    out.notes = _notes(surface, out, stopped, newton, indefinite, tolerance)
    return out


def _near(theta: np.ndarray, points: np.ndarray, tolerance: float) -> bool:
    return bool(len(points)) and float(np.min(np.linalg.norm(points - theta, axis=1))) <= tolerance


def _notes(surface: Surface, out: Trajectory, diverged: int | None, newton: bool, indefinite: int,
           tolerance: float) -> list[str]:  # fmt: skip
    """What happened, in words: divergence, Newton's indefinite Hessians, a stop at a saddle."""
    notes = []
    steps = len(out.points) - 1
    if diverged is not None:
        notes.append(f"diverged at step {diverged}: θ flew off without bound (try a smaller learning rate)")
    if newton and indefinite:
        then = ("took a gradient step there instead" if out.name == "newton_safeguarded"
                else "the Newton step headed for a saddle or a maximum there")  # fmt: skip
        notes.append(f"H + λI was not positive definite at {indefinite} of {steps} steps: {then}")
    x, y, _ = out.points[-1]
    for sx, sy, kind in surface.stationary:
        if np.hypot(x - sx, y - sy) <= 10 * tolerance:
            notes.append(f"ended at the {kind} ({sx:g}, {sy:g}): the gradient is zero there, but it is not a minimum")
    return notes
