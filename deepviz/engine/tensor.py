"""``Tensor``: a numpy array that remembers how it was made, and reverse-mode autodiff.

Every operation on tensors builds a graph: each result keeps the ``Function`` that made
it and its inputs (its parents). ``backward()`` walks that graph from the output back to
the inputs, in reverse topological order, applying the chain rule at each node.

Semantics of ``backward`` (as in PyTorch):

- it starts from a scalar (or from an explicit ``gradient`` of the output's shape);
- a value used twice (fan-out) receives the sum of the gradients from both uses;
- leaves (tensors made by the user, ``requires_grad=True``) *accumulate* into ``.grad``
  across calls, so that gradients of several losses can be summed; reset them with
  ``t.grad = None`` (or ``Module.zero_grad()``) between optimisation steps;
- intermediate tensors get this pass's gradient in ``.grad`` (PyTorch needs
  ``retain_grad()`` for that; deepviz keeps it because showing it is the point);
- a graph is freed by the backward pass through it: a second ``backward()`` over the same
  graph raises, rather than silently counting every gradient twice, unless the first
  call passed ``retain_graph=True``;
- with ``create_graph=True`` the backward pass is itself recorded: ``.grad`` then holds
  Tensors, which can be differentiated again (``engine.autograd`` says how, and gives
  ``grad``, ``hessian`` and ``hvp``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from deepviz.engine import array_ops, ops
from deepviz.engine.function import Array, Function, unbroadcast
from deepviz.engine.walk import postorder_from


# Whether ops record the graph. Per thread, as in torch: a server computes requests in
# several threads, and one request's no_grad() must not switch off another's gradients.
class _GradMode(threading.local):
    enabled = True  # every thread starts recording (an attribute lookup: getattr with a default cost 0.6 µs an op)


_mode = _GradMode()


def is_grad_enabled() -> bool:
    return _mode.enabled


@contextlib.contextmanager
def set_grad_enabled(enabled: bool) -> Iterator[None]:
    """Record the graph (True) or not (False) inside the block, as ``torch.set_grad_enabled``."""
    previous, _mode.enabled = is_grad_enabled(), enabled
    try:
        yield
    finally:
        _mode.enabled = previous


def no_grad():
    """Compute without recording a graph (inference): less memory, less time."""
    return set_grad_enabled(False)


# on_step(node, upstream, [(parent, downstream or None), ...]) is called once per node
# during backward: the trace hooks in here (and nowhere else in the backward pass).
StepHook = Callable[["Tensor", Array, list], None]


class Tensor:
    """An n-dimensional array with a gradient. ``data`` is a numpy array; ``grad`` is
    None until a backward pass reaches this tensor."""

    __slots__ = ("data", "grad", "requires_grad", "label", "_fn", "_parents")
    __array_ufunc__ = None  # `array * tensor` defers to Tensor.__rmul__ instead of looping

    def __init__(self, data, requires_grad: bool = False, label: str = ""):
        # numpy values keep their dtype (float32 stays float32); Python numbers become float64
        numpy_value = isinstance(data, np.ndarray | np.generic)
        self.data: Array = np.asarray(data) if numpy_value else np.asarray(data, dtype=float)
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            # as torch refuses: an integer has no gradient, and it would silently stay zero
            raise TypeError(f"only floating-point tensors can require gradients, not {self.data.dtype}")
        self.grad: Array | None = None
        self.requires_grad = requires_grad
        self.label = label
        self._fn: Function | None = None  # the operation that made this tensor (None: a leaf)
        self._parents: tuple[Tensor, ...] = ()

    # ---------------------------------------------------------------- applying an op

    @staticmethod
    def apply(fn_class: type[Function], *inputs, **params) -> Tensor:
        """Run ``fn_class`` forward on ``inputs`` and, unless in ``no_grad``, remember how
        the result was made. Numbers among the inputs become constant tensors."""
        tensors = inputs
        for x in inputs:  # (a loop, not all(…): a generator costs more than most ops on a number)
            if not isinstance(x, Tensor):
                like = next((x.data for x in inputs if isinstance(x, Tensor)), None)
                tensors = tuple(x if isinstance(x, Tensor) else _constant(x, like) for x in inputs)
                break
        needs_grad = tuple([t.requires_grad for t in tensors])
        fn = fn_class(needs_grad)
        fn.params = params
        out = _result(fn.forward(*[t.data for t in tensors], **params))
        if _mode.enabled:
            out.requires_grad = True in needs_grad
            out._fn, out._parents = fn, tensors
        return out

    # ---------------------------------------------------------------- autodiff

    def backward(
        self,
        gradient: Array | None = None,
        retain_graph: bool | None = None,
        on_step: StepHook | None = None,
        create_graph: bool = False,
    ) -> None:
        """Compute the gradient of this tensor with respect to every tensor it was made
        from (see the module's docstring for accumulation and freeing). With
        ``create_graph`` the gradients are Tensors, with a graph of their own (see
        ``engine.autograd``); ``retain_graph`` defaults to ``create_graph``, as in torch."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() needs a scalar, or a gradient of shape {self.shape}")
            gradient = np.ones_like(self.data)
        retain_graph = create_graph if retain_graph is None else retain_graph
        backpropagate([self], [gradient], _store_grad, retain_graph, create_graph, on_step)

    # ---------------------------------------------------------------- array-like

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def op(self) -> str:
        """The name of the operation that made this tensor ("" for a leaf)."""
        return self._fn.name if self._fn else ""

    @property
    def parents(self) -> tuple[Tensor, ...]:
        return self._parents

    @property
    def fn(self) -> Function | None:
        return self._fn

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> Array:
        return self.data

    def detach(self) -> Tensor:
        return Tensor(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4)}{grad})"

    # ---------------------------------------------------------------- operators

    def __add__(self, other):
        return Tensor.apply(ops.Add, self, other)

    def __radd__(self, other):
        return Tensor.apply(ops.Add, other, self)

    def __sub__(self, other):
        return Tensor.apply(ops.Sub, self, other)

    def __rsub__(self, other):
        return Tensor.apply(ops.Sub, other, self)

    def __mul__(self, other):
        return Tensor.apply(ops.Mul, self, other)

    def __rmul__(self, other):
        return Tensor.apply(ops.Mul, other, self)

    def __truediv__(self, other):
        return Tensor.apply(ops.Div, self, other)

    def __rtruediv__(self, other):
        return Tensor.apply(ops.Div, other, self)

    def __pow__(self, other):
        return Tensor.apply(ops.Pow, self, other)

    def __rpow__(self, other):
        return Tensor.apply(ops.Pow, other, self)

    def __matmul__(self, other):
        return Tensor.apply(array_ops.MatMul, self, other)

    def __rmatmul__(self, other):
        return Tensor.apply(array_ops.MatMul, other, self)

    def __neg__(self):
        return Tensor.apply(ops.Neg, self)

    def __getitem__(self, index):
        return Tensor.apply(array_ops.GetItem, self, index=index)

    # ---------------------------------------------------------------- functions

    def exp(self):
        return Tensor.apply(ops.Exp, self)

    def log(self):
        return Tensor.apply(ops.Log, self)

    def tanh(self):
        return Tensor.apply(ops.Tanh, self)

    def sigmoid(self):
        return Tensor.apply(ops.Sigmoid, self)

    def relu(self):
        return Tensor.apply(ops.ReLU, self)

    def sin(self):
        return Tensor.apply(ops.Sin, self)

    def cos(self):
        return Tensor.apply(ops.Cos, self)

    def sqrt(self):
        return Tensor.apply(ops.Sqrt, self)

    def abs(self):
        return Tensor.apply(ops.Abs, self)

    def maximum(self, other):
        return Tensor.apply(ops.Maximum, self, other)

    def minimum(self, other):
        return Tensor.apply(ops.Minimum, self, other)

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False):
        return Tensor.apply(array_ops.Sum, self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False):
        axes = range(self.ndim) if axis is None else np.atleast_1d(axis)
        count = int(np.prod([self.shape[a] for a in axes]))  # how many values each mean takes
        return self.sum(axis, keepdims) / count

    def broadcast_to(self, shape: tuple[int, ...]):
        return Tensor.apply(array_ops.BroadcastTo, self, shape=tuple(shape))

    def softmax(self, dim: int = -1):
        return Tensor.apply(array_ops.Softmax, self, axis=dim)

    def log_softmax(self, dim: int = -1):
        return Tensor.apply(array_ops.LogSoftmax, self, axis=dim)

    def max(self, axis: int | None = None, keepdims: bool = False):
        return Tensor.apply(array_ops.Max, self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        return Tensor.apply(array_ops.Reshape, self, shape=tuple(shape))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], tuple | list) else axes
        return Tensor.apply(array_ops.Transpose, self, axes=tuple(axes) if axes else None)

    @property
    def T(self):
        return self.transpose()

    def flatten(self, start_dim: int = 0):
        return self.reshape(*self.shape[:start_dim], -1)


