"""Models of the adversarial-example routes (chapter 8)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, JsonValue, model_validator

from deepviz.app.schemas.common import Strict
from deepviz.app.schemas.lenet import PixelRow, QuantizedMap

ModelName = Literal["standard", "robust"]
Steps = Annotated[
    int, Field(ge=1, le=1000, description="1: FGSM; more: the iterated attack (at most max_adversarial_steps)")
]


class AttackSource(Strict):
    pixels: Annotated[list[PixelRow], Field(min_length=28, max_length=28)] | None = Field(
        None, description="28×28 values in [0, 1], light ink on black (MNIST format): used as they are"
    )
    image: str | None = Field(
        None, description="a drawing as a data URL (PNG or JPEG, at most max_drawing_bytes), preprocessed MNIST-style"
    )
    target: int | None = Field(None, ge=0, le=9, description="the class to make the network read; None: any other")
    steps: Steps = 10
    model: ModelName = Field("standard", description="the standard LeNet-5 or the adversarially trained one")

    @model_validator(mode="after")
    def one_source(self) -> AttackSource:
        if (self.pixels is None) == (self.image is None):
            raise ValueError("give exactly one of pixels and image")
        return self


class AdversarialRequest(AttackSource):
    epsilon: float = Field(0.1, ge=0, le=1, allow_inf_nan=False, description="no pixel moves by more than ε")


class AdversarialOut(BaseModel):
    model: ModelName
    pixels: list[list[float]] = Field(description="the perturbed 28×28 image: within ε of the original, in [0, 1]")
    prediction: int = Field(description="what the network reads in the perturbed image")
    probabilities: list[float]
    perturbation: list[list[float]] = Field(description="pixels - original, 28×28")
    perturbation_linf: float = Field(description="the largest change of one pixel (≤ ε)")
    flipped: bool = Field(description="untargeted: read as another class than before; targeted: read as the target")
    target: int | None
    original: list[list[float]] = Field(description="the 28×28 image attacked (a drawing, as the network sees it)")
    original_prediction: int
    original_probabilities: list[float]


class SmallestEpsilonRequest(AttackSource):
    pass


class SmallestEpsilonOut(BaseModel):
    model: ModelName
    epsilon: float | None = Field(description="the smallest ε of the grid at which the attack succeeds; None: none")
    below: float = Field(description="the largest ε tried at which it fails (0: none tried)")
    exact: bool = Field(description="epsilon and below are neighbours on the grid; false: time ran out first")
    grid: list[float] = Field(description="[resolution, largest ε]: the ε tried are the multiples of the first")
    steps: int
    target: int | None
    original_prediction: int


class DigitOut(BaseModel):
    index: int = Field(description="position in the MNIST test set")
    label: int
    pixels: QuantizedMap


class RobustnessOut(BaseModel):
    curves: JsonValue = Field(
        description="test accuracy against ε of both models, FGSM and iterated (measured by bench/robustness.py)"
    )
    models: dict[str, JsonValue] = Field(description="each model's clean test accuracy and how it was trained")
