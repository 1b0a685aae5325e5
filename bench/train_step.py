"""One training step of the training lab's small MLPs, engine against torch in the same run:
zero_grad, forward, the logistic loss on a logit, backward and the optimizer's step, full
batch on 200 points, both from the same weights and on one thread. Also the forward over a
40×40 grid without a graph (what each frame computes for the decision boundary).

    .venv/bin/python bench/train_step.py [--repeat 2000] [--optimizer adam|sgd] [--activation tanh|relu]
                                         [--dtype float32|float64]

(The training lab itself trains in float64, as the PyTorch program it shows does.)

Small tensors are where Python's per-op overhead shows: the ratio engine/torch is the number.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median_us  # noqa: E402
from deepviz.engine import Tensor, nn, no_grad, optim  # noqa: E402
from deepviz.engine import functional as F  # noqa: E402

# name, layer widths: 2 inputs (a point of the plane), 1 output (a logit)
MODELS = [("2-8-8-1", [2, 8, 8, 1]), ("2-16-16-1", [2, 16, 16, 1]), ("2-16×4-1", [2, 16, 16, 16, 16, 1])]


def engine_mlp(widths: list[int], activation: str, rng: np.random.Generator, dtype=np.float32) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(fan_in, fan_out, rng=rng, dtype=dtype))
        if i < len(widths) - 2:
            layers.append(nn.Tanh() if activation == "tanh" else nn.ReLU())
    return nn.Sequential(*layers)


def torch_mlp(model: nn.Sequential, activation: str) -> torch.nn.Sequential:
    """The same network in torch, from the engine's weights."""
    layers: list[torch.nn.Module] = []
    for layer in model.layers:
        if isinstance(layer, nn.Linear):
            linear = torch.nn.Linear(layer.weight.shape[1], layer.weight.shape[0], dtype=_TORCH[layer.weight.dtype])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.weight.data))
                linear.bias.copy_(torch.from_numpy(layer.bias.data))
            layers.append(linear)
        else:
            layers.append(torch.nn.Tanh() if activation == "tanh" else torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


_TORCH = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def data(rng: np.random.Generator, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """200 XOR points in [-1, 1]² and their labels, (200, 2) and (200, 1)."""
    x = rng.uniform(-1, 1, (200, 2)).astype(dtype)
    y = ((x[:, 0] * x[:, 1]) > 0).astype(dtype)[:, None]
    return x, y


def steps(widths: list[int], args) -> tuple:
    """The engine's and torch's training step, and their grid forwards, for one model."""
    rng = np.random.default_rng(0)
    model = engine_mlp(widths, args.activation, rng, args.dtype)
    reference = torch_mlp(model, args.activation)
    x, y = data(rng, args.dtype)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    side = np.linspace(-1.5, 1.5, 40, dtype=args.dtype)
    grid = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)  # (1600, 2): a frame's plane
    tgrid = torch.from_numpy(grid)
    if args.optimizer == "adam":
        opt, topt = optim.Adam(model.parameters(), lr=0.01), torch.optim.Adam(reference.parameters(), lr=0.01)
    else:
        opt, topt = optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(reference.parameters(), lr=0.1)

    def engine_step():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(Tensor(x)), y)
        loss.backward()
        opt.step()
        return loss

    def torch_step():
        topt.zero_grad()
        loss = TF.binary_cross_entropy_with_logits(reference(tx), ty)
        loss.backward()
        topt.step()
        return loss

    def engine_grid():
        with no_grad():
            return model(Tensor(grid))

    def torch_grid():
        with torch.no_grad():
            return reference(tgrid)

    # the same weights give the same loss: the two steps compute the same thing
    first, tfirst = engine_step().item(), torch_step().item()
    assert abs(first - tfirst) < 1e-5, (first, tfirst)
    return engine_step, torch_step, engine_grid, torch_grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--activation", choices=["tanh", "relu"], default="tanh")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"one training step, full batch of 200 points, {args.activation}, {args.optimizer}, {args.dtype}, "
          f"logistic loss; median µs of {args.repeat}, one thread:")  # fmt: skip
    print(f"  {'model':10} {'what':22} {'engine':>8} {'torch':>8} {'ratio':>6}")
    for name, widths in MODELS:
        engine_step, torch_step, engine_grid, torch_grid = steps(widths, args)
        for what, ours, theirs in [("training step", engine_step, torch_step),
                                   ("forward, 40×40 grid", engine_grid, torch_grid)]:  # fmt: skip
            # interleaved halves, so that a drift of the machine's speed hits both alike
            a1, b1 = median_us(ours, args.repeat // 2, 50), median_us(theirs, args.repeat // 2, 50)
            a2, b2 = median_us(ours, args.repeat // 2, 10), median_us(theirs, args.repeat // 2, 10)
            a, b = (a1 + a2) / 2, (b1 + b2) / 2
            print(f"  {name:10} {what:22} {a:8.1f} {b:8.1f} {a / b:6.2f}")


if __name__ == "__main__":
    main()