# --------------------------------------------------------------------------- the backward pass


def backpropagate(
    outputs: Sequence[Tensor],
    gradients: Sequence,
    receive: Callable[[Tensor, object], None],
    retain_graph: bool = False,
    create_graph: bool = False,
    on_step: StepHook | None = None,
    needed: set[int] | None = None,
) -> None:
    """The backward pass, the one walk of the engine: from ``outputs`` (each seeded with its
    ``gradients``) back to the leaves, in reverse topological order, so that a node's gradient
    is complete (summed over all its uses) when its turn comes. ``receive(node, gradient)``
    gets it (``Tensor.backward`` stores it in ``.grad``; ``autograd.grad`` keeps the inputs'),
    then the node's op turns it into its inputs' gradients. ``needed``: the ids of the only
    nodes to visit (the others lead to no wanted input).

    Without ``create_graph`` every gradient is a numpy array and each rule computes with
    numpy. With it, each rule is given its op's input and output Tensors and a Tensor
    gradient, and records what it computes: the gradients are Tensors that can be
    differentiated again (see ``engine.function``)."""
    grads: dict[int, object] = {}
    for output, gradient in zip(outputs, gradients, strict=True):
        gradient = _seed(gradient, output, create_graph)
        key = id(output)
        grads[key] = gradient if key not in grads else grads[key] + gradient
    order = reversed(postorder_from(outputs, lambda t: [p for p in t._parents if p.requires_grad]))
    with set_grad_enabled(True) if create_graph else contextlib.nullcontext():  # record the rules' ops, or not
        for node in order if needed is None else [n for n in order if id(n) in needed]:
            upstream = grads.pop(id(node), None)
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
                downstreams = fn.backward(upstream, *[p.data for p in parents], node.data)
            elif fn.twice_differentiable:  # the same rule on Tensors: recorded
                downstreams = fn.backward(upstream, *parents, node)
            else:
                raise NotImplementedError(f"'{fn.name}' has a first-order backward only: no create_graph")
            steps = []
            for parent, down in zip(parents, downstreams, strict=True):
                if down is None or not parent.requires_grad:
                    steps.append((parent, None))
                    continue
                if not create_graph:  # (on Tensors, a rule's result is a Tensor: it multiplies upstream)
                    down = np.asarray(down, dtype=parent.data.dtype)
                shape = parent.data.shape
                if down.shape != shape:  # the input was broadcast in forward: sum over its copies
                    down = unbroadcast(down, shape)
                    if down.shape != shape:
                        raise RuntimeError(
                            f"'{fn.name}' gave a gradient of shape {down.shape} for an input of shape {shape}"
                        )
                steps.append((parent, down))
                key = id(parent)
                grads[key] = down if key not in grads else grads[key] + down
            if on_step:
                on_step(node, upstream, steps)
            if not retain_graph:
                fn.release()


