"""Models of the CNN routes: /api/v1/conv, /kernels, /images, /receptive-field, /pool, /shapes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Discriminator, Field, JsonValue, Tag, model_validator

from deepviz.app.schemas.common import Finite, Strict

# An image's sides are bounded by the settings (max_image_side, max_pool_side), checked by the
# router with a message naming the limit; a kernel's by its nature (11 is the largest taught).
Grid = Annotated[list[Annotated[list[Finite], Field(min_length=1)]], Field(min_length=1)]
KernelGrid = Annotated[
    list[Annotated[list[Finite], Field(min_length=1, max_length=11)]], Field(min_length=1, max_length=11)
]


class ImageRef(Strict):
    """A sample image by name, or an upload as a data URL (PNG or JPEG), at ``size`` pixels."""

    preset: str | None = Field(None, max_length=40, examples=["camera"])
    data_url: str | None = Field(None, description="data:image/png;base64,… (at most max_upload_bytes)")
    size: int = Field(64, ge=4, description="the longer side, in pixels, after resizing (at most max_image_side)")

    @model_validator(mode="after")
    def one_source(self) -> ImageRef:
        if (self.preset is None) == (self.data_url is None):
            raise ValueError("give exactly one of preset and data_url")
        return self


def _image_kind(value) -> str:
    return "grid" if isinstance(value, list) else "ref"


# A grid of numbers or a reference to an image: told apart by their JSON type, so that an
# error about one is not drowned in errors about the other.
ImageInput = Annotated[Annotated[Grid, Tag("grid")] | Annotated[ImageRef, Tag("ref")], Discriminator(_image_kind)]


class ConvDetailRequest(Strict):
    kernel: int = Field(0, ge=0, le=7, description="which kernel of the bank")
    row: int = Field(ge=0, le=1024)
    col: int = Field(ge=0, le=1024)


class ConvRequest(Strict):
    image: ImageInput = Field(description="a grid of numbers, or an image reference")
    kernels: Annotated[list[KernelGrid | str], Field(min_length=1, max_length=8)] = Field(
        description="up to 8 kernels: grids, or names from GET /api/v1/kernels", examples=[["sobel_x"]]
    )
    bias: list[Finite] | None = Field(None, max_length=8, description="one per kernel (default 0)")
    padding: int = Field(0, ge=0, le=10)
    stride: int = Field(1, ge=1, le=10)
    dilation: int = Field(1, ge=1, le=5)
    mode: Literal["cross-correlation", "convolution"] = "cross-correlation"
    detail: ConvDetailRequest | None = Field(None, description="explain how one output pixel is made")


class GeometryOut(BaseModel):
    input: int
    kernel: int
    padding: int
    stride: int
    dilation: int
    numerator: int = Field(description="W - D(K - 1) - 1 + 2P")
    divides: bool = Field(description="whether S divides the numerator (else the floor drops pixels)")
    output: int
    dropped: list[int] = Field(description="input rows or columns no window reads")


class PixelDetailOut(BaseModel):
    kernel: int
    row: int
    col: int
    top: int
    left: int
    patch: JsonValue
    weights: JsonValue = Field(description="the kernel as laid over the patch (flipped for a convolution)")
    products: JsonValue
    total: float
    bias: float
    value: float


class ConvOut(BaseModel):
    input: JsonValue
    kernels: list[JsonValue]
    outputs: list[JsonValue]
    output_shape: list[int]
    height: GeometryOut
    width: GeometryOut
    mode: str
    detail: PixelDetailOut | None = None


class KernelOut(BaseModel):
    name: str
    description: str
    values: JsonValue


class ImageInfo(BaseModel):
    name: str
    description: str


class LayerSpec(Strict):
    type: Literal["conv", "maxpool", "avgpool"]
    kernel: int = Field(ge=1, le=11)
    stride: int = Field(1, ge=1, le=5)
    padding: int = Field(0, ge=0, le=5)
    dilation: int = Field(1, ge=1, le=4)


class UnitRef(Strict):
    layer: int = Field(ge=0, le=12, description="0: the input; i: the map after layer i")
    row: int = Field(ge=0, le=1024)
    col: int = Field(ge=0, le=1024)


class ReceptiveFieldRequest(Strict):
    layers: Annotated[list[LayerSpec], Field(min_length=1, max_length=10)]
    input_size: int = Field(32, ge=1, le=128)
    unit: UnitRef | None = None
    effective: bool = Field(True, description="also the effective field: |∂unit/∂input| by backprop")


class LayerFieldOut(BaseModel):
    index: int
    name: str
    size: int
    r: int = Field(description="receptive field size, in input pixels")
    jump: int = Field(description="input pixels between neighbouring units")
    start: float = Field(description="input coordinate of the first unit's field centre")


class ReceptiveFieldOut(BaseModel):
    maps: list[LayerFieldOut]
    regions: list[list[int]] | None = Field(None, description="[top, left, bottom, right] in each map, input first")
    effective: JsonValue = None


class PoolRequest(Strict):
    grid: ImageInput
    kind: Literal["max", "avg"] = "max"
    kernel: int = Field(2, ge=1, le=8)
    stride: int | None = Field(None, ge=1, le=8)
    upstream: Grid | Literal["ones", "count"] = Field(
        "ones",
        description='the gradient arriving at the output: a grid the output\'s size, "ones", or "count" '
        "(1, 2, 3, … in reading order: every value tells where it came from)",
    )


class PoolOut(BaseModel):
    input: JsonValue
    output: JsonValue
    upstream: JsonValue
    gradient: JsonValue = Field(description="the input's gradient after backward")


class StackLayer(Strict):
    type: Literal["conv", "relu", "maxpool", "avgpool", "flatten", "linear"]
    in_channels: int | None = Field(None, ge=1, le=4096)
    out_channels: int | None = Field(None, ge=1, le=4096)
    kernel: int | None = Field(None, ge=1, le=64)
    stride: int | None = Field(None, ge=1, le=64)
    padding: int | None = Field(None, ge=0, le=64)
    in_features: int | None = Field(None, ge=1, le=10_000_000)
    out_features: int | None = Field(None, ge=1, le=100_000)

    @model_validator(mode="after")
    def has_what_its_type_needs(self) -> StackLayer:
        needs = {"conv": ("in_channels", "out_channels", "kernel"), "maxpool": ("kernel",), "avgpool": ("kernel",),
                 "linear": ("in_features", "out_features")}.get(self.type, ())  # fmt: skip
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.type} layer needs {', '.join(missing)}")
        return self


class ShapesRequest(Strict):
    input_shape: Annotated[list[Annotated[int, Field(ge=1, le=4096)]], Field(min_length=3, max_length=3)]
    layers: Annotated[list[StackLayer], Field(max_length=16)]


class ShapesOut(BaseModel):
    shapes: list[list[int]]


class ConvBackwardCell(Strict):
    gradient: Literal["dW", "dX", "db"] = "dX"
    row: int = Field(0, ge=0, le=1024, description="dW: the kernel's row; dX: the PADDED input's row; db: 0")
    col: int = Field(0, ge=0, le=1024)


class ConvBackwardRequest(Strict):
    input: Grid = Field(description="a grid of numbers (at most max_image_side a side)")
    kernel: KernelGrid
    upstream: Grid | Literal["ones", "count", "random"] = Field(
        "ones",
        description='∂L/∂output: a grid the output\'s size, "ones", "count" (1, 2, 3, … in reading order) '
        'or "random" (whole numbers from −3 to 3, from the seed)',
    )
    seed: int = Field(0, ge=0, le=999_999_999)
    padding: int = Field(0, ge=0, le=10)
    stride: int = Field(1, ge=1, le=10)
    dilation: int = Field(1, ge=1, le=5)
    cell: ConvBackwardCell | None = Field(None, description="explain how one cell of one gradient is made")


class ConvBackwardCellOut(BaseModel):
    gradient: str
    row: int
    col: int
    top: int = Field(description="where the window starts in the grid it is picked from")
    left: int
    step: list[int] = Field(description="rows and columns between the picked numbers")
    window: JsonValue
    factor: JsonValue = Field(description="what the window is multiplied by, value by value")
    products: JsonValue
    total: float
    cropped: bool = Field(description="dX: a cell of the padding's border, cropped away")


class ConvBackwardOut(BaseModel):
    input: JsonValue
    padded: JsonValue = Field(description="the input with its padding zeros")
    kernel: JsonValue
    flipped: JsonValue = Field(description="the kernel turned 180°")
    upstream: JsonValue
    spread: JsonValue = Field(description="the upstream gradient with the stride's zeros inserted and a border")
    spread_kind: JsonValue = Field(description='per cell of spread: "value", "inserted" or "border"')
    output: JsonValue
    dW: JsonValue
    dX: JsonValue
    dX_padded: JsonValue = Field(description="the padded input's gradient, before the border is cropped")
    db: float
    agrees: bool = Field(description="the three convolutions equal the engine's autograd")
    cell: ConvBackwardCellOut | None = None
