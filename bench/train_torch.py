"""The same LeNet-5 training in torch, for the per-epoch time ratio engine/torch (and as a
check that the engine's training reaches what torch's does with the same recipe).

    .venv/bin/python bench/train_torch.py [--epochs 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deepviz.lessons.mnist import load  # noqa: E402
from deepviz.lessons.train import TrainConfig, shifted  # noqa: E402
from deepviz.lessons.train import train as engine_train  # noqa: E402


class TorchLeNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(400, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = (x - 0.1307) / 0.3081  # as the engine's LeNet5 standardises its input
        x = TF.max_pool2d(TF.relu(self.conv1(x)), 2)
        x = TF.max_pool2d(TF.relu(self.conv2(x)), 2)
        x = TF.relu(self.fc1(x.flatten(1)))
        return self.fc3(TF.relu(self.fc2(x)))


def torch_train(config: TrainConfig) -> tuple[list[float], float]:
    data = load()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = TorchLeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, config.lr_decay)
    n, times = len(data.train), []
    for _ in range(config.epochs):
        start, order = time.perf_counter(), rng.permutation(n)
        for b in range(0, n, config.batch_size):
            index = order[b : b + config.batch_size]
            x = torch.from_numpy(np.ascontiguousarray(shifted(data.train.images[index], rng, config.shift)))
            optimizer.zero_grad()
            TF.cross_entropy(model(x), torch.from_numpy(data.train.labels[index])).backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
        scheduler.step()
    with torch.no_grad():
        logits = model(torch.from_numpy(data.test.images))
    return times, float((logits.argmax(1).numpy() == data.test.labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = TrainConfig(epochs=args.epochs)
    torch_times, torch_accuracy = torch_train(config)
    _, manifest = engine_train(config)
    engine_times = [e["seconds"] for e in manifest["epochs"]]
    print(f"LeNet-5 on MNIST, batch {config.batch_size}, Adam, {args.epochs} epoch(s), both on 1 thread")
    print(f"  torch   {np.median(torch_times):6.1f} s/epoch   test accuracy {torch_accuracy:.2%}")
    print(f"  engine  {np.median(engine_times):6.1f} s/epoch   test accuracy {manifest['test_accuracy']:.2%}")
    print(f"  engine/torch per epoch: {np.median(engine_times) / np.median(torch_times):.2f}")


if __name__ == "__main__":
    main()
