"""A trace: what happened in one computation, as plain records keyed by node id.

For every node: its op, label, shape, forward value and gradient. For the backward pass,
the ordered steps: at each node the upstream gradient and, for each input, how its local
gradient reads, its value (for elementwise ops), and the downstream gradient it receives
(downstream = local × upstream, summed over uses). The backprop page animates exactly
this. Serializing it (``app``) and drawing it (the page) are separate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deepviz.engine.tensor import Tensor
from deepviz.engine.walk import postorder


@dataclass
class NodeRecord:
    id: int
    kind: str  # "variable", "constant" or "op"
    op: str  # the operation's name, "" for a leaf
    label: str
    shape: tuple[int, ...]
    value: np.ndarray
    inputs: list[int]  # node ids, in argument order
    params: dict = field(default_factory=dict)  # the op's settings (an index, an axis…)
    formula: str = ""  # how it is computed from its inputs' labels: "x + y", "exp(q)"; a leaf: its label
    grad: np.ndarray | None = None


@dataclass
class InputStep:
    node: int
    rule: str  # how the local gradient reads, e.g. "b" for ∂(a·b)/∂a
    local: np.ndarray | float | None  # its value, for ops whose Jacobian is diagonal
    downstream: np.ndarray | None  # None where no gradient flows (a constant input)


@dataclass
class BackwardStep:
    node: int
    upstream: np.ndarray
    inputs: list[InputStep] = field(default_factory=list)


@dataclass
class Trace:
    nodes: list[NodeRecord]  # forward order: every node after its inputs
    backward: list[BackwardStep]  # backward order: from the output to the inputs
    output: int

    def edges(self) -> list[tuple[int, int, int]]:
        """(source, target, argument position) for every use of a node as an input."""
        return [(src, node.id, slot) for node in self.nodes for slot, src in enumerate(node.inputs)]


def graph_order(output: Tensor) -> list[Tensor]:
    """Every tensor ``output`` was made from, constants included, inputs first."""
    return postorder(output, lambda t: t.parents)


def record(output: Tensor, backward: bool = True, order: list[Tensor] | None = None) -> Trace:
    """Trace the graph that made ``output`` and, if asked (and if anything requires a
    gradient), run its backward pass, recording every step. ``order``: ``graph_order(output)``,
    if the caller has it already (the walk is a tenth of the trace's cost)."""
    tensors = graph_order(output) if order is None else order
    ids = {id(t): i for i, t in enumerate(tensors)}
    nodes = [
        NodeRecord(
            id=i,
            kind="op" if t.fn else ("variable" if t.requires_grad else "constant"),
            op=t.op,
            label=t.label,
            shape=t.shape,
            value=t.data,
            inputs=[ids[id(p)] for p in t.parents],
            params=t.fn.params if t.fn else {},
        )
        for i, t in enumerate(tensors)
    ]
    for record_, t in zip(nodes, tensors, strict=True):
        record_.formula = t.fn.describe([nodes[i].label for i in record_.inputs]) if t.fn else record_.label
    steps: list[BackwardStep] = []

    def on_step(node: Tensor, upstream, inputs) -> None:
        locals_ = node.fn.local(*(p.data for p in node.parents), node.data) if node.fn else None
        rules = node.fn.local_rules if node.fn else ()
        step = BackwardStep(ids[id(node)], upstream)
        for slot, (parent, downstream) in enumerate(inputs):
            local = locals_[slot] if locals_ is not None else None
            rule = rules[slot] if slot < len(rules) else ""
            step.inputs.append(InputStep(ids[id(parent)], rule, local, downstream))
        steps.append(step)

    if backward and output.requires_grad:
        output.backward(on_step=on_step)
        for record_, t in zip(nodes, tensors, strict=True):
            record_.grad = t.grad
    return Trace(nodes, steps, ids[id(output)])
