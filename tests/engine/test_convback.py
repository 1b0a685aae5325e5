"""The convolution backward lab: its three gradients equal torch's autograd over random shapes,
strides, paddings and dilations, and every cell's listed terms sum to that cell."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deepviz.lessons.convback import conv_backward, upstream_grid


def torch_gradients(x, k, g, stride, padding, dilation):
    X = torch.tensor(x[None, None], requires_grad=True)
    W = torch.tensor(k[None, None], requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(X, W, b, stride=stride, padding=padding, dilation=dilation)
    y.backward(torch.tensor(g[None, None]))
    return y.detach()[0, 0].numpy(), W.grad[0, 0].numpy(), X.grad[0, 0].numpy(), float(b.grad[0])


@settings(max_examples=150, deadline=None)
@given(h=st.integers(1, 8), w=st.integers(1, 8), kh=st.integers(1, 4), kw=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 3), dilation=st.integers(1, 3),
       upstream=st.sampled_from(["ones", "count", "random"]), seed=st.integers(0, 1000))  # fmt: skip
def test_gradients_equal_torch_and_terms_sum_to_their_cells(h, w, kh, kw, stride, padding, dilation, upstream, seed):
    h_out = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    w_out = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    assume(h_out >= 1 and w_out >= 1)
    rng = np.random.default_rng(seed)
    x, k = rng.integers(-5, 6, (h, w)).astype(float), rng.integers(-3, 4, (kh, kw)).astype(float)
    g = upstream_grid(upstream, (h_out, w_out), seed)
    r = conv_backward(x, k, g, stride, padding, dilation)
    y, dW, dX, db = torch_gradients(x, k, g, stride, padding, dilation)
    np.testing.assert_allclose(r.output, y)
    np.testing.assert_allclose(r.dW, dW)
    np.testing.assert_allclose(r.dX, dX)
    assert r.db == pytest.approx(db)
    assert r.agrees
    for i in range(kh):
        for j in range(kw):
            cell = r.cell("dW", i, j)
            assert cell.products.sum() == pytest.approx(cell.total) and cell.total == pytest.approx(dW[i, j])
            np.testing.assert_allclose(cell.products, cell.window * cell.factor)
    for i in range(h + 2 * padding):
        for j in range(w + 2 * padding):
            cell = r.cell("dX", i, j)
            np.testing.assert_allclose(cell.products, cell.window * cell.factor)
            assert cell.cropped == (not (padding <= i < h + padding and padding <= j < w + padding))
            if not cell.cropped:
                assert cell.total == pytest.approx(dX[i - padding, j - padding])
    assert r.cell("db", 0, 0).total == pytest.approx(db)


def test_the_spread_gradient_has_the_strides_zeros_and_a_border():
    r = conv_backward(np.arange(25.0).reshape(5, 5), np.ones((2, 2)), np.array([[1.0, 2], [3, 4]]), stride=2)
    # 5×5 input, K = 2, S = 2: 2×2 output; spread: border 1, values 2 apart, then the unread row and column
    assert r.spread.tolist() == [[0, 0, 0, 0, 0, 0], [0, 1, 0, 2, 0, 0], [0, 0, 0, 0, 0, 0],
                                 [0, 3, 0, 4, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]  # fmt: skip
    assert r.spread_kind[1].tolist() == ["border", "value", "inserted", "value", "border", "border"]
    assert r.dX[4].tolist() == [0, 0, 0, 0, 0]  # no window reads the last row


def test_a_cell_that_is_not_there_is_refused():
    r = conv_backward(np.ones((4, 4)), np.ones((3, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="3×3"):
        r.cell("dW", 3, 0)
    with pytest.raises(ValueError, match="one cell"):
        r.cell("db", 0, 1)
    with pytest.raises(ValueError, match="must be 2×2"):
        conv_backward(np.ones((4, 4)), np.ones((3, 3)), np.ones((3, 3)))
