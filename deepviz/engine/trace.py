"""A trace: what happened in one computation, as plain records keyed by node id.

For every node: its op, label, shape, forward value and gradient. For the backward pass,
the ordered steps: at each node the upstream gradient and, for each input, how its local
gradient reads, its value (for elementwise ops), and the downstream gradient it receives
(downstream = local × upstream, summed over uses). The backprop page animates exactly
this. Serializing it (``app``) and drawing it (the page) are separate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from deepviz.engine.backprop import backpropagate, store_grad
from deepviz.engine.tensor import Tensor
from deepviz.engine.walk import postorder

# (Records have slots: a trace makes one per node and one per input of each step, and a
# record without a __dict__ is half the objects to make, collect and free.)


@dataclass(slots=True)
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


@dataclass(slots=True)
class InputStep:
    node: int
    rule: str  # how the local gradient reads, e.g. "b" for ∂(a·b)/∂a
    local: np.ndarray | float | None  # its value, for ops whose Jacobian is diagonal
    downstream: np.ndarray | None  # None where no gradient flows (a constant input)


@dataclass(slots=True)
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
    return postorder(output, _parents)


_parents = attrgetter("_parents")  # (a tensor's inputs: what graph_order walks through)


def record(output: Tensor, backward: bool = True, order: list[Tensor] | None = None) -> Trace:
    """Trace the graph that made ``output`` and, if asked (and if anything requires a
    gradient), run its backward pass, recording every step. ``order``: ``graph_order(output)``,
    if the caller has it already (the walk is a tenth of the trace's cost)."""
    tensors = graph_order(output) if order is None else order
    ids = {id(t): i for i, t in enumerate(tensors)}
    nodes: list[NodeRecord] = []
    for i, t in enumerate(tensors):  # one pass: a node's inputs are recorded before it
        fn, label = t._fn, t.label
        if fn is None:
            kind = "variable" if t.requires_grad else "constant"
            nodes.append(NodeRecord(i, kind, "", label, t.data.shape, t.data, [], {}, label))
        else:
            inputs = [ids[id(p)] for p in t._parents]
            formula = fn.describe([nodes[j].label for j in inputs])
            nodes.append(NodeRecord(i, "op", fn.name, label, t.data.shape, t.data, inputs, fn.params, formula))
    steps: list[BackwardStep] = []

    def on_step(node: Tensor, upstream, inputs) -> None:
        rules = node._fn.local_rules if node._fn is not None else ()
        if len(rules) < len(inputs):  # (an op may not say how its local gradient reads)
            rules = (*rules, *[""] * (len(inputs) - len(rules)))
        records = [InputStep(ids[id(p)], rule, local, down) for (p, down, local), rule in zip(inputs, rules)]
        steps.append(BackwardStep(ids[id(node)], upstream, records))

    if backward and output.requires_grad:
        if output.data.size != 1:
            raise RuntimeError(f"backward() needs a scalar, or a gradient of shape {output.shape}")
        # the nodes that want a gradient, output first: the order backward() would walk them in
        wanting = [t for t in reversed(tensors) if t.requires_grad]
        backpropagate([output], [np.ones_like(output.data)], store_grad, on_step=on_step, order=wanting)
        for record_, t in zip(nodes, tensors, strict=True):
            record_.grad = t.grad
    return Trace(nodes, steps, ids[id(output)])
