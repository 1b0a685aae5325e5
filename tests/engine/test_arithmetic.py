"""Output sizes against torch, receptive fields against the effective field found by
backpropagating from one output unit to the input with the engine."""

import numpy as np
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from deepviz.engine import Tensor
from deepviz.engine import functional as F
from deepviz.engine.arithmetic import Layer, conv_output_size, dropped, field_of, receptive_fields


@given(w=st.integers(1, 40), k=st.integers(1, 7), p=st.integers(0, 3), s=st.integers(1, 4), d=st.integers(1, 3))
def test_output_size_matches_torch(w, k, p, s, d):
    size = conv_output_size(w, k, p, s, d)
    if size == 0:
        assert w + 2 * p < d * (k - 1) + 1
        return
    out = torch.nn.functional.conv2d(torch.zeros(1, 1, w, w), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
    assert out.shape[-1] == size


def test_the_notes_formulas_are_special_cases():
    assert conv_output_size(32, 5) == 32 - 5 + 1
    assert conv_output_size(32, 5, p=2) == 32  # same padding, P = (K - 1)/2
    assert conv_output_size(7, 3, s=2) == (7 - 3) // 2 + 1
    fields = receptive_fields([Layer("conv", 3)] * 4, 32)
    assert [f.r for f in fields] == [1 + L * (3 - 1) for L in range(5)]


def test_dropped_pixels_when_the_stride_does_not_divide():
    assert dropped(7, 3, p=0, s=3) == [6]  # windows at 0-2 and 3-5: column 6 is never read
    assert dropped(7, 3, p=0, s=2) == []
    assert dropped(8, 2, p=0, s=3) == [2, 5]  # windows at 0-1, 3-4, 6-7: the gaps are never read
    assert dropped(6, 3, p=1, s=2) == []  # padded to 8: windows at -1..1, 1..3, 3..5 read all 0..5


@given(w=st.integers(1, 20), k=st.integers(1, 5), p=st.integers(0, 2), s=st.integers(1, 5), d=st.integers(1, 2))
def test_dropped_pixels_are_those_no_gradient_reaches(w, k, p, s, d):
    assume(conv_output_size(w, k, p, s, d) > 0)
    x = Tensor(np.ones((1, 1, w, w)), requires_grad=True)
    F.conv2d(x, Tensor(np.ones((1, 1, k, k))), stride=s, padding=p, dilation=d).sum().backward()
    never_read = np.flatnonzero(x.grad[0, 0].sum(axis=0) == 0)  # all-ones kernel: gradients ≥ 0
    assert dropped(w, k, p, s, d) == never_read.tolist()


def effective_field(layers, size, row, col):
    """The input pixels whose gradient for unit (row, col) of the last map is nonzero."""
    x = Tensor(np.ones((1, 1, size, size)), requires_grad=True)
    h = x
    for layer in layers:
        if layer.kind == "conv":
            weight = Tensor(np.ones((1, 1, layer.kernel, layer.kernel)))
            h = F.conv2d(h, weight, stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
        elif layer.kind == "avgpool":
            h = F.avg_pool2d(h, layer.kernel, layer.stride, layer.padding)
    h[0, 0, row, col].backward()
    rows, cols = np.nonzero(x.grad[0, 0])
    return rows.min(), cols.min(), rows.max(), cols.max()


layer_strategy = st.builds(Layer, st.sampled_from(["conv", "avgpool"]), st.integers(1, 4), st.integers(1, 2),
                           st.integers(0, 1), st.just(1))  # fmt: skip


@given(layers=st.lists(layer_strategy, min_size=1, max_size=4), data=st.data())
def test_the_field_matches_the_gradient_of_one_unit(layers, data):
    layers = [Layer(lay.kind, lay.kernel, lay.stride, min(lay.padding, lay.kernel // 2)) for lay in layers]
    size = 16
    fields = receptive_fields(layers, size)
    assume(all(f.size >= 1 for f in fields))
    last = fields[-1].size
    row, col = data.draw(st.integers(0, last - 1)), data.draw(st.integers(0, last - 1))
    regions = field_of(layers, size, len(layers), row, col)
    assert regions[-1] == effective_field(layers, size, row, col)
    top, left, bottom, right = regions[-1]
    assert bottom - top + 1 <= fields[-1].r  # clipped at the border, never larger


def test_the_public_api_a_notebook_sees():
    from deepviz.engine import Tensor, arithmetic, autograd, data, functional, nn, no_grad, optim  # noqa: F401
    from deepviz.engine.arithmetic import receptive_field
    from deepviz.lessons.expr import evaluate
    from deepviz.lessons.lenet import LeNet5, load_pretrained  # noqa: F401

    assert receptive_field([Layer("conv", 3)] * 2, 8).r == 5
    assert evaluate("(x + y) * z", {"x": -2, "y": 5, "z": -4}).gradients["z"] == 3
