"""A/B in one process: this tree's deepviz against an earlier commit's, imported side by side
as a second package (``deepviz_base``, extracted with ``git archive`` and its imports renamed),
timed in turns, in CPU time, with torch.autograd on the same graph as the yardstick.

    .venv/bin/python bench/ab.py trace [--base afba2de] [--repeat 100]   # parse, trace, serialize, json.dumps
    .venv/bin/python bench/ab.py train [--base afba2de] [--repeat 2000]  # the training lab's MLP step

``trace`` also checks that both give the same JSON, byte for byte, for the bench's expressions.
Times are medians in µs; the machine is shared, so read the ratios (new/base, engine/torch).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import statistics
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_trace import SOFTMAX, thousand_node_expression, torch_forward_backward  # noqa: E402
from bench.common import ROOT, settle  # noqa: E402

EXPRESSIONS = [  # besides the two of bench_trace: every op, fan-out, constants, non-finite values
    (
        "q = x * y; r = q + q; f = sqrt(abs(r)) / (1 + exp(-r)) - max(x, y) ^ 2 + min(y, 0.5) * relu(q) + "
        "sigmoid(x) * cos(y) + log(x) + sum(W @ v) + mean(softmax(W @ v)) + cross_entropy(W @ v, 1)",
        {"x": 0.7, "y": -1.3, "W": [[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]], "v": [0.25, -0.75]},
    ),
    ("a = x ^ 800; b = log(-x) + a; f = b * 0 + x / 0", {"x": 2.0}),
    ("x * x + 3 - 2 * x", {"x": 1.5}),
]


def base_package(rev: str) -> Path:
    """``rev``'s deepviz as ``deepviz_base`` in a temporary directory (put on sys.path)."""
    where = Path(tempfile.mkdtemp(prefix="deepviz-ab-"))
    archive = subprocess.run(["git", "archive", rev, "deepviz"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    (where / "deepviz").rename(where / "deepviz_base")
    for path in (where / "deepviz_base").rglob("*.py"):
        text = path.read_text()
        path.write_text(re.sub(r"\bdeepviz\.(engine|lessons|app)\b", r"deepviz_base.\1", text))
    sys.path.insert(0, str(where))
    return where


def stages(package: str):
    """One /api/v1/graph computation, stage by stage, with ``package``'s code."""
    expr = importlib.import_module(f"{package}.lessons.expr")
    serialize = importlib.import_module(f"{package}.app.serialize")
    limits = {"max_nodes": 5000, "max_length": 20000}

    def run(source: str, values: dict, clock=time.process_time) -> tuple[list[float], str]:
        t0 = clock()
        parsed = expr.parse(source, **limits)
        t1 = clock()
        evaluation = expr.evaluate(parsed, values)
        t2 = clock()
        payload = serialize.trace_json(evaluation.trace)
        t3 = clock()
        text = json.dumps(payload)
        t4 = clock()
        return [t1 - t0, t2 - t1, t3 - t2, t4 - t3], text

    return run


def trace(args) -> None:
    base, new = stages("deepviz_base"), stages("deepviz")
    source, values = thousand_node_expression()
    for s, v in [(source, values), SOFTMAX, *EXPRESSIONS]:
        same = base(s, v)[1] == new(s, v)[1]
        print(f"same JSON, byte for byte: {same}   ({s[:60]}…)")
        if not same:
            raise SystemExit("the payloads differ")
    parsed = importlib.import_module("deepviz.lessons.expr").parse(source, max_nodes=5000, max_length=20000)
    settle()
    times: dict[str, list[list[float]]] = {"base": [], "new": []}
    torch_s: list[float] = []
    for i in range(args.repeat):
        for name, fn in (("base", base), ("new", new)) if i % 2 else (("new", new), ("base", base)):
            times[name].append(fn(source, values)[0])
        began = time.process_time()
        torch_forward_backward(parsed, values)
        torch_s.append(time.process_time() - began)
    torch_us = statistics.median(torch_s) * 1e6
    print(f"\n{args.repeat} runs of each in turns, medians of CPU time, µs; torch.autograd on the same graph: "
          f"{torch_us:.0f} µs")  # fmt: skip
    print(f"  {'stage':28} {'base':>8} {'new':>8} {'new/base':>9}")
    names = ["parse", "evaluate + trace", "serialize", "json.dumps"]
    totals = {}
    for name in ("base", "new"):
        columns = list(zip(*times[name]))
        totals[name] = [statistics.median(c) * 1e6 for c in columns] + [
            statistics.median([sum(r[:3]) for r in times[name]]) * 1e6,
            statistics.median([sum(r) for r in times[name]]) * 1e6,
        ]
    for i, stage in enumerate([*names, "parse + trace + serialize", "... + json.dumps"]):
        b, n = totals["base"][i], totals["new"][i]
        print(f"  {stage:28} {b:8.0f} {n:8.0f} {n / b:9.2f}")
    nodes = len(new(source, values)[1].split('"kind"')) - 1
    b, n = totals["base"][-1], totals["new"][-1]
    print(f"  per node, all stages       {b / nodes:8.2f} {n / nodes:8.2f}   ({nodes} nodes)")
    print(f"  all stages / torch's trace {b / torch_us:8.2f} {n / torch_us:8.2f}")


def train(args) -> None:
    from bench import train_step

    def step(package: str, widths: list[int]):
        engine = importlib.import_module(f"{package}.engine")
        functional = importlib.import_module(f"{package}.engine.functional")
        saved = train_step.nn
        train_step.nn = engine.nn  # train_step builds (and reads) its model with this name
        try:
            model = train_step.engine_mlp(widths, "tanh", np.random.default_rng(0), np.float32)
            reference = train_step.torch_mlp(model, "tanh")
        finally:
            train_step.nn = saved
        x, y = train_step.data(np.random.default_rng(1))
        opt = engine.optim.Adam(model.parameters(), lr=0.01)

        def one():
            opt.zero_grad()
            loss = functional.binary_cross_entropy_with_logits(model(engine.Tensor(x)), y)
            loss.backward()
            opt.step()

        topt = torch.optim.Adam(reference.parameters(), lr=0.01)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)

        def theirs():
            topt.zero_grad()
            TF.binary_cross_entropy_with_logits(reference(tx), ty).backward()
            topt.step()

        return one, theirs

    torch.set_num_threads(1)
    settle()
    print(f"the training lab's step (tanh, Adam, float32, 200 points), medians of {args.repeat} CPU times, µs:")
    print(f"  {'model':10} {'base':>8} {'new':>8} {'torch':>8} {'new/base':>9}")
    for name, widths in train_step.MODELS:
        base, theirs = step("deepviz_base", widths)
        new, _ = step("deepviz", widths)
        samples: dict[str, list[float]] = {"base": [], "new": [], "torch": []}
        for i in range(args.repeat):
            pair = [("base", base), ("new", new)]  # in turns, torch last: each follows torch as often
            for what, fn in [*(pair if i % 2 else pair[::-1]), ("torch", theirs)]:
                began = time.process_time()
                fn()
                samples[what].append(time.process_time() - began)
        b, n, t = (statistics.median(samples[k]) * 1e6 for k in ("base", "new", "torch"))
        print(f"  {name:10} {b:8.1f} {n:8.1f} {t:8.1f} {n / b:9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=["trace", "train"])
    parser.add_argument("--base", default="afba2de", help="the commit to compare with")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    args.repeat = args.repeat or (100 if args.workload == "trace" else 2000)
    torch.set_num_threads(1)
    base_package(args.base)
    {"trace": trace, "train": train}[args.workload](args)


if __name__ == "__main__":
    main()
