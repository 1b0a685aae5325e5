"""The served LeNet-5, frozen: its forward pass and its saliency map (the gradient of one
class's logit with respect to the input pixels) written out in numpy, layer by layer.

The engine's general path builds a graph of about 16 ops for every image (each a
``Tensor.apply`` and a few numpy calls on small arrays) and a backward pass that walks it.
For the model the server shares, nothing of that generality is needed: the weights never
change, and only the input's gradient is wanted. So the weights are laid out once, as the
products want them (``FrozenLeNet.__init__``), and each layer is a few numpy calls that write
in place (bias + ReLU fused with ``out=``; pooling on strided views). The backward pass is
the chain rule by hand, layer by layer in reverse, each step under the forward step it undoes:

    linear   z = h Wᵀ + b           ∂h = ∂z W
    ReLU     h = max(z, 0)          ∂z = ∂h · [h > 0]
    max pool p = max of a window    ∂a = ∂p at the window's first max, 0 elsewhere
    conv     z = W ⋆ x + b          ∂x = ∂z ⋆ flip(W)ᵀ  (a convolution, padded by K - 1 - P)

It computes what ``LeNet5.activations`` and a backward pass through it compute
(tests/engine/test_frozen_lenet.py compares the two, and both with torch's autograd).
Every array is float32, as the weights are.
"""

from __future__ import annotations

import numpy as np

from deepviz.engine import nn

POOL = 2  # LeNet's max pooling: 2×2 windows, stride 2
CHUNK = 8  # images whose columns are made at once: a batch's would not stay in cache (conv1's: 34 MB at 64)


def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    """x (N, C, H, W) copied into a zero frame ``padding`` wide (contiguous, for _taps)."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=np.float32)
    out[:, :, padding : padding + h, padding : padding + w] = x
    return out


def _taps(xp: np.ndarray, k: int, run: int) -> np.ndarray:
    """A read-only view (N, C, K, K, run) of the contiguous xp (N, C, Hp, Wp): row [n, c, i, j]
    is channel c's image read from (i, j) on, ``run`` numbers in a row (see Conv.correlate)."""
    n, c, hp, wp = xp.shape
    sn, sc, sh, sw = xp.strides
    return np.ndarray((n, c, k, k, run), np.float32, xp, 0, (sn, sc, sh, sw, sw))


class Conv:
    """A stride-1 convolution with square kernels, as one product per image: the kernels as
    a matrix (O, C·K·K) times the image's columns (C·K·K, Ho·Wp) (im2col, see correlate)."""

    def __init__(self, layer: nn.Conv2d):
        o, c, k, _ = layer.weight.shape
        weight = layer.weight.data.astype(np.float32)
        self.k, self.padding = k, layer.padding
        self.matrix = weight.reshape(o, c * k * k)  # (O, C·K·K)
        self.bias = layer.bias.data.astype(np.float32).reshape(o, 1, 1)
        # for the input's gradient: every kernel flipped in both directions, in and out
        # channels swapped (see backward), (C, O·K·K)
        self.flipped = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(c, o * k * k)

    @staticmethod
    def correlate(x: np.ndarray, matrix: np.ndarray, k: int, padding: int) -> np.ndarray:
        """Σ over channels and taps of kernel × window: x (N, C, H, W) → (N, O, Ho, Wo).

        The columns have *wide* rows, Wp positions each rather than Wo: output (y, x) reads
        the flattened padded image at y·Wp + x + (i·Wp + j), so each tap's row is one
        contiguous run of the image (one fast copy), and the Wp - Wo outputs past each row's
        end, which wrap into the next row, are computed and dropped."""
        xp = _pad(x, padding)
        n, c, hp, wp = xp.shape
        ho, wo = hp - k + 1, wp - k + 1
        run = (ho - 1) * wp + wo  # from the first output to the last one kept
        out = np.empty((n, len(matrix), ho * wp), dtype=np.float32)
        cols = np.zeros((min(n, CHUNK), c, k, k, ho * wp), dtype=np.float32)  # past `run`: zeros, never written
        for start in range(0, n, CHUNK):  # a few images' columns at a time, made again in the same memory
            m = min(CHUNK, n - start)
            cols[:m, ..., :run] = _taps(xp[start : start + m], k, run)  # the columns: one copy
            np.matmul(matrix, cols[:m].reshape(m, c * k * k, ho * wp), out=out[start : start + m])
        return out.reshape(n, len(matrix), ho, wp)[..., :wo]  # (N, O, Ho, Wo), a view

    def forward(self, x: np.ndarray) -> np.ndarray:
        """ReLU(W ⋆ x + b), the bias and the ReLU applied in place."""
        z = self.correlate(x, self.matrix, self.k, self.padding)  # (N, O, Ho, Wo)
        z += self.bias
        return np.maximum(z, 0, out=z)

    def backward(self, dz: np.ndarray) -> np.ndarray:
        """∂x from ∂z (the gradient before the ReLU): each input pixel receives from every
        output whose window covered it, weighted by the tap that saw it. That is the
        correlation of ∂z, padded by K - 1 - P, with the flipped kernels (stride 1)."""
        return self.correlate(dz, self.flipped, self.k, self.k - 1 - self.padding)  # (N, C, H, W)


