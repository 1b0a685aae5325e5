"""A workload to profile, alone in its process (no torch: its import would fill the profile):

    .venv/bin/py-spy record -r 500 -o docs/perf/trace.svg -- .venv/bin/python bench/workload.py trace
    .venv/bin/py-spy record -r 500 -o docs/perf/lenet.svg -- .venv/bin/python bench/workload.py lenet

``trace``: parse, evaluate + trace, serialize and encode the 1,000-node expression of
``bench_trace.py``. ``lenet``: batch-1 inference and saliency (the draw loop). ``train``:
batch-64 forward + backward (a training step without the optimizer).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import settle  # noqa: E402
from deepviz.app import serialize  # noqa: E402
from deepviz.engine import Tensor  # noqa: E402
from deepviz.engine import functional as F  # noqa: E402
from deepviz.lessons import lenet  # noqa: E402
from deepviz.lessons.expr import evaluate, parse  # noqa: E402
from deepviz.lessons.mnist import load  # noqa: E402


def thousand_node_expression() -> tuple[str, dict]:
    """100 terms of 10 nodes each, summed: about 1,000 nodes, 100 levels deep."""
    terms = [f"sin(x * {i % 7 + 1} + y) * tanh(z - {i / 100:g})" for i in range(100)]
    return " + ".join(terms), {"x": 0.3, "y": -1.2, "z": 0.8}


def trace(repeat: int) -> None:
    source, values = thousand_node_expression()
    settle()
    for _ in range(repeat):
        run = evaluate(parse(source, max_nodes=5000, max_length=20000), values)
        json.dumps(serialize.trace_json(run.trace))


def lenet_loop(repeat: int) -> None:
    model, images = lenet.load_pretrained(), load().test.images
    settle()
    for _ in range(repeat):  # as the server: the frozen model's path (lessons/frozen_lenet.py)
        model.frozen.activations(images[:1])
        lenet.infer(model, images[:1, 0])


def train_loop(repeat: int) -> None:
    model, images = lenet.LeNet5(), load().test.images
    labels = [i % 10 for i in range(64)]
    settle()
    for _ in range(repeat // 10):
        model.zero_grad()
        F.cross_entropy(model(Tensor(images[:64])), labels).backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload", choices=["trace", "lenet", "train"])
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    {"trace": trace, "lenet": lenet_loop, "train": train_loop}[args.workload](args.repeat)


if __name__ == "__main__":
    main()
