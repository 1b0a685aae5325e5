"""The CNN routes: convolution (forward and backward), kernels, sample images, receptive fields, pooling, shapes."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from deepviz.app import images
from deepviz.app.dependencies import SettingsDep
from deepviz.app.errors import InputError
from deepviz.app.schemas import (
    BAD_INPUT,
    ConvBackwardOut,
    ConvBackwardRequest,
    ConvOut,
    ConvRequest,
    ImageInfo,
    ImageRef,
    KernelOut,
    PoolOut,
    PoolRequest,
    ReceptiveFieldOut,
    ReceptiveFieldRequest,
    ShapesOut,
    ShapesRequest,
)
from deepviz.app.serialize import grid
from deepviz.app.settings import Settings
from deepviz.engine.arithmetic import Layer, conv_output_size, field_of, receptive_fields
from deepviz.lessons import convback, convlab
from deepviz.lessons.kernels import KERNELS, gaussian, gaussian_size

router = APIRouter(prefix="/api/v1", tags=["cnn"])


def _rectangular(rows: list[list[float]], loc: list, what: str = "grid") -> np.ndarray:
    """A list of rows as a 2-D array, or a 422 when the rows differ in length."""
    if len({len(row) for row in rows}) != 1:
        raise InputError(loc, f"the rows of the {what} have different lengths")
    return np.asarray(rows, dtype=np.float64)


def _image(source, settings: Settings, field: str, max_side: int) -> np.ndarray:
    """A grid as sent, or a sample or upload at its requested size; rectangular and bounded."""
    loc = ["body", field]
    if isinstance(source, ImageRef):
        size = source.size
        if size > max_side:
            raise InputError([*loc, "size"], f"the size is {size}; at most {max_side} pixels")
        if source.preset is not None:
            return images.sample(source.preset, size)
        return images.upload(source.data_url, size, settings.max_upload_bytes, settings.max_upload_side, loc, settings)
    array = _rectangular(source, loc)
    if max(array.shape) > max_side:
        raise InputError(loc, f"the grid is {array.shape[0]}×{array.shape[1]}; at most {max_side}×{max_side}")
    return array


def _kernel(spec, index: int) -> np.ndarray:
    if isinstance(spec, str) and spec.startswith("gaussian:"):  # "gaussian:1.5": a Gaussian of σ = 1.5
        try:
            sigma = float(spec.removeprefix("gaussian:"))
        except ValueError:
            sigma = -1.0
        if not 0.1 <= sigma <= 2.5:
            raise InputError(["body", "kernels", index], "σ must be a number from 0.1 to 2.5: gaussian:1.5")
        return gaussian(gaussian_size(sigma), sigma)
    if isinstance(spec, str):
        if spec not in KERNELS:
            raise InputError(["body", "kernels", index], f"unknown kernel {spec!r}; known: {', '.join(KERNELS)}")
        return KERNELS[spec][1]
    return _rectangular(spec, ["body", "kernels", index], "kernel")


@router.get("/kernels", response_model=list[KernelOut])
def kernels() -> list[dict]:
    """The classic kernels: identity, blurs, Sobel, Scharr, Laplacian, sharpen."""
    return [{"name": n, "description": d, "values": k.tolist()} for n, (d, k) in KERNELS.items()]


@router.get("/images", response_model=list[ImageInfo])
def sample_images() -> list[dict]:
    """The sample images a request may name as {"preset": name}."""
    return [{"name": n, "description": d} for n, d in images.samples().items()]


@router.post("/conv", response_model=ConvOut, responses=BAD_INPUT)
def conv(request: ConvRequest, settings: SettingsDep) -> dict:
    """Slide kernels over an image: one activation map per kernel, the output-size
    arithmetic for each axis, and, on request, how one output pixel is made."""
    image = _image(request.image, settings, "image", settings.max_image_side)
    kernels_ = [_kernel(k, i) for i, k in enumerate(request.kernels)]
    biases = list(request.bias or [])
    if len(biases) not in (0, len(kernels_)):
        raise InputError(["body", "bias"], f"{len(biases)} biases for {len(kernels_)} kernels")
    biases = biases or [0.0] * len(kernels_)
    first = kernels_[0]
    height = convlab.conv_geometry(image.shape[0], first.shape[0], request.padding, request.stride, request.dilation)
    width = convlab.conv_geometry(image.shape[1], first.shape[1], request.padding, request.stride, request.dilation)
    for i, k in enumerate(kernels_):
        if k.shape != first.shape:
            raise InputError(["body", "kernels", i], f"all kernels of a bank share one size: {first.shape} ≠ {k.shape}")
    if height["output"] < 1 or width["output"] < 1:
        raise InputError(["body", "kernels", 0], f"a {first.shape[0]}×{first.shape[1]} kernel does not fit in "
                         f"a {image.shape[0]}×{image.shape[1]} image padded by {request.padding}")  # fmt: skip
    maps = convlab.activation_maps(image, kernels_, biases, request.padding, request.stride, request.dilation,
                                   request.mode)  # fmt: skip
    out = {
        "input": grid(image),
        "kernels": [grid(convlab.oriented(k, request.mode)) for k in kernels_],
        "outputs": [grid(m) for m in maps],
        "output_shape": [len(maps), height["output"], width["output"]],
        "height": height,
        "width": width,
        "mode": request.mode,
    }
    if request.detail is not None:
        d = request.detail
        if d.kernel >= len(kernels_):
            raise InputError(["body", "detail", "kernel"], f"there are {len(kernels_)} kernels")
        if d.row >= height["output"] or d.col >= width["output"]:
            raise InputError(["body", "detail"], f"the output is {height['output']}×{width['output']}")
        px = convlab.pixel_detail(image, kernels_[d.kernel], biases[d.kernel], request.padding, request.stride,
                                  d.row, d.col, request.dilation, request.mode)  # fmt: skip
        out["detail"] = {"kernel": d.kernel, "row": px.row, "col": px.col, "top": px.top, "left": px.left,
                         "patch": grid(px.patch), "weights": grid(px.kernel), "products": grid(px.products),
                         "total": px.total, "bias": px.bias, "value": px.value}  # fmt: skip
    return out


@router.post("/conv/backward", response_model=ConvBackwardOut, responses=BAD_INPUT)
def conv_backward(request: ConvBackwardRequest, settings: SettingsDep) -> dict:
    """The backward pass of one single-channel convolution: ∂L/∂W, ∂L/∂X and ∂L/∂b as
    convolutions, checked against the engine's autograd, and, on request, how one cell is made."""
    x = _image(request.input, settings, "input", settings.max_image_side)
    kernel = _rectangular(request.kernel, ["body", "kernel"], "kernel")
    p, s, d = request.padding, request.stride, request.dilation
    out_shape = tuple(conv_output_size(n, k, p, s, d) for n, k in zip(x.shape, kernel.shape))
    if min(out_shape) < 1:
        raise InputError(["body", "kernel"], f"a {kernel.shape[0]}×{kernel.shape[1]} kernel (dilation {d}) does not "
                         f"fit in a {x.shape[0]}×{x.shape[1]} input padded by {p}")  # fmt: skip
    if isinstance(request.upstream, str):
        upstream = convback.upstream_grid(request.upstream, out_shape, request.seed)
    else:
        upstream = _rectangular(request.upstream, ["body", "upstream"], "upstream gradient")
        if upstream.shape != out_shape:
            raise InputError(["body", "upstream"], f"the upstream gradient must be {out_shape[0]}×{out_shape[1]}, "
                             f"the output's shape, not {upstream.shape[0]}×{upstream.shape[1]}")  # fmt: skip
    r = convback.conv_backward(x, kernel, upstream, s, p, d)
    out = {"input": grid(r.input), "padded": grid(r.padded), "kernel": grid(r.kernel), "flipped": grid(r.flipped),
           "upstream": grid(r.upstream), "spread": grid(r.spread), "spread_kind": r.spread_kind.tolist(),
           "output": grid(r.output), "dW": grid(r.dW), "dX": grid(r.dX), "dX_padded": grid(r.dX_padded),
           "db": r.db, "agrees": r.agrees}  # fmt: skip
    if request.cell is not None:
        c = request.cell
        try:
            cell = r.cell(c.gradient, c.row, c.col)
        except ValueError as error:
            raise InputError(["body", "cell"], str(error)) from error
        out["cell"] = {"gradient": cell.gradient, "row": cell.row, "col": cell.col, "top": cell.top,
                       "left": cell.left, "step": list(cell.step), "window": grid(cell.window),
                       "factor": grid(cell.factor), "products": grid(cell.products), "total": cell.total,
                       "cropped": cell.cropped}  # fmt: skip
    return out


