"""Models of the training lab: a run's ``config`` (docs/training.md), the messages of
/api/v1/train/stream that carry one, /api/v1/train/race and /api/v1/train/program.

The bounds here are what a run can mean (a learning rate, a dropout probability); the sizes
that cost the server (points, layers, units, racers, steps, Newton's parameters) are the
settings', checked by ``check_config`` with a message that names the limit."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from deepviz.app.errors import InputError
from deepviz.app.schemas.common import Finite, Strict
from deepviz.app.settings import Settings
from deepviz.lessons.playground.config import RunConfig

DatasetName = Literal["blobs", "xor", "circles", "moons", "spiral", "sine", "custom"]
Activation = Literal["relu", "tanh", "sigmoid"]
OptimizerName = Literal["gd", "sgd", "momentum", "nesterov", "adam", "rmsprop", "newton"]
Schedule = Literal["constant", "step", "cosine"]


def _point(row: list[float]) -> list[float]:
    x, y, label = row
    if abs(x) > 1 or abs(y) > 1:
        raise ValueError(f"a point lies in the square [-1, 1]², not at ({x:g}, {y:g})")
    if label not in (0, 1, 2):
        raise ValueError(f"a point's label is 0, 1 or 2, not {label:g}")
    return row


Point = Annotated[list[Finite], Field(min_length=3, max_length=3), AfterValidator(_point)]


class DataIn(Strict):
    name: DatasetName = "xor"
    points: int = Field(200, ge=1, le=1_000_000, description="at most max_train_points")
    noise: Finite = Field(0.1, ge=0, le=1, description="standard deviation of the jitter")
    test_fraction: Finite = Field(0.3, ge=0, le=0.9, description="held out for the test metric")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    custom: list[Point] | None = Field(
        None, description='[x, y, label] rows, label 0, 1 or 2 (name "custom"; at most max_train_points)'
    )

    @model_validator(mode="after")
    def custom_goes_with_its_name(self) -> DataIn:
        if self.name == "custom" and not self.custom:
            raise ValueError('the dataset "custom" needs its points: click some, or load a CSV')
        if self.name != "custom" and self.custom is not None:
            raise ValueError(f'custom points go with the dataset "custom", not "{self.name}"')
        return self


class ModelIn(Strict):
    hidden: list[Annotated[int, Field(ge=1, le=1024)]] = Field(
        [8, 8], max_length=64, description="units of each hidden layer (at most max_train_hidden_layers layers of "
        "max_train_units)"
    )  # fmt: skip
    activation: list[Activation] = Field(["tanh", "tanh"], max_length=64, description="one per hidden layer")
    dropout: Finite = Field(0.0, ge=0, le=0.5, description="after each hidden layer, while training")

    @model_validator(mode="after")
    def an_activation_per_layer(self) -> ModelIn:
        if len(self.activation) != len(self.hidden):
            raise ValueError(f"an activation for each hidden layer: {len(self.hidden)} layers, "
                             f"{len(self.activation)} activations")  # fmt: skip
        return self


class TrainIn(Strict):
    optimizer: OptimizerName = "adam"
    lr: Finite = Field(0.03, gt=0, le=10, description="the step size (Newton: 1 is the full step)")
    momentum: Finite = Field(0.9, ge=0, lt=1)
    batch_size: int = Field(10, ge=1, le=1_000_000, description="examples a step (sgd, momentum, nesterov, adam, "
                            "rmsprop); more than the training set: all of it")  # fmt: skip
    l2: Finite = Field(0.0, ge=0, le=1, description="λ of (λ/2)‖θ‖²")
    schedule: Schedule = "constant"
    damping: Finite = Field(0.001, ge=0, le=100, description="Newton's λ in H + λI")

    @model_validator(mode="after")
    def nesterov_needs_momentum(self) -> TrainIn:
        if self.optimizer == "nesterov" and self.momentum == 0:
            raise ValueError("Nesterov's method needs a momentum above 0")
        return self


class TrainPatch(Strict):
    """Some of ``train``'s fields: a live change, or a racer."""

    optimizer: OptimizerName | None = None
    lr: Finite | None = None
    momentum: Finite | None = None
    batch_size: int | None = None
    l2: Finite | None = None
    schedule: Schedule | None = None
    damping: Finite | None = None

    def changes(self) -> dict:
        return self.model_dump(exclude_none=True)


class RunConfigIn(Strict):
    data: DataIn = Field(default_factory=DataIn)
    model: ModelIn = Field(default_factory=ModelIn)
    train: TrainIn = Field(default_factory=TrainIn)
    seed: int = Field(0, ge=0, le=2**32 - 1, description="initial weights, minibatch order, dropout")

    def to_run(self) -> RunConfig:
        return RunConfig.from_dict(self.model_dump())


def parameters(config: RunConfigIn) -> int:
    """The model's weights and biases: what Newton's Hessian is square in."""
    d_in = 1 if config.data.name == "sine" else 2
    custom = config.data.custom or []
    d_out = 3 if config.data.name == "spiral" or any(row[2] == 2 for row in custom) else 1
    sizes = [d_in, *config.model.hidden, d_out]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def check_newton(config: RunConfigIn, settings: Settings, loc: list) -> None:
    n = parameters(config)
    if config.train.optimizer == "newton" and n > settings.max_newton_parameters:
        raise InputError(
            [*loc, "optimizer"],
            f"Newton's method needs the {n} × {n} Hessian: at most {settings.max_newton_parameters} parameters, "
            f"this model has {n}: use fewer or smaller hidden layers, or another optimizer",
            kind="too_expensive",
        )


def check_config(config: RunConfigIn, settings: Settings, loc: list) -> None:
    """The settings' limits on a run, each with a message that names it (``loc`` leads to
    the config: ["body", "config"], or ["config"] in a stream message)."""
    data, model = config.data, config.model
    n = len(data.custom) if data.custom is not None else data.points
    if n > settings.max_train_points:
        field = "custom" if data.custom is not None else "points"
        raise InputError([*loc, "data", field], f"at most {settings.max_train_points} points, not {n}")
    if len(model.hidden) > settings.max_train_hidden_layers:
        raise InputError([*loc, "model", "hidden"], f"at most {settings.max_train_hidden_layers} hidden layers")
    for i, units in enumerate(model.hidden):
        if units > settings.max_train_units:
            raise InputError([*loc, "model", "hidden", i], f"at most {settings.max_train_units} units a layer")
    check_newton(config, settings, [*loc, "train"])


class RaceRequest(Strict):
    config: RunConfigIn = Field(default_factory=RunConfigIn)
    racers: list[TrainPatch] = Field(min_length=1, max_length=64, description="each overrides config.train "
                                     "(at most max_race_racers)")  # fmt: skip
    target_loss: Finite = Field(0.05, ge=0, le=100, description="the training set's mean loss to reach")
    max_steps: int = Field(300, ge=1, le=1_000_000, description="at most max_race_steps")


class RacerOut(BaseModel):
    optimizer: str
    losses: list[float] = Field(description="the training set's mean loss after each step")
    steps_to_target: int | None
    seconds_to_target: float | None
    seconds: float = Field(description="of all its steps")
    stopped: Literal["diverged", "time"] | None = Field(
        description="diverged: its loss stopped being finite; time: its share of the request's time ran out"
    )


class RaceOut(BaseModel):
    results: list[RacerOut]


class ProgramRequest(Strict):
    config: RunConfigIn = Field(default_factory=RunConfigIn)
    steps: int = Field(
        1000, ge=1, le=1_000_000, description="the program's training steps (it runs them, not the server)"
    )