class Linear:
    """z = h Wᵀ + b, then ReLU unless it is the output layer."""

    def __init__(self, layer: nn.Linear, relu: bool = True):
        self.weight = layer.weight.data.astype(np.float32)  # (out, in): the backward product
        self.weight_t = np.ascontiguousarray(self.weight.T)  # (in, out): the forward product
        self.bias = layer.bias.data.astype(np.float32)
        self.relu = relu

    def forward(self, h: np.ndarray) -> np.ndarray:
        z = h @ self.weight_t  # (N, out)
        z += self.bias
        return np.maximum(z, 0, out=z) if self.relu else z

    def backward(self, dz: np.ndarray) -> np.ndarray:
        return dz @ self.weight  # (N, in)


def max_pool(a: np.ndarray) -> np.ndarray:
    """The maximum of each 2×2 window, stride 2: three elementwise maxima of strided views
    (N, C, H, W) → (N, C, H/2, W/2)."""
    out = np.maximum(a[:, :, 0::POOL, 0::POOL], a[:, :, 0::POOL, 1::POOL])
    np.maximum(out, a[:, :, 1::POOL, 0::POOL], out=out)
    return np.maximum(out, a[:, :, 1::POOL, 1::POOL], out=out)


def max_pool_relu_backward(dp: np.ndarray, a: np.ndarray, p: np.ndarray) -> np.ndarray:
    """∂z for z → ReLU → a → max pool → p: each window's gradient goes to its first
    maximum in scan order (torch's rule on ties), and through the ReLU only if that maximum
    is positive (when it is 0, the whole window was clipped): (N, C, H, W)."""
    dz = np.zeros(a.shape, dtype=np.float32)
    free = p > 0  # the windows whose gradient is still to be routed (none where all were clipped)
    hit = np.empty(p.shape, dtype=bool)  # reused for every tap: no temporaries
    for i in range(POOL):
        for j in range(POOL):  # in scan order, so that the first maximum of a window wins
            np.equal(a[:, :, i::POOL, j::POOL], p, out=hit)
            hit &= free
            free ^= hit  # hit ⊆ free: this takes the hits out
            np.multiply(dp, hit, out=dz[:, :, i::POOL, j::POOL])
    return dz


class FrozenLeNet:
    """A LeNet5's weights laid out for inference, and its forward and saliency passes on
    arrays. Holds no per-call state: one instance serves every thread."""

    def __init__(self, model):
        config = model.config
        self.mean, self.std, self.padding = np.float32(config.mean), np.float32(config.std), config.padding
        self.conv1, self.conv2 = Conv(model.conv1), Conv(model.conv2)
        self.fc1, self.fc2, self.fc3 = Linear(model.fc1), Linear(model.fc2), Linear(model.fc3, relu=False)

    def activations(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every layer's output for images x (N, 1, 28, 28), by name, as ``LeNet5.activations``."""
        a = {}
        x = (np.asarray(x, dtype=np.float32) - self.mean) / self.std  # standardised
        a["conv1"] = h = self.conv1.forward(x)  # (N, 6, 28, 28)
        a["pool1"] = h = max_pool(h)  # (N, 6, 14, 14)
        a["conv2"] = h = self.conv2.forward(h)  # (N, 16, 10, 10)
        a["pool2"] = h = max_pool(h)  # (N, 16, 5, 5)
        a["fc1"] = h = self.fc1.forward(h.reshape(len(h), -1))  # (N, 120)
        a["fc2"] = h = self.fc2.forward(h)  # (N, 84)
        a["fc3"] = self.fc3.forward(h)  # (N, 10) logits
        return a

    def saliency(self, a: dict[str, np.ndarray], targets: np.ndarray) -> np.ndarray:
        """∂ logit[target] / ∂ input pixel for each image, from its activations: (N, 28, 28).
        The chain rule, from the logits back to the pixels; every step is a layer's backward."""
        n = len(targets)
        d = np.zeros((n, a["fc3"].shape[1]), dtype=np.float32)
        d[np.arange(n), targets] = 1  # ∂ logit[target] / ∂ logits: one-hot
        d = self.fc3.backward(d) * (a["fc2"] > 0)  # (N, 84), through fc3 and fc2's ReLU
        d = self.fc2.backward(d) * (a["fc1"] > 0)  # (N, 120)
        d = self.fc1.backward(d).reshape(a["pool2"].shape)  # (N, 16, 5, 5)
        d = max_pool_relu_backward(d, a["conv2"], a["pool2"])  # (N, 16, 10, 10), before conv2's ReLU
        d = self.conv2.backward(d)  # (N, 6, 14, 14)
        d = max_pool_relu_backward(d, a["conv1"], a["pool1"])  # (N, 6, 28, 28)
        d = self.conv1.backward(d)  # (N, 1, 28, 28), ∂ standardised input
        return d[:, 0] / self.std  # through the standardisation (x - mean) / std
