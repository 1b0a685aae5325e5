"""Models of the optimizers page's routes: /api/v1/optimize and /api/v1/optimize/options."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from deepviz.app.schemas.common import Finite, Strict

# The names are the lesson's (lessons.surfaces): a test checks that they agree.
SurfaceName = Literal["quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "logistic"]
OptimizerName = Literal["gd", "sgd", "minibatch", "momentum", "nesterov", "adam", "rmsprop", "newton",
                        "newton_safeguarded"]  # fmt: skip
DatasetName = Literal["blobs", "moons", "xor", "circles"]
START_BOUND = 1000.0  # |x|, |y| of a start point
Coordinate = Annotated[float, Field(ge=-START_BOUND, le=START_BOUND, allow_inf_nan=False)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]


class RacerIn(Strict):
    name: OptimizerName
    learning_rate: Finite | None = Field(
        None, gt=0, le=100, description="γ; None: the surface's default for this optimizer (see the options)"
    )
    momentum: Finite = Field(0.9, ge=0, lt=1, description="μ of momentum and nesterov")
    batch_size: int = Field(10, ge=1, description="of minibatch: at most the dataset's points")
    damping: Finite = Field(0.0, ge=0, le=1000, description="λ of the Newton methods: H + λI")


class DatasetIn(Strict):
    name: DatasetName = "blobs"
    points: int = Field(100, ge=2, description="at most max_optimize_points")
    noise: Finite = Field(0.1, ge=0, le=1)
    seed: Seed = 0


class OptimizeRequest(Strict):
    surface: SurfaceName = "quadratic"
    start: Annotated[list[Coordinate], Field(min_length=2, max_length=2)] | None = Field(
        None, description="[x, y]; None: the surface's default start", examples=[[-1.5, 2.0]]
    )
    optimizers: list[RacerIn] = Field(
        min_length=1, description="each optimizer at most once, at most max_racers of them",
        examples=[[{"name": "gd", "learning_rate": 0.001}, {"name": "newton"}]],
    )  # fmt: skip
    steps: int = Field(100, ge=1, description="at most max_optimize_steps; × optimizers, at most max_optimize_work")
    condition: Finite = Field(10.0, ge=1, le=1000, description="κ of the quadratic bowl")
    dataset: DatasetIn = Field(default_factory=DatasetIn, description="the logistic regression surface's data")
    seed: Seed = Field(0, description="the order of the stochastic racers' examples")


class StationaryOut(BaseModel):
    x: float
    y: float
    kind: Literal["saddle", "maximum"]


class ContourOut(BaseModel):
    x: list[float]
    y: list[float]
    z: list[list[float]] = Field(description="log₁₀(L - L* + ε) on the grid, row i at y[i]")
    label: str


class SurfaceOut(BaseModel):
    name: SurfaceName
    title: str
    formula: str = Field(description="MathML")
    extent: list[float] = Field(description="[x_min, x_max, y_min, y_max]")
    start: list[float]
    minima: list[list[float]]
    minimum: float = Field(description="L*, the loss at the minima")
    stationary: list[StationaryOut] = Field(description="stationary points that are not minima")
    optimizers: list[OptimizerName] = Field(description="the optimizers that apply to this surface")
    learning_rates: dict[str, float] = Field(description="the default learning rate of each optimizer")
    examples: int = Field(description="N when the loss is a mean over N examples (SGD and minibatch apply), else 0")
    note: str


class TrajectoryOut(BaseModel):
    name: OptimizerName
    title: str
    learning_rate: float
    points: list[list[float]] = Field(description="[x, y, loss] from the start, one per step; always finite")
    gaps: list[float] = Field(description="L - L* at each point, floored at 1e-16 for a log scale")
    step_sizes: list[float] = Field(description="‖θₜ - θₜ₋₁‖, one per step")
    stopped: Literal["diverged"] | None
    reached: int | None = Field(description="the first step within tolerance of a minimum")
    final_loss: float
    notes: list[str]


class OptimizeOut(BaseModel):
    surface: SurfaceOut
    contour: ContourOut
    tolerance: float = Field(description="distance to a minimum that counts as reaching it")
    trajectories: list[TrajectoryOut]


class OptimizerOut(BaseModel):
    name: OptimizerName
    title: str
    options: list[str] = Field(description="the fields of a racer this optimizer reads")


class LimitsOut(BaseModel):
    steps: int
    racers: int
    work: int
    newton_cost: int = Field(description="a Newton step counts as this many steps of work")
    points: int
    start: float
    condition: list[float]
    learning_rate: float


class OptionsOut(BaseModel):
    surfaces: list[SurfaceOut] = Field(description="each at its defaults (the quadratic's κ = 10, blobs)")
    optimizers: list[OptimizerOut]
    datasets: list[DatasetName]
    limits: LimitsOut
