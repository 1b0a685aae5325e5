"""Functions on tensors, named as in ``torch.nn.functional`` so that what a student learns
here transfers."""

from __future__ import annotations

import numpy as np

from engine import ops
from engine.tensor import Tensor


def relu(x: Tensor) -> Tensor:
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def softmax(z: Tensor, dim: int = -1) -> Tensor:
    """Probabilities exp(z_i) / Σ_j exp(z_j) along ``dim``."""
    return Tensor.apply(ops.Softmax, z, axis=dim)


def log_softmax(z: Tensor, dim: int = -1) -> Tensor:
    """log softmax(z), computed without forming softmax (stable for large logits)."""
    return Tensor.apply(ops.LogSoftmax, z, axis=dim)


def cross_entropy(logits: Tensor, targets) -> Tensor:
    """Mean of -log softmax(logits)[target] over the batch. ``logits`` is (N, C) or (C,);
    ``targets`` holds N integer class labels (or one). Note the minus sign: the notes drop
    it, but a loss to minimise is the *negative* log-likelihood."""
    return Tensor.apply(ops.CrossEntropy, logits, targets=np.asarray(targets))


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
