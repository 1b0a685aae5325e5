"""conv2d of another revision against this one, in one process (A/B): the engine's
``cnn_ops.py`` of each revision given (``git show REV:deepviz/engine/cnn_ops.py``, imported as
a module of its own) and of the work tree, on bench_conv's cases, each as a ratio to torch.

    .venv/bin/python bench/ab_conv.py afba2de [more revisions] [--repeat 100]

Each engine variant is timed right after a torch call, in turns: whatever runs after torch
finds the caches as torch left them (up to 40% slower on the small cases), so a variant that
ran after another engine variant instead would look faster than it is. CPU time, one thread.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.bench_conv import CASES  # noqa: E402
from deepviz.engine import Tensor, cnn_ops, no_grad  # noqa: E402


def revision(rev: str, folder: Path):
    """The module cnn_ops.py as it was at ``rev``."""
    path = folder / f"cnn_ops_{rev}.py"
    path.write_text(subprocess.check_output(["git", "show", f"{rev}:deepviz/engine/cnn_ops.py"], cwd=ROOT, text=True))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ratios(modules, case, rng, repeat: int) -> tuple[list[float], float, list[float], float]:
    """Each module's forward / torch's and forward + backward / torch's, and torch's µs."""
    _, x_shape, w_shape, padding, stride = case
    x, w = rng.standard_normal(x_shape).astype(np.float32), rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ex, ew, eb = (Tensor(a, requires_grad=True) for a in (x, w, b))
    upstream = np.ones(TF.conv2d(tx, tw, tb, stride=stride, padding=padding).shape, dtype=np.float32)
    torch_upstream = torch.tensor(upstream)

    def forward(module):
        def run():
            with no_grad():
                Tensor.apply(module.Conv2d, Tensor(x), Tensor(w), Tensor(b), stride=stride, padding=padding, dilation=1)

        return run

    def both(module):
        def run():
            Tensor.apply(module.Conv2d, ex, ew, eb, stride=stride, padding=padding, dilation=1).backward(upstream)

        return run

    def torch_forward():
        with torch.no_grad():
            TF.conv2d(tx, tw, tb, stride=stride, padding=padding)

    def torch_both():
        TF.conv2d(tx, tw, tb, stride=stride, padding=padding).backward(torch_upstream)

    out = []
    for engine, theirs, n in [(forward, torch_forward, repeat), (both, torch_both, max(10, repeat // 3))]:
        times = common.interleaved_us([f for m in modules for f in (theirs, engine(m))], n, 3)
        torch_us = float(np.median(times[0::2]))
        out += [[t / torch_us for t in times[1::2]], torch_us]
    return tuple(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revisions", nargs="+")
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    common.clock = time.process_time
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        modules = [revision(rev, Path(folder)) for rev in args.revisions] + [cnn_ops]
        common.settle()
        names = " ".join(f"{name:>9}" for name in [*args.revisions, "this"])
        print(f"engine/torch, CPU time, one thread; medians of {args.repeat} (forward), each after a torch call")
        print(f"{'case':36} forward: {names}  (torch)  | forward + backward: {names}  (torch)")
        rng = np.random.default_rng(0)
        for case in CASES:
            f, tf, fb, tfb = ratios(modules, case, rng, args.repeat)
            cells = " ".join(f"{r:9.2f}" for r in f), " ".join(f"{r:9.2f}" for r in fb)
            print(f"{case[0]:36}          {cells[0]}  ({tf:5.0f}µs) |                     {cells[1]}  ({tfb:5.0f}µs)")


if __name__ == "__main__":
    main()
