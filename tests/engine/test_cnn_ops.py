"""conv2d, pooling and linear against torch.nn.functional, forward and gradients, over
random shapes, strides, paddings and dilations, including sizes where the stride does not
divide W - K + 2P."""

from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given
from hypothesis import strategies as st

from deepviz.engine import Tensor, cnn_ops
from deepviz.engine import functional as F
from tests.engine.oracle import check


def rand(rng, *shape):
    return rng.standard_normal(shape)


@given(data=st.data())
def test_conv2d(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n, c_in, c_out = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4))
    k, stride, padding, dilation = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3)),
                                    data.draw(st.integers(0, 2)), data.draw(st.integers(1, 2)))  # fmt: skip
    h, w = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    assume(h + 2 * padding >= dilation * (k - 1) + 1 and w + 2 * padding >= dilation * (k - 1) + 1)
    bias = data.draw(st.booleans())
    x, weight, b = rand(rng, n, c_in, h, w), rand(rng, c_out, c_in, k, k), rand(rng, c_out)
    inputs = [x, weight, b] if bias else [x, weight]
    # the batch in chunks of one image, of a few, or whole (cnn_ops._chunks), forward's
    # products one output row each, a few rows, or the whole chunk (PRODUCT_COLUMNS), and the
    # input's gradient by col2im's adds (SMALL_TAP 0) or as a convolution: the same result
    chunk_values = data.draw(st.sampled_from([1, 100, 400, cnn_ops.CHUNK_VALUES]))
    product_columns = data.draw(st.sampled_from([1, 12, cnn_ops.PRODUCT_COLUMNS, 10**9]))
    small_tap = data.draw(st.sampled_from([0, cnn_ops.SMALL_TAP]))
    with (mock.patch.object(cnn_ops, "CHUNK_VALUES", chunk_values), mock.patch.object(cnn_ops, "SMALL_TAP", small_tap),
          mock.patch.object(cnn_ops, "PRODUCT_COLUMNS", product_columns)):  # fmt: skip
        check(lambda *t: F.conv2d(*t, stride=stride, padding=padding, dilation=dilation),
              lambda *t: TF.conv2d(*t, stride=stride, padding=padding, dilation=dilation), inputs)  # fmt: skip


@pytest.mark.parametrize("small_tap", [0, cnn_ops.SMALL_TAP, 10**9])  # col2im's adds, per shape, a convolution
@pytest.mark.parametrize(
    "x_shape, w_shape, padding", [((1, 1, 28, 28), (6, 1, 5, 5), 2), ((3, 6, 14, 14), (16, 6, 5, 5), 0)]
)
def test_lenets_convolutions_by_either_input_gradient(small_tap, x_shape, w_shape, padding):
    rng = np.random.default_rng(2)
    with mock.patch.object(cnn_ops, "SMALL_TAP", small_tap):
        check(lambda x, w, b: F.conv2d(x, w, b, padding=padding), lambda x, w, b: TF.conv2d(x, w, b, padding=padding),
              [rand(rng, *x_shape), rand(rng, *w_shape), rand(rng, w_shape[0])])  # fmt: skip


def test_conv2d_where_the_stride_does_not_divide():
    rng = np.random.default_rng(0)
    # W - K + 2P = 7 - 3 + 0 = 4, S = 3: the last column is dropped by the floor
    check(lambda x, w: F.conv2d(x, w, stride=3), lambda x, w: TF.conv2d(x, w, stride=3),
          [rand(rng, 1, 1, 7, 7), rand(rng, 2, 1, 3, 3)])  # fmt: skip


def test_convolution_flips_the_kernel():
    rng = np.random.default_rng(1)
    x, w = rand(rng, 1, 1, 5, 5), rand(rng, 1, 1, 3, 3)
    flipped = torch.tensor(w).flip(-1, -2)
    check(lambda x, w: F.convolve2d(x, w), lambda x, w: TF.conv2d(x, w.flip(-1, -2)), [x, w])
    np.testing.assert_allclose(F.convolve2d(Tensor(x), Tensor(w)).data, TF.conv2d(torch.tensor(x), flipped).numpy())


@pytest.mark.parametrize("pool", ["max", "avg"])
@given(data=st.data())
def test_pooling(pool, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    k = data.draw(st.integers(1, 4))
    stride = data.draw(st.integers(1, 4))
    padding = data.draw(st.integers(0, k // 2))
    h, w = data.draw(st.integers(k, 10)), data.draw(st.integers(k, 10))
    x = rng.permutation(2 * 3 * h * w).reshape(2, 3, h, w) / 7.0  # distinct values: no ties
    ours = F.max_pool2d if pool == "max" else F.avg_pool2d
    theirs = TF.max_pool2d if pool == "max" else TF.avg_pool2d
    check(lambda t: ours(t, k, stride, padding), lambda t: theirs(t, k, stride, padding), [x])


def test_max_pool_routes_each_gradient_to_its_argmax():
    x = Tensor(np.array([[[[1.0, 5.0], [3.0, 2.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 1], [0, 0]])


def test_avg_pool_spreads_each_gradient_evenly():
    x = Tensor(np.arange(4.0).reshape(1, 1, 2, 2), requires_grad=True)
    F.avg_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], np.full((2, 2), 0.25))


@given(data=st.data())
def test_linear(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n, i, o = (data.draw(st.integers(1, 6)) for _ in range(3))
    check(F.linear, TF.linear, [rand(rng, n, i), rand(rng, o, i), rand(rng, o)])
    check(F.linear, TF.linear, [rand(rng, n, i), rand(rng, o, i)])


def test_a_small_cnn_end_to_end():
    rng = np.random.default_rng(2)
    x = rand(rng, 2, 1, 12, 12)
    params = [rand(rng, 4, 1, 3, 3), rand(rng, 4), rand(rng, 3, 4 * 5 * 5), rand(rng, 3)]

    def ours(x, w1, b1, w2, b2):
        h = F.max_pool2d(F.conv2d(x, w1, b1, padding=1).relu(), 2)  # (2, 4, 6, 6)
        h = F.avg_pool2d(h, 2, 1)  # (2, 4, 5, 5)
        return F.cross_entropy(F.linear(h.flatten(1), w2, b2), np.array([0, 2]))

    def theirs(x, w1, b1, w2, b2):
        h = TF.max_pool2d(TF.conv2d(x, w1, b1, padding=1).relu(), 2)
        h = TF.avg_pool2d(h, 2, 1)
        return TF.cross_entropy(TF.linear(h.flatten(1), w2, b2), torch.tensor([0, 2]))

    check(ours, theirs, [x, *params])


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="3 channels but the kernels expect 1"):
        F.conv2d(Tensor(np.zeros((1, 3, 5, 5))), Tensor(np.zeros((2, 1, 3, 3))))
    with pytest.raises(ValueError, match="does not fit"):
        F.conv2d(Tensor(np.zeros((1, 1, 2, 2))), Tensor(np.zeros((1, 1, 3, 3))))
