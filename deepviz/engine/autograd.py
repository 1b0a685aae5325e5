"""Gradients as values, and gradients of gradients: ``grad``, ``hessian``, ``hvp``.

``grad(outputs, inputs)`` is ``torch.autograd.grad``: it returns the gradients of the
outputs with respect to ``inputs`` (a tuple, one per input) and leaves every ``.grad``
alone. With ``create_graph=True`` the backward pass is itself recorded as a graph of engine
ops, so the gradient it returns is a Tensor that can be differentiated again: that is how a
Hessian, or a Hessian-vector product, is computed.

>>> from deepviz.engine import Tensor, autograd
>>> x = Tensor(3.0, requires_grad=True)
>>> (dy,) = autograd.grad(x**3, x, create_graph=True)   # 3x² = 27
>>> (d2y,) = autograd.grad(dy, x)                       # 6x = 18
>>> dy.item(), d2y.item()
(27.0, 18.0)

How the backward pass is differentiated (the design). Each op's chain rule is written once,
its ``local()`` or ``backward()`` right under its ``forward``, and that one rule serves both
passes. The rule is given the point it is evaluated at, the op's inputs and output, as
arguments (``local(self, a, b, out)``), and only uses what numpy arrays and Tensors share:
arithmetic, ``@``, ``.sum``, ``.reshape``, ``.T``, and a handful of functions that take
either (``exp``, ``log``, ``cos``… in ``engine.function``). The backward pass
(``backprop.backpropagate``) hands it

- arrays, normally: the rule is numpy code, as fast as before (``Tensor.backward``, the
  LeNet server, the backprop page, first-order training); or
- Tensors, with ``create_graph=True``: the op's input and output Tensors and a Tensor
  upstream gradient, and the same lines now build graph nodes, whose own rules are
  written the same way, so a gradient can be differentiated any number of times.

The alternative, a second, differentiable rule beside each first-order one, would state
every derivative twice and let the two drift apart. What is not smooth in the inputs (a
ReLU's mask, the position of a max, a shape) is a constant of the rule, kept as an array
(``save_for_backward``), in both passes. Convolution and pooling are first-order only:
their fast backward reads arrays saved by forward (im2col's columns), and they say so
(``twice_differentiable = False``) rather than give a wrong second derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from deepviz.engine.backprop import backpropagate
from deepviz.engine.tensor import Tensor
from deepviz.engine.walk import postorder_from


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to each of ``inputs``, as torch.autograd.grad:
    Σ_k grad_outputs[k] · ∂outputs[k]/∂input, one Tensor per input (of the input's shape).

    ``grad_outputs`` (arrays or Tensors, one per output) may be left out for scalar outputs
    (ones). ``.grad`` is left untouched. ``create_graph``: the gradients carry a graph, to
    be differentiated again. ``retain_graph`` (default: ``create_graph``): keep the graph of
    ``outputs`` for another backward pass. An input the outputs do not depend on raises,
    unless ``allow_unused`` (its gradient is then None)."""
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    seeds = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(seeds) != len(outputs):
        raise ValueError(f"{len(outputs)} outputs but {len(seeds)} grad_outputs")
    for i, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(f"element {i} of outputs does not require grad and has no graph")
    for x in inputs:
        if not x.requires_grad:
            raise RuntimeError("one of the differentiated Tensors does not require grad")
    seeds = tuple(_seed(output, seed) for output, seed in zip(outputs, seeds))
    wanted = {id(x) for x in inputs}
    found: dict[int, object] = {}

    def receive(node: Tensor, gradient) -> None:
        if id(node) in wanted:
            found[id(node)] = gradient

    retain_graph = create_graph if retain_graph is None else retain_graph
    backpropagate(outputs, seeds, receive, retain_graph, create_graph, needed=_leading_to(outputs, wanted))
    result = []
    for x in inputs:
        gradient = found.get(id(x))
        if gradient is None and not allow_unused:
            raise RuntimeError(
                "one of the differentiated Tensors was not used to compute the outputs; "
                "pass allow_unused=True if that is expected"
            )
        result.append(gradient if gradient is None or isinstance(gradient, Tensor) else Tensor(gradient))
    return tuple(result)


def hessian(f: Callable[[Tensor], Tensor], x) -> Tensor:
    """The Hessian of a scalar function ``f`` at ``x``, as torch.autograd.functional.hessian:
    H[i…, j…] = ∂²f / ∂x[i…] ∂x[j…], of shape x.shape + x.shape."""
    x = _fresh(x)
    _, h = gradient_and_hessian(f(x), [x])
    return Tensor(h.reshape(x.shape + x.shape))


def hvp(f: Callable[[Tensor], Tensor], x, v) -> tuple[Tensor, Tensor]:
    """``(f(x), H v)``, as torch.autograd.functional.hvp: the Hessian of the scalar ``f`` at
    ``x`` times ``v`` (of x's shape), computed without forming H: the gradient of ⟨∇f, v⟩.
    Two backward passes, whatever the size of x."""
    x = _fresh(x)
    y = f(x)
    (g,) = grad(y, x, create_graph=True)
    v = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=x.dtype)
    if not g.requires_grad:  # the gradient is a constant (f is linear): H = 0
        return Tensor(y.data), Tensor(np.zeros_like(x.data))
    (hv,) = grad((g * v).sum(), x, allow_unused=True)
    return Tensor(y.data), hv if hv is not None else Tensor(np.zeros_like(x.data))


def gradient_and_hessian(output: Tensor, inputs: Sequence[Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """The gradient g (n,) and the Hessian H (n, n) of the scalar ``output`` with respect to
    all of ``inputs`` taken as one vector θ of n numbers (each input flattened, in order).
    Row i of H is the gradient of g[i]: one backward pass per row."""
    gradients = grad(output, inputs, create_graph=True, allow_unused=True)
    flat = [g.reshape(-1) if g is not None else None for g in gradients]
    sizes = [x.data.size for x in inputs]
    g = np.concatenate([f.data if f is not None else np.zeros(n) for f, n in zip(flat, sizes)])  # (n,)
    rows = []
    for f, n in zip(flat, sizes):
        for i in range(n):
            if f is None or not f.requires_grad:  # this gradient is a constant: its row is zero
                rows.append(np.zeros(g.size))
                continue
            row = grad(f[i], inputs, retain_graph=True, allow_unused=True)
            rows.append(np.concatenate([r.data.ravel() if r is not None else np.zeros(m) for r, m in zip(row, sizes)]))
    return g, np.stack(rows)  # (n,), (n, n)


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, list | tuple) else (x,)


def _seed(output: Tensor, seed):
    if seed is not None:
        return seed
    if output.data.size != 1:
        raise RuntimeError(f"grad of an output of shape {output.shape} needs its grad_outputs")
    return np.ones_like(output.data)


def _fresh(x) -> Tensor:
    """A new leaf with the value of ``x``, so that its graph starts here."""
    data = np.array(x.data if isinstance(x, Tensor) else x)
    return Tensor(data if np.issubdtype(data.dtype, np.floating) else data.astype(float), requires_grad=True)


def _leading_to(outputs: Sequence[Tensor], wanted: set[int]) -> set[int]:
    """The ids of the nodes from which some wanted input can be reached: the only ones the
    backward pass needs to visit."""
    leading: set[int] = set()
    for node in postorder_from(outputs, lambda t: (p for p in t.parents if p.requires_grad)):
        if id(node) in wanted or any(id(p) in leading for p in node.parents):
            leading.add(id(node))
    return leading
