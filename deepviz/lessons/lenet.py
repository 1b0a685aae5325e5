"""LeNet-5 (LeCun et al., 1998) as figure 5.13 draws it, built from ``engine.nn``.

    input 1@28×28, standardised, padded to 32×32 (as the paper's input was 32×32)
    conv1 5×5 → 6@28×28 → ReLU → max pool 2 → 6@14×14
    conv2 5×5 → 16@10×10 → ReLU → max pool 2 → 16@5×5
    flatten 400 → fc 120 → ReLU → fc 84 → ReLU → fc 10 (logits)

Modern choices, as most LeNet-5 variants make them: ReLU instead of the scaled tanh, max
pooling instead of the paper's trainable average "subsampling", every conv2 map connected
to all six conv1 maps (the paper wired each to a subset), and a plain linear output with
softmax cross-entropy instead of Gaussian RBF units. The weights that ship were trained by
``deepviz train lenet`` with this engine; ``weights/lenet5.json`` says how.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from deepviz.engine import functional as F
from deepviz.engine import nn
from deepviz.engine.tensor import Tensor, no_grad
from deepviz.lessons.frozen_lenet import FrozenLeNet

WEIGHTS = Path(__file__).resolve().parent / "weights" / "lenet5.npz"
MANIFEST = WEIGHTS.with_suffix(".json")


@dataclass
class LeNetConfig:
    in_channels: int = 1
    padding: int = 2  # 28×28 MNIST padded to the paper's 32×32
    conv1: int = 6  # feature maps of the first convolution
    conv2: int = 16
    fc1: int = 120
    fc2: int = 84
    classes: int = 10
    kernel: int = 5
    # pixels are standardised with MNIST's training mean and standard deviation, so that the
    # first layer sees inputs of mean 0 and variance 1 (it trains faster and better)
    mean: float = 0.1307
    std: float = 0.3081


class LeNet5(nn.Module):
    def __init__(self, config: LeNetConfig | None = None, seed: int = 0):
        c = self.config = config or LeNetConfig()
        rng = np.random.default_rng(seed)
        self.conv1 = nn.Conv2d(c.in_channels, c.conv1, c.kernel, padding=c.padding, rng=rng)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(c.conv1, c.conv2, c.kernel, rng=rng)
        self.fc1 = nn.Linear(c.conv2 * c.kernel * c.kernel, c.fc1, rng=rng)
        self.fc2 = nn.Linear(c.fc1, c.fc2, rng=rng)
        self.fc3 = nn.Linear(c.fc2, c.classes, rng=rng)
        self.frozen: FrozenLeNet | None = None  # the served model's inference path (load_pretrained)

    def forward(self, x: Tensor) -> Tensor:
        return self.activations(x)["fc3"]

    def activations(self, x: Tensor) -> dict[str, Tensor]:
        """Every layer's output, by name, in order: what the /lenet page draws."""
        a = {}
        x = (x - self.config.mean) / self.config.std
        # the names and the order are those of layers()
        a["conv1"] = h = self.conv1(x).relu()  # (N, 6, 28, 28)
        a["pool1"] = h = self.pool(h)  # (N, 6, 14, 14)
        a["conv2"] = h = self.conv2(h).relu()  # (N, 16, 10, 10)
        a["pool2"] = h = self.pool(h)  # (N, 16, 5, 5)
        h = h.flatten(1)  # (N, 400)
        a["fc1"] = h = self.fc1(h).relu()  # (N, 120)
        a["fc2"] = h = self.fc2(h).relu()  # (N, 84)
        a["fc3"] = self.fc3(h)  # (N, 10) logits
        return a


@dataclass(frozen=True)
class LayerInfo:
    """One layer the page draws: its name in ``activations``, its caption, and for the
    convolutions and poolings their geometry (what receptive fields are computed from)."""

    name: str
    title: str
    kind: str  # "conv", "maxpool" or "linear"
    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None


