"""Models of the LeNet-5 routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, JsonValue, model_validator

from deepviz.app.schemas.common import Strict

Pixel = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PixelRow = Annotated[list[Pixel], Field(min_length=28, max_length=28)]


class PredictRequest(Strict):
    pixels: Annotated[list[PixelRow], Field(min_length=28, max_length=28)] | None = Field(
        None, description="28×28 values in [0, 1], light ink on black (MNIST format): used as they are"
    )
    image: str | None = Field(
        None, description="a drawing as a data URL (PNG or JPEG, at most max_drawing_bytes), preprocessed MNIST-style"
    )
    target: int | None = Field(None, ge=0, le=9, description="the class to explain (default: the prediction)")

    @model_validator(mode="after")
    def one_source(self) -> PredictRequest:
        if (self.pixels is None) == (self.image is None):
            raise ValueError("give exactly one of pixels and image")
        return self


class QuantizedMap(BaseModel):
    name: str
    shape: list[int]
    min: float
    max: float
    data: str = Field(description="base64 bytes: value = min + byte / 255 · (max - min)")


class PredictOut(BaseModel):
    prediction: int | None = Field(description="None when the drawing is empty")
    note: str = Field("", description="a word for the student, e.g. when the drawing is too small to be a digit")
    probabilities: list[float]
    target: int | None = None
    input: QuantizedMap | None = Field(None, description="the 28×28 image the network sees")
    ink: str | None = Field(
        None,
        description="the same image as bytes 0..255 (value · 255, rounded), base64url without padding: "
        "what /lenet's URL parameter `ink` and a class's drawings carry",
    )
    layers: list[QuantizedMap] = Field(default_factory=list, description="conv1, pool1, conv2, pool2, fc1, fc2, fc3")
    saliency: QuantizedMap | None = None


class ModelOut(BaseModel):
    manifest: JsonValue
    kernels: dict[str, JsonValue] = Field(description="conv1 (6×1×5×5) and conv2 (16×6×5×5) weights")
    layers: list[JsonValue] = Field(
        description="every layer in order: name, caption, type, and for conv and pool layers their kernel, "
        "stride and padding (for receptive fields)"
    )


class MistakeOut(BaseModel):
    index: int = Field(description="position in the MNIST test set")
    label: int
    prediction: int
    pixels: QuantizedMap
