"""The arithmetic of convolution layers: output sizes, the pixels a stride drops, and
receptive fields through any stack of convolution and pooling layers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def conv_output_size(w: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    """⌊(W - D(K - 1) - 1 + 2P) / S⌋ + 1; with D = 1 this is the notes' (W - K + 2P)/S + 1,
    rounded down when S does not divide W - K + 2P (as torch does). 0 if the kernel does
    not fit."""
    span = d * (k - 1) + 1  # how wide a dilated kernel reaches
    if w + 2 * p < span:
        return 0
    return (w + 2 * p - span) // s + 1


def dropped(w: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> list[int]:
    """Input positions (0-based, in the unpadded input) that no window reads: the last
    ones, left over by the floor when S does not divide W - K + 2P, and the gaps between
    windows when the stride is longer than the (dilated) kernel."""
    out = conv_output_size(w, k, p, s, d)
    covered = np.zeros(w + 2 * p, dtype=bool)  # in padded coordinates
    for tap in range(k):
        covered[tap * d : tap * d + s * (out - 1) + 1 : s] = out > 0
    return [i for i in range(w) if not covered[i + p]]


@dataclass(frozen=True)
class Layer:
    """A convolution or pooling layer, as far as geometry is concerned."""

    kind: str  # "conv", "maxpool" or "avgpool"
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def output_size(self, w: int) -> int:
        return conv_output_size(w, self.kernel, self.padding, self.stride, self.dilation)


@dataclass(frozen=True)
class Field:
    """After a layer: the map's size, and for one unit of it the receptive field's size
    (r), the distance in input pixels between neighbouring units (jump j), and the centre
    of the first unit's field (start)."""

    size: int
    r: int
    jump: int
    start: float


def receptive_fields(layers: list[Layer], input_size: int) -> list[Field]:
    """Field geometry before the first layer and after each one, by the recurrences
        r ← r + (K - 1)·D·j,   start ← start + ((K - 1)·D/2 - P)·j,   j ← j·S.
    For L stride-1 layers of kernel K this gives the notes' 1 + L(K - 1)."""
    fields = [Field(input_size, 1, 1, 0.0)]
    for layer in layers:
        f = fields[-1]
        reach = (layer.kernel - 1) * layer.dilation
        fields.append(
            Field(
                size=layer.output_size(f.size),
                r=f.r + reach * f.jump,
                jump=f.jump * layer.stride,
                start=f.start + (reach / 2 - layer.padding) * f.jump,
            )
        )
    return fields


def field_of(layers: list[Layer], input_size: int, layer_index: int, row: int, col: int):
    """The region a unit at (row, col) of layer ``layer_index`` (1 = after the first layer)
    sees in every earlier map, clipped to each map: a list, from the unit's own map back
    to the input, of (top, left, bottom, right) inclusive bounds."""
    sizes = [f.size for f in receptive_fields(layers, input_size)]
    top, left, bottom, right = row, col, row, col
    regions = [(top, left, bottom, right)]
    for layer, size in zip(reversed(layers[:layer_index]), reversed(sizes[:layer_index])):
        reach = (layer.kernel - 1) * layer.dilation
        top, left = top * layer.stride - layer.padding, left * layer.stride - layer.padding
        bottom, right = bottom * layer.stride - layer.padding + reach, right * layer.stride - layer.padding + reach
        top, left = max(top, 0), max(left, 0)
        bottom, right = min(bottom, size - 1), min(right, size - 1)
        regions.append((top, left, bottom, right))
    return regions


def receptive_field(layers: list[Layer], input_size: int) -> Field:
    """The receptive field of a unit of the last map (its size r, jump and start)."""
    return receptive_fields(layers, input_size)[-1]
