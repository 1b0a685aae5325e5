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

The backward pass itself is ``engine.backprop``; ``no_grad`` is in ``engine.grad_mode``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepviz.engine import array_ops, ops
from deepviz.engine.backprop import StepHook, backpropagate, store_grad
from deepviz.engine.function import Array, Function
from deepviz.engine.grad_mode import _mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["StepHook", "Tensor", "backpropagate", "is_grad_enabled", "no_grad", "set_grad_enabled"]


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
        fn = fn_class(tuple([t.requires_grad for t in tensors]), params)
        data = fn.forward(*[t.data for t in tensors], **params)
        # The result, without Tensor()'s checks (the op made an array of the right dtype): this
        # is the one allocation in Python that applying an op costs.
        out = _new_tensor(Tensor)
        out.data = data if type(data) is np.ndarray else np.array(data)  # a 0-d op gives a numpy scalar
        out.grad, out.label = None, ""
        if _mode.enabled:
            out.requires_grad, out._fn, out._parents = True in fn.needs_grad, fn, tensors
        else:
            out.requires_grad, out._fn, out._parents = False, None, ()
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
        backpropagate([self], [gradient], store_grad, retain_graph, create_graph, on_step)

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


def _axis(axis):
    return tuple(axis) if isinstance(axis, list | tuple) else axis


_new_tensor = object.__new__


def _constant(value, like: Array | None) -> Tensor:
    """A number or array that takes part in an op: a constant of the other operand's dtype,
    so that ``2 * x`` stays float32 when ``x`` is float32."""
    dtype = like.dtype if like is not None and np.issubdtype(like.dtype, np.floating) else float
    return Tensor(np.asarray(value, dtype=dtype))