@router.post("/receptive-field", response_model=ReceptiveFieldOut, responses=BAD_INPUT)
def receptive_field(request: ReceptiveFieldRequest) -> dict:
    """Size, jump and start of the receptive field after each layer; for one unit, its
    region in every earlier map; and its effective field, by backpropagation."""
    layers = [Layer(s.type, s.kernel, s.stride, s.padding, s.dilation) for s in request.layers]
    for i, layer in enumerate(layers):
        if layer.kind != "conv" and layer.padding > layer.kernel // 2:
            raise InputError(["body", "layers", i, "padding"], "pooling padding must be at most half the kernel")
    fields = receptive_fields(layers, request.input_size)
    for i, f in enumerate(fields[1:]):
        if f.size < 1:
            raise InputError(["body", "layers", i], f"layer {i + 1} leaves no output: its kernel does not fit")
    maps = [{"index": i, "name": "input" if i == 0 else f"{layers[i - 1].kind} {i}", "size": f.size, "r": f.r,
             "jump": f.jump, "start": f.start} for i, f in enumerate(fields)]  # fmt: skip
    out: dict = {"maps": maps}
    if request.unit is not None:
        u = request.unit
        if u.layer > len(layers):
            raise InputError(["body", "unit", "layer"], f"there are {len(layers)} layers")
        size = fields[u.layer].size
        if u.row >= size or u.col >= size:
            raise InputError(["body", "unit"], f"map {u.layer} is {size}×{size}")
        regions = field_of(layers, request.input_size, u.layer, u.row, u.col)
        out["regions"] = [list(r) for r in reversed(regions)]  # input first
        if request.effective and u.layer > 0:
            out["effective"] = grid(convlab.effective_field(layers, request.input_size, u.layer, u.row, u.col))
    return out


