"""Time tracing and serializing expression graphs: a 1,000-node expression and the
softmax-regression graph of figure 2.2, against the same computation in torch.autograd,
measured in the same run. Prints medians and ratios (no thresholds: the machine is noisy).

    .venv/bin/python bench/bench_trace.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# Both libraries on one thread, so that the ratio compares code, not thread pools.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import interleaved_us, median_us, settle  # noqa: E402
from deepviz.app import serialize  # noqa: E402
from deepviz.lessons.expr import evaluate, parse  # noqa: E402
from deepviz.lessons.expr.check import gradient_check  # noqa: E402
from deepviz.lessons.expr.parser import Binary, Call, Index, Num, Unary, Var, postorder  # noqa: E402

TORCH_CALLS = {
    "exp": torch.exp, "log": torch.log, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "sin": torch.sin, "cos": torch.cos, "sqrt": torch.sqrt, "abs": torch.abs, "softmax": lambda z: torch.softmax(z, -1),
    "sum": torch.sum, "mean": torch.mean, "max": torch.maximum, "min": torch.minimum,
}  # fmt: skip
TORCH_BINARY = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "^": torch.pow, "@": torch.matmul}


def torch_forward_backward(expression, values):
    """The same graph, node for node, in torch.autograd: forward, then backward."""
    leaves = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in values.items()}
    done = {}
    for node in postorder(expression.root):
        if id(node) in done:
            continue
        if isinstance(node, Num):
            out = torch.tensor(node.value, dtype=torch.float64)
        elif isinstance(node, Var):
            out = leaves[node.name]
        elif isinstance(node, Unary):
            out = -done[id(node.operand)] if node.op == "-" else done[id(node.operand)]
        elif isinstance(node, Binary):
            out = TORCH_BINARY[node.op](done[id(node.left)], done[id(node.right)])
        elif isinstance(node, Index):
            out = done[id(node.target)][int(done[id(node.index)].item())]
        elif isinstance(node, Call):
            out = TORCH_CALLS[node.name](*(done[id(a)] for a in node.args))
        done[id(node)] = out
    done[id(expression.root)].backward()
    return {k: t.grad for k, t in leaves.items()}


def thousand_node_expression() -> tuple[str, dict]:
    """100 terms of 10 nodes each, summed: about 1,000 nodes, 100 levels deep."""
    terms = [f"sin(x * {i % 7 + 1} + y) * tanh(z - {i / 100:g})" for i in range(100)]
    return " + ".join(terms), {"x": 0.3, "y": -1.2, "z": 0.8}


SOFTMAX = (
    "z = W @ x + b; p = softmax(z); L = -log(p[y])",
    {"W": [[0.2, -0.5], [1.5, 1.3], [0.0, 0.25]], "x": [1.0, -2.0], "b": [1.1, 3.2, -1.2], "y": 2},
)


def measure(source: str, values: dict, repeat: int, check: bool = True) -> dict[str, float]:
    """Median µs of each stage of /api/v1/graph on ``source``, and of torch.autograd on the
    same graph, in the same run; also the sizes (nodes, backward steps, bytes of JSON)."""
    limits = {"max_nodes": 5000, "max_length": 20000}
    parsed = parse(source, **limits)
    run = evaluate(parsed, values)
    payload = serialize.trace_json(run.trace)
    trace_us, torch_us = interleaved_us(
        [lambda: evaluate(parsed, values), lambda: torch_forward_backward(parsed, values)], repeat
    )
    m = {
        "nodes": len(run.trace.nodes), "steps": len(run.trace.backward), "bytes": len(json.dumps(payload)),
        "parse": median_us(lambda: parse(source, **limits), repeat), "trace": trace_us, "torch": torch_us,
        "serialize": median_us(lambda: serialize.trace_json(run.trace), repeat),
        "encode": median_us(lambda: json.dumps(payload), repeat),
    }  # fmt: skip
    if check:
        m["check"] = median_us(lambda: gradient_check(evaluate(parsed, values)), max(3, repeat // 10)) - trace_us
    return m


def bench(name: str, source: str, values: dict, repeat: int) -> None:
    m = measure(source, values, repeat)
    nodes = m["nodes"]
    print(f"\n{name}: {nodes} nodes, {m['steps']} backward steps, {m['bytes'] / 1024:.1f} KiB of JSON")
    print(f"  parse                              {m['parse']:10.0f} µs")
    print(f"  evaluate + trace (fwd + bwd)       {m['trace']:10.0f} µs   ({m['trace'] / nodes:.1f} µs a node)")
    print(f"  torch.autograd, same graph         {m['torch']:10.0f} µs   engine/torch = {m['trace'] / m['torch']:.2f}")
    print(f"  serialize the trace                {m['serialize']:10.0f} µs")
    print(f"  json.dumps                         {m['encode']:10.0f} µs")
    print(f"  gradient check (numeric+symbolic)  {m['check']:10.0f} µs")
    total = m["parse"] + m["trace"] + m["serialize"]
    print(f"  parse + trace + serialize          {total:10.0f} µs")
    print(f"  ... + json.dumps                   {total + m['encode']:10.0f} µs   (/api/v1/graph, before its check)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    settle()
    print(f"numpy {np.__version__}, torch {torch.__version__} (1 thread), medians of {args.repeat} runs")
    bench("1,000-node expression", *thousand_node_expression(), args.repeat)
    bench("softmax regression (figure 2.2)", *SOFTMAX, args.repeat)


if __name__ == "__main__":
    main()
