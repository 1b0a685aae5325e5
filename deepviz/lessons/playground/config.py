"""A run of the training lab, as docs/training.md describes its ``config``: the data, the
model, how it is trained, and the seed of its initial weights, minibatch order and dropout.
The defaults are the page's first run: XOR, two hidden layers of 8 tanh units, Adam."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

OPTIMIZERS = ("gd", "sgd", "momentum", "nesterov", "adam", "rmsprop", "newton")
FULL_BATCH = ("gd", "newton")  # the others take minibatches of batch_size
SCHEDULES = ("constant", "step", "cosine")
ACTIVATIONS = ("relu", "tanh", "sigmoid")


@dataclass
class DataConfig:
    name: str = "xor"  # datasets.NAMES
    points: int = 200
    noise: float = 0.1  # standard deviation of the jitter
    test_fraction: float = 0.3  # held out for the test metric
    seed: int = 0
    custom: list[list[float]] | None = None  # [x, y, label] rows, for name == "custom"


@dataclass
class ModelConfig:
    hidden: list[int] = field(default_factory=lambda: [8, 8])  # units of each hidden layer
    activation: list[str] = field(default_factory=lambda: ["tanh", "tanh"])  # one per hidden layer
    dropout: float = 0.0  # after each hidden layer, while training


@dataclass
class TrainConfig:
    optimizer: str = "adam"  # OPTIMIZERS
    lr: float = 0.03  # the step size γ (Newton: 1 is the full step)
    momentum: float = 0.9  # μ of momentum and Nesterov
    batch_size: int = 10  # sgd, momentum, nesterov, adam, rmsprop
    l2: float = 0.0  # λ of (λ/2)‖θ‖², every weight and bias
    schedule: str = "constant"  # SCHEDULES
    damping: float = 0.001  # Newton's λ in H + λI


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # initial weights, minibatch order, dropout masks

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        """A run from its JSON (missing fields take their defaults)."""
        return cls(
            DataConfig(**d.get("data", {})),
            ModelConfig(**d.get("model", {})),
            TrainConfig(**d.get("train", {})),
            d.get("seed", 0),
        )

    def to_dict(self) -> dict:
        return asdict(self)

    def with_train(self, **changes) -> RunConfig:
        """The same run trained otherwise (a racer, a live change)."""
        unknown = set(changes) - {f.name for f in fields(TrainConfig)}
        if unknown:
            raise ValueError(f"train has no field {sorted(unknown)[0]!r}")
        return replace(self, train=replace(self.train, **changes))
