"""The messages of /api/v1/lenet/train/stream (docs/lenet-live.md): a live LeNet-5 run's
settings, a change of them while it runs, and a drawing to test it on. The sizes that cost
the server (digits, batch) are bounded by the settings, checked by ``check_live``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from deepviz.app.errors import InputError
from deepviz.app.schemas.common import Finite, Strict
from deepviz.app.schemas.training import Schedule
from deepviz.app.settings import Settings
from deepviz.lessons.live_lenet import LiveConfig

LiveOptimizer = Literal["adam", "sgd"]


class LivePatch(Strict):
    """What may change while the run goes on."""

    optimizer: LiveOptimizer | None = None
    lr: Finite | None = Field(None, gt=0, le=1)
    schedule: Schedule | None = None
    batch_size: int | None = Field(None, ge=1, le=100_000, description="at most max_lenet_live_batch")

    def changes(self) -> dict:
        return self.model_dump(exclude_none=True)


class LiveConfigIn(Strict):
    digits: int = Field(2000, ge=100, le=1_000_000, description="training digits, at most max_lenet_live_digits")
    optimizer: LiveOptimizer = "adam"
    lr: Finite = Field(LiveConfig.lr, gt=0, le=1, description="the first steps' rate, which the schedule scales")
    schedule: Schedule = Field(LiveConfig.schedule, description="the training lab's: step halves lr every 100 steps")
    batch_size: int = Field(LiveConfig.batch_size, ge=1, le=100_000, description="at most max_lenet_live_batch")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    probe: int = Field(0, ge=0, le=99, description="which of the first 100 validation digits the page follows")

    def to_live(self, settings: Settings) -> LiveConfig:
        return LiveConfig(digits=self.digits, validation=settings.lenet_live_validation, optimizer=self.optimizer,
                          lr=self.lr, schedule=self.schedule, batch_size=self.batch_size, seed=self.seed,
                          probe=self.probe)  # fmt: skip


def check_batch(batch_size: int | None, settings: Settings, loc: list) -> None:
    if batch_size is not None and batch_size > settings.max_lenet_live_batch:
        raise InputError([*loc, "batch_size"], f"a minibatch is at most {settings.max_lenet_live_batch} digits")


def check_live(config: LiveConfigIn, settings: Settings, loc: list) -> None:
    if config.digits > settings.max_lenet_live_digits:
        raise InputError([*loc, "digits"], f"at most {settings.max_lenet_live_digits:,} training digits")
    check_batch(config.batch_size, settings, loc)


class TestIn(Strict):
    ink: str = Field(
        min_length=1, max_length=1100,
        description="the 28×28 image, bytes 0..255 row by row, base64url without padding (frames.ink's format)",
    )  # fmt: skip
