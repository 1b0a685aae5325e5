"""The benchmark table of the README (issue 13), regenerated: every row measured now, with
torch's time for the same work measured in the same run, both on one thread. Prints markdown.

    .venv/bin/python bench/report.py            # under a minute when the machine is quiet (an epoch each)
    .venv/bin/python bench/report.py --quick    # seconds: 60 training steps, fewer repeats

The rows come from the benches themselves (bench_lenet, bench_conv, bench_trace, train_torch);
each ratio is engine time / torch time (below 1: the engine is faster). No thresholds: this is
a shared, noisy machine, so each pair is timed in turns, in CPU time unless ``--wall``, and the
medians are compared.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.bench_conv import CASES, time_case  # noqa: E402
from bench.bench_lenet import ratio_timings  # noqa: E402
from bench.bench_trace import measure, thousand_node_expression  # noqa: E402
from bench.common import settle  # noqa: E402
from bench.train_torch import TorchLeNet  # noqa: E402
from deepviz.engine import Tensor, optim  # noqa: E402
from deepviz.engine import functional as F  # noqa: E402
from deepviz.lessons import lenet  # noqa: E402
from deepviz.lessons.mnist import load  # noqa: E402
from deepviz.lessons.train import TrainConfig, accuracy, shifted  # noqa: E402

GOALS = {  # the goals, engine/torch unless said
    "batch-1 inference": "≤ 0.6",
    "batch-1 inference, the engine's graph": "(for comparison)",
    "batch-1 forward + saliency": "≤ 0.6",
    "batch-64 forward + backward": "≤ 1.3",
    "epoch": "≤ 1.3, same accuracy",
    "conv": "≤ 1.5",
    "trace": "≤ 10 ms in all",
}


def row(what: str, engine: str, torch_: str, ratio: str, goal: str) -> str:
    return f"| {what} | {engine} | {torch_} | {ratio} | {goal} |"


def ms(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us < 10_000 else f"{us / 1000:.1f} ms"


def lenet_rows(repeat: int) -> list[str]:
    model = lenet.load_pretrained()
    rows = []
    for name, engine, theirs in ratio_timings(model, load().test.images, repeat):
        rows.append(row(f"LeNet-5 {name}", ms(engine), ms(theirs), f"{engine / theirs:.2f}", GOALS[name]))
    return rows


def epoch_row(steps: int | None) -> str:
    """One epoch of bench/train_torch.py's recipe (shift augmentation, batch 64, Adam) in each
    library from the same data, a step of each in turn, and both models' test accuracy; with
    ``steps``, only that many steps (``--quick``: no accuracy). Each step's minibatch is
    augmented outside the timing, so the two libraries train on the same images."""
    data, config = load(), TrainConfig(epochs=1)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    ours, theirs = lenet.LeNet5(seed=config.seed), TorchLeNet()
    ours_opt = optim.Adam(ours.parameters(), lr=config.lr)
    theirs_opt = torch.optim.Adam(theirs.parameters(), lr=config.lr)
    order = rng.permutation(len(data.train))
    starts = range(0, len(order), config.batch_size)[:steps]
    engine_s = torch_s = 0.0
    for start in starts:
        index = order[start : start + config.batch_size]
        x, y = np.ascontiguousarray(shifted(data.train.images[index], rng, config.shift)), data.train.labels[index]
        began = common.clock()
        ours_opt.zero_grad()
        F.cross_entropy(ours(Tensor(x)), y).backward()
        ours_opt.step()
        middle = common.clock()
        theirs_opt.zero_grad()
        TF.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        theirs_opt.step()
        engine_s, torch_s = engine_s + middle - began, torch_s + common.clock() - middle
    if steps is not None:
        what = f"training steps (`bench/train_torch.py`'s recipe; `--quick`: {len(starts)} of an epoch's 782)"
        return row(what, f"{engine_s:.2f} s", f"{torch_s:.2f} s", f"{engine_s / torch_s:.2f}", GOALS["epoch"])
    ours_accuracy = accuracy(ours, data.test)
    with torch.no_grad():
        theirs_accuracy = float(
            (theirs(torch.from_numpy(data.test.images)).argmax(1).numpy() == data.test.labels).mean()
        )
    what = "one training epoch (`bench/train_torch.py`'s recipe: 50,000 images, batch 64, Adam; a step of each in turn)"
    return row(what, f"{engine_s:.1f} s, test {ours_accuracy:.2%}", f"{torch_s:.1f} s, test {theirs_accuracy:.2%}",
               f"{engine_s / torch_s:.2f}", GOALS["epoch"])  # fmt: skip


def conv_row(repeat: int) -> str:
    name, x_shape, w_shape, padding, stride = next(c for c in CASES if c[0] == "LeNet conv2, batch 64")
    forward, theirs, *_ = time_case(x_shape, w_shape, padding, stride, np.random.default_rng(0), repeat)
    what = f"batched conv forward (`bench/bench_conv.py`, {name})"
    return row(what, ms(forward), ms(theirs), f"{forward / theirs:.2f}", GOALS["conv"])


def trace_row(repeat: int) -> str:
    m = measure(*thousand_node_expression(), repeat, check=False)
    total = m["parse"] + m["trace"] + m["serialize"]
    what = (f"{m['nodes']}-node expression (`bench/bench_trace.py`): parse {ms(m['parse'])} + trace "
            f"{ms(m['trace'])} + serialize {ms(m['serialize'])} (+ json.dumps {ms(m['encode'])})")  # fmt: skip
    return row(what, ms(total), f"trace: {ms(m['torch'])}", f"trace: {m['trace'] / m['torch']:.2f}", GOALS["trace"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, training steps instead of an epoch")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not the CPU time")
    args = parser.parse_args()
    if not args.wall:
        common.clock = time.process_time
    torch.set_num_threads(1)
    lenet.load_pretrained(), load()  # loaded (and cached) before the collector is settled
    settle()
    began = time.perf_counter()
    repeat = 40 if args.quick else 200
    rows = [
        *lenet_rows(repeat),
        epoch_row(60 if args.quick else None),
        conv_row(repeat // 2),
        trace_row(repeat // 4),
    ]
    print("| what | engine | torch | engine/torch | goal |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    command = "python bench/report.py" + " --quick" * args.quick + " --wall" * args.wall
    clock = "wall time" if args.wall else "CPU time"
    print(f"\nnumpy {np.__version__}, torch {torch.__version__}, both on one thread, Python "
          f"{platform.python_version()}, {platform.machine()}; medians (the epoch: sums) of {clock}, in turns; "
          f"measured in {time.perf_counter() - began:.0f} s by `{command}`.")  # fmt: skip


if __name__ == "__main__":
    main()
