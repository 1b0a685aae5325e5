"""Functions on tensors, named as in ``torch.nn.functional`` so that what a student learns
here transfers."""

from __future__ import annotations

import numpy as np

from deepviz.engine import array_ops, cnn_ops
from deepviz.engine.tensor import Tensor


def relu(x: Tensor) -> Tensor:
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def softmax(z: Tensor, dim: int = -1) -> Tensor:
    """Probabilities exp(z_i) / Σ_j exp(z_j) along ``dim``."""
    return Tensor.apply(array_ops.Softmax, z, axis=dim)


def log_softmax(z: Tensor, dim: int = -1) -> Tensor:
    """log softmax(z), computed without forming softmax (stable for large logits)."""
    return Tensor.apply(array_ops.LogSoftmax, z, axis=dim)


def cross_entropy(logits: Tensor, targets) -> Tensor:
    """Mean of -log softmax(logits)[target] over the batch. ``logits`` is (N, C) or (C,);
    ``targets`` holds N integer class labels (or one). Note the minus sign: the notes drop
    it, but a loss to minimise is the *negative* log-likelihood."""
    return Tensor.apply(array_ops.CrossEntropy, logits, targets=np.asarray(targets))


def nll_loss(log_probs: Tensor, targets) -> Tensor:
    """Mean of -log_probs[i, target_i], as torch's ``nll_loss`` (it takes log-probabilities)."""
    targets = np.asarray(targets).reshape(-1)
    rows = log_probs.reshape(-1, log_probs.shape[-1])  # (N, C)
    return -rows[np.arange(len(targets)), targets].mean()


def mse_loss(prediction: Tensor, target) -> Tensor:
    """Mean squared error: mean((prediction - target)²)."""
    diff = prediction - target
    return (diff * diff).mean()


def binary_cross_entropy(p: Tensor, target) -> Tensor:
    """Logistic loss -[y log p + (1 - y) log(1 - p)], averaged. The notes write it without
    the minus sign: without it, minimising would push p away from y."""
    return -(target * p.log() + (1 - target) * (1 - p).log()).mean()


def binary_cross_entropy_with_logits(logits: Tensor, target) -> Tensor:
    """The logistic loss of logits z against labels y in [0, 1] (same shape), averaged:

        L = -[y log σ(z) + (1 - y) log(1 - σ(z))]

    computed from the logit directly, as log(1 + eᶻ) - y z, so that it stays finite for any
    |z| (σ(z) rounds to 0 or 1 long before the loss is infinite). Its gradient is
    (σ(z) - y) / N. Erratum: the course's notes print this loss without the minus sign;
    that is the log-likelihood, which training maximises; the loss to minimise is its
    negative."""
    return Tensor.apply(array_ops.BinaryCrossEntropyWithLogits, logits, target=np.asarray(target))


def l2_penalty(params, weight_decay: float) -> Tensor:
    """L2 regularisation as a term of the loss: (weight_decay / 2) Σ ‖θ‖² over ``params``.
    Its gradient, weight_decay · θ, is what the optimizers' ``weight_decay`` adds to every
    gradient (as torch's do): use one or the other, not both."""
    return (weight_decay / 2) * sum((p * p).sum() for p in params)


# ----------------------------------------------------------------------------- CNN layers


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weightᵀ + bias: x (N, in), weight (out, in), bias (out,)."""
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.apply(cnn_ops.Linear, *inputs)


def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0, dilation: int = 1
) -> Tensor:
    """2-D cross-correlation of x (N, C_in, H, W) with weight (C_out, C_in, K, K), plus
    bias (C_out,): what CNN layers and torch compute. The output is
    (N, C_out, ⌊(H + 2P - D(K - 1) - 1)/S⌋ + 1, the same for W)."""
    if min(stride, dilation) < 1 or padding < 0:
        raise ValueError("conv2d needs stride ≥ 1, dilation ≥ 1 and padding ≥ 0")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.apply(cnn_ops.Conv2d, *inputs, stride=stride, padding=padding, dilation=dilation)


def convolve2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0, dilation: int = 1
) -> Tensor:
    """True convolution, the notes' definition (5.2.1): the kernel is flipped in both
    directions before sliding. For a symmetric kernel (Gaussian) it equals conv2d; for
    Sobel it changes the sign."""
    flipped = weight[:, :, ::-1, ::-1]
    return conv2d(x, flipped, bias, stride, padding, dilation)


def _check_pool(kernel_size: int, stride: int | None, padding: int) -> int:
    stride = stride or kernel_size
    if kernel_size < 1 or stride < 1 or padding < 0 or padding > kernel_size // 2:
        raise ValueError("pooling needs kernel_size ≥ 1, stride ≥ 1 and 0 ≤ padding ≤ kernel_size / 2")
    return stride


def max_pool2d(x: Tensor, kernel_size: int, stride: int | None = None, padding: int = 0) -> Tensor:
    """The maximum of each kernel_size² window, channel by channel (stride defaults to K)."""
    stride = _check_pool(kernel_size, stride, padding)
    return Tensor.apply(cnn_ops.MaxPool2d, x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x: Tensor, kernel_size: int, stride: int | None = None, padding: int = 0) -> Tensor:
    """The mean of each kernel_size² window, channel by channel (stride defaults to K)."""
    stride = _check_pool(kernel_size, stride, padding)
    return Tensor.apply(cnn_ops.AvgPool2d, x, kernel_size=kernel_size, stride=stride, padding=padding)


def flatten(x: Tensor, start_dim: int = 1) -> Tensor:
    """(N, C, H, W) -> (N, C·H·W): the layer that forgets where pixels were (figure 5.1)."""
    return x.flatten(start_dim)
