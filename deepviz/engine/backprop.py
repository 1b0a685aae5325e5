"""The backward pass: the one walk of the engine, and where the chain rule is applied.

``backpropagate`` goes from the outputs (each seeded with its gradient) back to the leaves,
in reverse topological order, so that a node's gradient is complete (summed over all its
uses) when its turn comes. At each node its op turns the gradient arriving from the output
(``upstream``) into one for each input (``downstream``):

- an op that gives its ``local`` gradient ∂out/∂input (every elementwise op, and a loss whose
  output is one number) gets the chain rule applied here, once for all of them:
  downstream = local × upstream;
- any other op (matmul, softmax, convolution, …) writes its ``backward``.

An input that was broadcast in forward gets its gradient summed over its copies
(``unbroadcast``), and each gradient's shape is checked, with a message naming the op.
``Tensor.backward`` and ``autograd.grad`` both call it; the trace hooks in here (``on_step``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np

from deepviz.engine.function import Array, unbroadcast
from deepviz.engine.grad_mode import set_grad_enabled
from deepviz.engine.walk import postorder_from

# on_step(node, upstream, [(parent, downstream or None, local or None), ...]) is called once per
# node during backward, ``local`` being the input's local gradient for ops that give one: the
# trace hooks in here (and nowhere else in the backward pass).
StepHook = Callable[[object, Array, list], None]


def backpropagate(
    outputs: Sequence,
    gradients: Sequence,
    receive: Callable[[object, object], None],
    retain_graph: bool = False,
    create_graph: bool = False,
    on_step: StepHook | None = None,
    needed: set[int] | None = None,
    order: Sequence | None = None,
) -> None:
    """The backward pass from ``outputs`` (Tensors), each seeded with its ``gradients``.
    ``receive(node, gradient)`` gets each node's complete gradient (``Tensor.backward``
    stores it in ``.grad``: ``store_grad``; ``autograd.grad`` keeps the inputs'), then the
    node's op turns it into its inputs' gradients. ``needed``: the ids of the only nodes to
    visit (the others lead to no wanted input). ``order``: the nodes that require a gradient,
    outputs first, if the caller has them already (the trace has walked the graph).

    Without ``create_graph`` every gradient is a numpy array and each rule computes with
    numpy. With it, each rule is given its op's input and output Tensors and a Tensor
    gradient, and records what it computes: the gradients are Tensors that can be
    differentiated again (see ``engine.function``)."""
    grads: dict[int, object] = {}
    for output, gradient in zip(outputs, gradients, strict=True):
        gradient = _seed(gradient, output, create_graph)
        key = id(output)
        grads[key] = gradient if key not in grads else grads[key] + gradient
    if order is None:
        order = reversed(postorder_from(outputs, lambda t: [p for p in t._parents if p.requires_grad]))
    if needed is not None:
        order = [n for n in order if id(n) in needed]
    pop, ndarray = grads.pop, np.ndarray
    with set_grad_enabled(True) if create_graph else contextlib.nullcontext():  # record the rules' ops, or not
        for node in order:
            upstream = pop(id(node), None)
            if upstream is None:
                continue
            receive(node, upstream)
            fn = node._fn
            if fn is None:  # a leaf
                if on_step:
                    on_step(node, upstream, [])
                continue
            if fn.saved is None:
                raise RuntimeError(
                    f"backward through '{fn.name}' a second time: its saved values were freed "
                    "by the first backward(); pass retain_graph=True to the first call"
                )
            parents = node._parents
            if not create_graph:  # the rule on arrays
                at = (*[p.data for p in parents], node.data)
            elif fn.twice_differentiable:  # the same rule on Tensors: recorded
                at = (*parents, node)
            else:
                raise NotImplementedError(f"'{fn.name}' has a first-order backward only: no create_graph")
            locals_ = fn.local(*at)
            if locals_ is not None:  # the chain rule, for the inputs that want a gradient
                downstreams = [
                    local * upstream if need and local is not None else None
                    for local, need in zip(locals_, fn.needs_grad, strict=True)
                ]
            else:
                downstreams = fn.backward(upstream, *at)
            steps = []
            for slot, (parent, down) in enumerate(zip(parents, downstreams, strict=True)):
                if down is None or not parent.requires_grad:
                    if on_step:
                        steps.append((parent, None, locals_ and locals_[slot]))
                    continue
                data = parent.data
                # (on Tensors, a rule's result is a Tensor: it multiplies upstream)
                if not create_graph and (type(down) is not ndarray or down.dtype is not data.dtype):
                    down = np.asarray(down, dtype=data.dtype)  # a 0-d op's rule gives a numpy scalar
                shape = data.shape
                if down.shape != shape:  # the input was broadcast in forward: sum over its copies
                    down = unbroadcast(down, shape)
                    if down.shape != shape:
                        raise RuntimeError(
                            f"'{fn.name}' gave a gradient of shape {down.shape} for an input of shape {shape}"
                        )
                if on_step:
                    steps.append((parent, down, locals_ and locals_[slot]))
                key = id(parent)
                grads[key] = down if key not in grads else grads[key] + down
            if on_step:
                on_step(node, upstream, steps)
            if not retain_graph:
                fn.release()


def _seed(gradient, like, create_graph: bool):
    """The gradient that starts a backward pass at the Tensor ``like``: an array of its dtype,
    or with ``create_graph`` a Tensor (one the caller made may itself require grad)."""
    tensor = type(like)
    if create_graph:
        return gradient if isinstance(gradient, tensor) else tensor(np.asarray(gradient, dtype=like.data.dtype))
    return np.asarray(gradient.data if isinstance(gradient, tensor) else gradient, dtype=like.data.dtype)


def store_grad(node, gradient) -> None:
    """Tensor.backward's rule: a leaf accumulates into ``.grad`` (across calls); any other
    tensor gets this pass's gradient."""
    if node._fn is None and node.grad is not None:
        node.grad = node.grad + gradient
    else:
        node.grad = gradient