def _seed(gradient, like: Tensor, create_graph: bool):
    """The gradient that starts a backward pass at ``like``: an array of its dtype, or with
    ``create_graph`` a Tensor (one the caller made may itself require grad)."""
    if create_graph:
        return gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient, dtype=like.data.dtype))
    return np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=like.data.dtype)


def _store_grad(node: Tensor, gradient) -> None:
    """Tensor.backward's rule: a leaf accumulates into ``.grad`` (across calls); any other
    tensor gets this pass's gradient."""
    if node._fn is None and node.grad is not None:
        node.grad = node.grad + gradient
    else:
        node.grad = gradient


def _axis(axis):
    return tuple(axis) if isinstance(axis, list | tuple) else axis


def _result(data) -> Tensor:
    """An op's result as a Tensor, without ``Tensor()``'s checks (the op made an array of the
    right dtype; a reduction to one number may have made a numpy scalar): ``apply`` makes one
    a node, and this is its one allocation in Python."""
    out = Tensor.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad, out.requires_grad, out.label, out._fn, out._parents = None, False, "", None, ()
    return out


def _constant(value, like: Array | None) -> Tensor:
    """A number or array that takes part in an op: a constant of the other operand's dtype,
    so that ``2 * x`` stays float32 when ``x`` is float32."""
    dtype = like.dtype if like is not None and np.issubdtype(like.dtype, np.floating) else float
    return Tensor(np.asarray(value, dtype=dtype))
