"""Loss surfaces over two parameters θ = (x, y), for the optimizers to race on (notes 2.2, 4).

Each analytic surface is one formula ``f(x, y)`` written with arithmetic only, so that the
same line runs on engine Tensors (a trajectory: gradients and Hessians come from the
engine's autograd) and on numpy arrays (the contour's grid, all at once). The logistic
regression surface is the mean logistic loss of a 2-D dataset over the two weights of
σ(w₁x₁ + w₂x₂) (no bias, so that the two weights are the whole model), plus a little L2
so that the minimum is finite even when the classes are separable.

A surface says which optimizers apply to it: stochastic and minibatch gradients need a loss
that is a mean over examples, which only the logistic regression surface has. On the
analytic surfaces there are no examples to sample, so a "stochastic" gradient would be noise
made up for the picture: those surfaces leave SGD and minibatch out rather than pretend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from deepviz.engine import Tensor, optim
from deepviz.engine import functional as F
from deepviz.lessons.playground import datasets

FIRST_ORDER = ("gd", "momentum", "nesterov", "adam", "rmsprop")
SECOND_ORDER = ("newton", "newton_safeguarded")
STOCHASTIC = ("sgd", "minibatch")
OPTIMIZERS = ("gd", "sgd", "minibatch", "momentum", "nesterov", "adam", "rmsprop", "newton", "newton_safeguarded")
GRID = 61  # the contour's grid: GRID × GRID points
CONTOUR_EPSILON = 1e-3  # ε of the contour's log₁₀(L - L* + ε): the levels stop there
GAP_FLOOR = 1e-16  # L - L* below this is drawn at this, on the log scale of loss against step
OPTIMIZER_TITLES = {
    "gd": "Gradient descent (batch)",
    "sgd": "Stochastic gradient descent (1 example)",
    "minibatch": "Minibatch gradient descent",
    "momentum": "Momentum",
    "nesterov": "Nesterov momentum",
    "adam": "Adam",
    "rmsprop": "RMSprop",
    "newton": "Newton",
    "newton_safeguarded": "Newton, safeguarded",
}
DATASETS = ("blobs", "moons", "xor", "circles")  # the two-class datasets of lessons.playground
L2 = 0.01  # λ of the logistic regression surface's (λ/2)‖w‖²


@dataclass(frozen=True)
class Surface:
    name: str
    title: str
    formula: str  # LaTeX
    extent: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max of the plot
    start: tuple[float, float]  # the default start point
    minima: tuple[tuple[float, float], ...]
    minimum: float  # the loss at the (global) minima
    learning_rates: dict[str, float]  # a default per optimizer, chosen for a race worth watching
    f: Callable  # f(x, y) on Tensors or arrays (analytic surfaces); None for a dataset's loss
    stationary: tuple[tuple[float, float, str], ...] = ()  # other stationary points: (x, y, "saddle" | "maximum")
    examples: int = 0  # N, when the loss is a mean over N examples (then SGD and minibatch apply)
    note: str = ""
    data: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)  # points (N, 2), labels (N,)

    @property
    def optimizers(self) -> tuple[str, ...]:
        """The optimizers that mean something on this surface, in the page's order."""
        return tuple(o for o in OPTIMIZERS if o not in STOCHASTIC or self.examples)

    def loss(self, theta: Tensor, batch: np.ndarray | None = None) -> Tensor:
        """The loss at θ (a 2-element Tensor), built from engine ops: on the examples ``batch``
        (indices) when given, else on all of them."""
        if self.data is None:
            return self.f(theta[0], theta[1])
        points, labels = self.data
        if batch is not None:
            points, labels = points[batch], labels[batch]
        return F.binary_cross_entropy_with_logits(Tensor(points) @ theta, labels) + F.l2_penalty([theta], L2)

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The loss at every (x, y) of two arrays of one shape, in numpy: for the contour."""
        if self.data is None:
            return self.f(x, y)
        points, labels = self.data
        z = np.stack([x.ravel(), y.ravel()], axis=1) @ points.T  # (G, N): every example's logit at every θ
        losses = np.mean(np.logaddexp(0.0, z) - labels * z, axis=1) + (L2 / 2) * (x.ravel() ** 2 + y.ravel() ** 2)
        return losses.reshape(x.shape)

    def grid(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``size`` x values and ``size`` y values over the extent, and the loss on their grid
        (size, size), row i at y[i]."""
        x0, x1, y0, y1 = self.extent
        xs, ys = np.linspace(x0, x1, size), np.linspace(y0, y1, size)
        gx, gy = np.meshgrid(xs, ys)
        with np.errstate(over="ignore", invalid="ignore"):
            return xs, ys, self.value(gx, gy)

    def contour(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The grid of ``grid`` as log₁₀(L - L* + ε): evenly spaced contours of it are
        log-spaced levels of the loss, dense near the minimum where the racers end."""
        xs, ys, z = self.grid(size)
        return xs, ys, np.log10(np.maximum(z - self.minimum, 0.0) + CONTOUR_EPSILON)


def _rates(**first_order: float) -> dict[str, float]:
    """Learning rates for the first-order racers; Newton's full step, γ = 1, for both Newtons."""
    return {**first_order, "newton": 1.0, "newton_safeguarded": 1.0}


# -- the analytic surfaces: one formula each, for Tensors and arrays alike ----------------


def quadratic(condition: float = 10.0) -> Surface:
    """A bowl ½(x² + κy²) whose curvatures differ by the condition number κ: gradient descent
    must keep γ < 2/κ to be stable along y, and then crawls along x at 1 - γ per step. Newton
    rescales by the inverse Hessian and lands on the minimum in one step whatever κ."""
    k = float(condition)
    return Surface(
        "quadratic",
        "A quadratic bowl",
        r"\mathcal{L}(x, y) = \tfrac{1}{2}\left(x^2 + \kappa\, y^2\right)",
        (-2.0, 2.0, -2.0, 2.0),
        (-1.8, 1.5),
        ((0.0, 0.0),),
        0.0,
        _rates(gd=1.6 / k, momentum=0.5 / k, nesterov=0.5 / k, adam=0.1, rmsprop=0.03),
        lambda x, y: 0.5 * (x * x + k * (y * y)),
        note=f"κ = {k:g}: the Hessian is diag(1, κ), the same everywhere.",
    )


def rosenbrock() -> Surface:
    return Surface(
        "rosenbrock",
        "Rosenbrock's banana",
        r"\mathcal{L}(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
        (-2.0, 2.0, -1.0, 3.0),
        (-1.5, 2.0),
        ((1.0, 1.0),),
        0.0,
        _rates(gd=0.002, momentum=0.0005, nesterov=0.001, adam=0.2, rmsprop=0.02),
        lambda x, y: (1 - x) * (1 - x) + 100 * ((y - x * x) * (y - x * x)),
        note="A curved valley, steep across and nearly flat along: first-order methods find the valley at once "
        "and then crawl along it.",
    )


def beale() -> Surface:
    return Surface(
        "beale",
        "Beale's function",
        r"\mathcal{L}(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        (-4.5, 4.5, -4.5, 4.5),
        (1.0, 1.5),
        ((3.0, 0.5),),
        0.0,
        _rates(gd=0.01, momentum=0.002, nesterov=0.005, adam=0.2, rmsprop=0.1),
        lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
        stationary=((0.0, 1.0, "saddle"),),
        note="Flat plateaus and steep walls: the gradient's size varies by orders of magnitude. Newton's model "
        "is a saddle almost everywhere, and the safeguarded Newton's gradient step, with Newton's γ = 1, is far "
        "too long here: give it a learning rate of 0.001.",
    )


HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))


