"""conv2d forward and backward, engine against torch.nn.functional.conv2d, in the same run:
LeNet-sized layers (batch 1 and 64) and a 3×64×64 image. Prints medians and the ratio
engine/torch (below 1: the engine is faster). No thresholds: this machine is noisy.

    .venv/bin/python bench/bench_conv.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Both libraries on one thread, so that the ratio compares code, not thread pools.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import interleaved_us, settle  # noqa: E402
from deepviz.engine import Tensor, no_grad  # noqa: E402
from deepviz.engine import functional as F  # noqa: E402

CASES = [  # name, input shape (N, C, H, W), kernels (C_out, C_in, K, K), padding, stride
    ("LeNet conv1, batch 1", (1, 1, 28, 28), (6, 1, 5, 5), 2, 1),
    ("LeNet conv2, batch 1", (1, 6, 14, 14), (16, 6, 5, 5), 0, 1),
    ("LeNet conv1, batch 64", (64, 1, 28, 28), (6, 1, 5, 5), 2, 1),
    ("LeNet conv2, batch 64", (64, 6, 14, 14), (16, 6, 5, 5), 0, 1),
    ("3×64×64, 16 3×3 kernels", (1, 3, 64, 64), (16, 3, 3, 3), 1, 1),
    ("3×64×64, 16 3×3 kernels, stride 2", (1, 3, 64, 64), (16, 3, 3, 3), 1, 2),
    ("3×64×64 batch 8, 16 3×3", (8, 3, 64, 64), (16, 3, 3, 3), 1, 1),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    settle()
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, torch {torch.__version__} (both on 1 thread), float32, medians of {args.repeat}")
    head = f"{'case':36} {'fwd engine':>11} {'fwd torch':>10} {'ratio':>6}"
    print(f"{head}   {'fwd+bwd engine':>14} {'torch':>8} {'ratio':>6}")
    for case in CASES:
        print(bench_case(*case, rng=rng, repeat=args.repeat))


def bench_case(name, x_shape, w_shape, padding, stride, rng, repeat) -> str:
    ef, tf, eb_, tb_ = time_case(x_shape, w_shape, padding, stride, rng, repeat)
    return f"{name:36} {ef:9.0f}µs {tf:8.0f}µs {ef / tf:6.2f}   {eb_:12.0f}µs {tb_:6.0f}µs {eb_ / tb_:6.2f}"


def time_case(x_shape, w_shape, padding, stride, rng, repeat) -> tuple[float, float, float, float]:
    """Median µs of (engine forward, torch forward, engine forward + backward, torch's), timed in turns."""
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ex, ew, eb = (Tensor(a, requires_grad=True) for a in (x, w, b))
    upstream = np.ones(F.conv2d(Tensor(x), Tensor(w), None, stride, padding).shape, dtype=np.float32)
    tup = torch.tensor(upstream)

    def engine_forward():
        with no_grad():
            F.conv2d(Tensor(x), Tensor(w), Tensor(b), stride, padding)

    def torch_forward():
        with torch.no_grad():
            TF.conv2d(tx, tw, tb, stride=stride, padding=padding)

    def engine_both():
        F.conv2d(ex, ew, eb, stride, padding).backward(upstream)

    def torch_both():
        TF.conv2d(tx, tw, tb, stride=stride, padding=padding).backward(tup)

    ef, tf = interleaved_us([engine_forward, torch_forward], repeat)
    eb_, tb_ = interleaved_us([engine_both, torch_both], repeat)
    return ef, tf, eb_, tb_


if __name__ == "__main__":
    main()
