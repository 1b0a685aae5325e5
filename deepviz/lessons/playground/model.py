"""The training lab's model and objective (notes 1.3 and 2.1): a multi-layer perceptron

    h₁ = σ₁(W₁ x + b₁),  h₂ = σ₂(W₂ h₁ + b₂),  …,  z = W_L h_{L-1} + b_L

and the objective it is trained on, J(θ) = (1/N) Σᵢ ℓ(z⁽ⁱ⁾, y⁽ⁱ⁾) + (λ/2)‖θ‖², where θ is
every weight *and bias* (as torch's ``weight_decay`` decays every parameter it is given) and
the loss ℓ depends on the task:

- binary: one logit z, ŷ = σ(z) = P(class 1), the logistic loss -[y log σ(z) + (1-y) log(1-σ(z))]
  computed from the logit (``F.binary_cross_entropy_with_logits``; the notes drop its minus sign);
- multiclass (three classes): three logits, ŷ = softmax(z), the cross-entropy -log ŷ_y;
- regression (the sine): ŷ = z, the squared error (ŷ - y)².

Everything is float64, as the PyTorch program of the run is (``program.py``), so that the two
agree to far better than the test's 1e-4.
"""

from __future__ import annotations

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine import nn
from deepviz.engine.tensor import Tensor, no_grad

ACTIVATION = {"relu": F.relu, "tanh": F.tanh, "sigmoid": F.sigmoid}
DTYPE = np.float64


def output_units(task: str) -> int:
    return 3 if task == "multiclass" else 1


class MLP(nn.Module):
    """Linear layers of ``sizes`` (input, hidden…, output), an activation after each hidden
    layer and inverted dropout (p = ``dropout``) after it while training. The initial weights
    are torch's default, U(-1/√fan_in, 1/√fan_in), drawn from ``seed``."""

    def __init__(self, sizes: list[int], activation: list[str], dropout: float = 0.0, seed: int = 0):
        if len(activation) != len(sizes) - 2:
            raise ValueError(f"{len(sizes) - 2} hidden layers need as many activations, not {len(activation)}")
        rng = np.random.default_rng(seed)
        self.layers = [nn.Linear(a, b, rng=rng, dtype=DTYPE) for a, b in zip(sizes, sizes[1:])]
        self.activation, self.dropout, self.sizes = list(activation), dropout, list(sizes)

    def forward(self, x: Tensor, rng: np.random.Generator | None = None) -> Tensor:
        """The logits z (N, output); with ``rng``, dropout masks are drawn from it (training)."""
        return self.forward_all(x, rng)[-1]

    def forward_all(self, x: Tensor, rng: np.random.Generator | None = None) -> list[Tensor]:
        """Every hidden layer's output h₁, h₂, … (after dropout, when training), then z."""
        outputs = []
        for layer, name in zip(self.layers, self.activation):
            x = ACTIVATION[name](layer(x))  # (N, units)
            if rng is not None and self.dropout > 0:
                keep = rng.random(x.shape) >= self.dropout
                x = x * Tensor(keep / (1 - self.dropout))  # E[h] unchanged (torch's nn.Dropout)
            outputs.append(x)
        outputs.append(self.layers[-1](x))
        return outputs

    def parameter_count(self) -> int:
        return sum(p.data.size for p in self.parameters())


def loss(z: Tensor, y: np.ndarray, task: str) -> Tensor:
    """The mean loss of logits ``z`` (N, 1 or 3) against labels or targets ``y`` (N,)."""
    if task == "multiclass":
        return F.cross_entropy(z, y)
    if task == "binary":
        return F.binary_cross_entropy_with_logits(z.reshape(-1), y.astype(DTYPE))
    return F.mse_loss(z.reshape(-1), Tensor(y.astype(DTYPE)))


def predict(model: MLP, x: np.ndarray, task: str) -> tuple[list[np.ndarray], np.ndarray]:
    """(hidden outputs, ŷ) at the inputs ``x`` without dropout: ŷ is the class probabilities
    (N, 2 or 3) for a classification, the prediction (N,) for a regression."""
    with no_grad():
        outputs = [t.data for t in model.forward_all(Tensor(x.astype(DTYPE)))]
    z = outputs.pop()
    if task == "regression":
        return outputs, z[:, 0]
    if task == "binary":
        p = 1 / (1 + np.exp(-np.clip(z[:, 0], -500, 500)))
        return outputs, np.stack([1 - p, p], axis=1)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return outputs, e / e.sum(axis=1, keepdims=True)


def evaluate(model: MLP, x: np.ndarray, y: np.ndarray, task: str) -> tuple[float | None, float | None]:
    """(mean loss, accuracy) on a set without dropout; accuracy is None for a regression,
    both are None for an empty set."""
    if len(x) == 0:
        return None, None
    with no_grad():
        z = model(Tensor(x.astype(DTYPE)))
        value = float(loss(z, y, task).data)
    if task == "regression":
        return value, None
    label = (z.data[:, 0] > 0).astype(np.int64) if task == "binary" else z.data.argmax(axis=1)
    return value, float(np.mean(label == y))


def formula(sizes: list[int], activation: list[str], task: str, l2: float) -> str:
    """The model and its objective in LaTeX (one line each, aligned at =), with each weight
    matrix's shape: what the app renders as MathML."""
    name = {"relu": r"\operatorname{ReLU}", "tanh": r"\tanh", "sigmoid": r"\sigma"}
    lines, previous = [], "x"
    for i, act in enumerate(activation, start=1):
        shape = rf"W_{i} \in \mathbb{{R}}^{{{sizes[i]} \times {sizes[i - 1]}}}"
        lines.append(rf"h_{i} &= {name[act]}(W_{i} {previous} + b_{i}), \quad {shape}")
        previous = f"h_{i}"
    last = len(sizes) - 1
    z = rf"W_{last} {previous} + b_{last}"
    shape = rf"W_{last} \in \mathbb{{R}}^{{{sizes[last]} \times {sizes[last - 1]}}}"
    head = {
        "binary": (rf"\hat y &= \sigma({z}), \quad {shape}", r"-[y \log \hat y + (1 - y) \log(1 - \hat y)]"),
        "multiclass": (rf"\hat y &= \operatorname{{softmax}}({z}), \quad {shape}", r"-\log \hat y_{y}"),
        "regression": (rf"\hat y &= {z}, \quad {shape}", r"(\hat y - y)^2"),
    }[task]
    lines.append(head[0])
    penalty = rf" + \frac{{{l2:g}}}{{2}} \lVert \theta \rVert^2" if l2 else ""
    lines.append(rf"J(\theta) &= \frac{{1}}{{N}} \sum_{{i=1}}^{{N}} \ell(\hat y^{{(i)}}, y^{{(i)}}){penalty}, \quad "
                 rf"\ell = {head[1]}")  # fmt: skip
    return r"\begin{array}{rl} " + r" \\ ".join(lines) + r" \end{array}"