def himmelblau() -> Surface:
    return Surface(
        "himmelblau",
        "Himmelblau's function",
        r"\mathcal{L}(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        (-5.0, 5.0, -5.0, 5.0),
        (-0.5, 0.0),
        HIMMELBLAU_MINIMA,
        0.0,
        _rates(gd=0.01, momentum=0.002, nesterov=0.002, adam=0.1, rmsprop=0.05),
        lambda x, y: (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
        stationary=(
            (-0.270845, -0.923039, "maximum"),
            (0.086678, 2.884255, "saddle"),
            (-3.073026, -0.081353, "saddle"),
            (3.385154, 0.073852, "saddle"),
            (-0.127961, -1.953715, "saddle"),
        ),  # fmt: skip
        note="Four minima, a maximum and four saddles: where you start decides where you end.",
    )


def saddle() -> Surface:
    return Surface(
        "saddle",
        "A saddle between two valleys",
        r"\mathcal{L}(x, y) = \tfrac{1}{4}\left(x^2 - 1\right)^2 + \tfrac{1}{2}\, y^2",
        (-2.0, 2.0, -2.0, 2.0),
        (0.05, 1.5),
        ((-1.0, 0.0), (1.0, 0.0)),
        0.0,
        _rates(gd=0.2, momentum=0.05, nesterov=0.05, adam=0.1, rmsprop=0.02),
        lambda x, y: 0.25 * (x * x - 1) ** 2 + 0.5 * (y * y),
        stationary=((0.0, 0.0, "saddle"),),
        note="At (0, 0) the loss curves up along y and down along x: a saddle. Near it the gradient is tiny, "
        "and Newton's quadratic model has its stationary point at the saddle itself.",
    )


def logistic(points: np.ndarray, labels: np.ndarray, dataset: str = "") -> Surface:
    """The mean logistic loss of σ(w₁x₁ + w₂x₂) on the dataset, plus (λ/2)‖w‖². Convex, with
    one minimum, found here by Newton's method (damped, run to convergence with the engine)."""
    points, labels = np.asarray(points, dtype=float), np.asarray(labels, dtype=float)
    surface = Surface(
        "logistic",
        f"Logistic regression{f' on {dataset}' if dataset else ''}",
        r"\mathcal{L}(w) = \frac{1}{N}\sum_{i=1}^{N} -\left[y_i \log \sigma(w^\top x_i) "
        r"+ (1 - y_i)\log\left(1 - \sigma(w^\top x_i)\right)\right] + \frac{\lambda}{2}\lVert w\rVert^2",
        (-4.0, 4.0, -4.0, 4.0),
        (-2.0, 2.0),
        ((0.0, 0.0),),
        0.0,
        _rates(gd=3.0, sgd=1.0, minibatch=2.0, momentum=1.0, nesterov=1.0, adam=0.3, rmsprop=0.1),
        None,
        examples=len(labels),
        note=f"{len(labels)} points, no bias, λ = {L2:g}: the loss is a mean over the points, so a minibatch "
        "gives a noisy estimate of its gradient.",
        data=(points, labels),
    )
    w = minimize(surface)
    half = float(np.ceil(max(3.0, 1.5 * np.abs(w).max())))
    minimum = float(surface.loss(Tensor(w)).item())
    return replace(surface, extent=(-half, half, -half, half), minima=((float(w[0]), float(w[1])),), minimum=minimum,
                   start=(-0.4 * half, 0.4 * half))  # fmt: skip


def minimize(surface: Surface, steps: int = 50) -> np.ndarray:
    """The minimum of a convex surface, by the engine's Newton's method from the origin."""
    theta = Tensor(np.zeros(2), requires_grad=True)
    newton = optim.Newton([theta], damping=1e-9)
    for _ in range(steps):
        previous = theta.data.copy()
        newton.step(lambda: surface.loss(theta))
        if np.abs(theta.data - previous).max() < 1e-13:
            break
    return theta.data.copy()


ANALYTIC: dict[str, Callable[..., Surface]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "himmelblau": himmelblau,
    "saddle": saddle,
}
SURFACES = (*ANALYTIC, "logistic")


@lru_cache(maxsize=64)
def make(name: str, condition: float = 10.0, dataset: str = "blobs", points: int = 100, noise: float = 0.1,
         seed: int = 0) -> Surface:  # fmt: skip
    """A surface by name: the quadratic with its condition number, the logistic regression of
    a seeded two-class dataset of lessons.playground (``dataset``, ``points``, ``noise``,
    ``seed``), or an analytic surface."""
    if name == "quadratic":
        return quadratic(condition)
    if name == "logistic":
        if dataset not in DATASETS:
            raise ValueError(f"the logistic regression surface needs a two-class dataset: one of {', '.join(DATASETS)}")
        data = datasets.make(dataset, points=points, noise=noise, seed=seed)
        return logistic(data.x, data.y, dataset)
    return ANALYTIC[name]()