def layers(c: LeNetConfig | None = None) -> list[LayerInfo]:
    """LeNet-5's layers in order, from its configuration: the one list the frames, the
    model's description and the page's captions all come from."""
    c = c or LeNetConfig()
    return [
        LayerInfo("conv1", "conv1 + ReLU", "conv", c.kernel, 1, c.padding),
        LayerInfo("pool1", "pool1", "maxpool", 2, 2, 0),
        LayerInfo("conv2", "conv2 + ReLU", "conv", c.kernel, 1, 0),
        LayerInfo("pool2", "pool2", "maxpool", 2, 2, 0),
        LayerInfo("fc1", "fc1 + ReLU", "linear"),
        LayerInfo("fc2", "fc2 + ReLU", "linear"),
        LayerInfo("fc3", "fc3: logits", "linear"),
    ]


def save(model: LeNet5, manifest: dict, path: Path = WEIGHTS) -> None:
    np.savez_compressed(path, **model.state_dict())
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n")


@lru_cache(maxsize=2)  # the standard model and the adversarially trained one (lessons/adversarial.py)
def load_pretrained(path: Path = WEIGHTS) -> LeNet5:
    """LeNet-5 with the weights that ship with deepviz (see ``manifest()``), frozen: its
    parameters require no gradient, so a saliency backward pass computes gradients for the
    input only, and one model is safely shared by every request. It carries its weights laid
    out for inference (``model.frozen``, a ``FrozenLeNet``), which ``infer`` uses: its weights
    must not change."""
    model = LeNet5()
    with np.load(path) as state:
        model.load_state_dict({k: state[k] for k in state.files})
    for p in model.parameters():
        p.requires_grad = False
    model.frozen = FrozenLeNet(model)
    return model


def manifest(path: Path = MANIFEST) -> dict:
    return json.loads(path.read_text())


@dataclass
class Inference:
    """One forward pass and one saliency backward pass, for each image of a batch."""

    logits: np.ndarray  # (N, 10)
    probabilities: np.ndarray  # (N, 10)
    activations: dict[str, np.ndarray]  # name -> (N, ...) every layer's output
    saliency: np.ndarray  # (N, 28, 28): ∂ score of the target class / ∂ input pixel
    targets: np.ndarray  # (N,) the class each saliency map is for


def infer(model: LeNet5, pixels: np.ndarray, targets: np.ndarray | None = None) -> Inference:
    """Classify a batch of 28×28 images and explain each: every layer's activations, and
    the saliency map (the gradient of the target class's logit with respect to the input;
    the predicted class when no target is given). A frozen model (``load_pretrained``)
    computes them on its ``FrozenLeNet``; any other by the engine's graph and backward pass."""
    x = np.asarray(pixels, dtype=np.float32).reshape(-1, 1, 28, 28)
    if model.frozen is not None:
        acts = model.frozen.activations(x)
        targets = _targets(acts["fc3"], targets)
        saliency = model.frozen.saliency(acts, targets)
    else:
        image = Tensor(x, requires_grad=True)
        graph = model.activations(image)
        targets = _targets(graph["fc3"].data, targets)
        # one backward pass for the whole batch: image i's score only depends on image i
        graph["fc3"][np.arange(len(targets)), targets].sum().backward()
        acts, saliency = {k: v.data for k, v in graph.items()}, image.grad[:, 0]
    with no_grad():
        p = F.softmax(Tensor(acts["fc3"]), dim=1).data  # the engine's softmax, the one the page teaches
    return Inference(acts["fc3"], p, acts, saliency, targets)


def _targets(logits: np.ndarray, targets: np.ndarray | None) -> np.ndarray:
    """The class each saliency map is for: the given one, or the prediction where none (or < 0) is."""
    predicted = logits.argmax(axis=1)
    return predicted if targets is None else np.where(np.asarray(targets) < 0, predicted, targets)


MISTAKES = WEIGHTS.with_name("lenet5_mistakes.npz")


def save_mistakes(images: np.ndarray, labels: np.ndarray, predictions: np.ndarray, limit: int = 60) -> None:
    """Keep the first ``limit`` misclassified test digits (as bytes), for the page's gallery."""
    wrong = np.flatnonzero(predictions != labels)[:limit]
    np.savez_compressed(MISTAKES, index=wrong, images=np.round(images[wrong, 0] * 255).astype(np.uint8),
                        labels=labels[wrong], predictions=predictions[wrong])  # fmt: skip


@lru_cache(maxsize=1)
def mistakes() -> dict[str, np.ndarray]:
    with np.load(MISTAKES) as found:
        return {k: found[k] for k in found.files}