@router.post("/pool", response_model=PoolOut, responses=BAD_INPUT)
def pool(request: PoolRequest, settings: SettingsDep) -> dict:
    """Max or average pooling of a grid, and its backward pass."""
    x = _image(request.grid, settings, "grid", settings.max_pool_side)
    stride = request.stride or request.kernel
    if request.kernel > min(x.shape):
        raise InputError(["body", "kernel"], f"a {request.kernel}×{request.kernel} window does not fit in {x.shape}")
    out_shape = tuple(conv_output_size(side, request.kernel, 0, stride) for side in x.shape)
    upstream = request.upstream
    if not isinstance(upstream, str):
        upstream = _rectangular(request.upstream, ["body", "upstream"], "upstream gradient")
        if upstream.shape != out_shape:
            raise InputError(["body", "upstream"], f"the upstream gradient must be {out_shape[0]}×{out_shape[1]}")
    result = convlab.pool(x, request.kind, request.kernel, stride, upstream)
    return {"input": grid(x), "output": grid(result.output), "upstream": grid(result.upstream),
            "gradient": grid(result.gradient)}  # fmt: skip


@router.post("/shapes", response_model=ShapesOut, responses=BAD_INPUT)
def shapes(request: ShapesRequest) -> dict:
    """The shape after each layer of a stack, or which layer does not fit and why."""
    try:
        result = convlab.stack_shapes(tuple(request.input_shape), [layer.model_dump() for layer in request.layers])
    except convlab.ShapeError as error:
        raise InputError(["body", "layers", error.index], str(error)) from error
    return {"shapes": [list(s) for s in result]}
