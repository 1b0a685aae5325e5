"""deepviz's engine: a small, readable, PyTorch-like autodiff and CNN library on numpy.
Its names are PyTorch's, so that what a student learns here carries over:

    from deepviz.engine import Tensor, no_grad, nn, optim, functional as F, arithmetic
    from deepviz.engine import autograd, data   # grad, hessian, hvp; minibatches

>>> from deepviz.engine import Tensor
>>> x = Tensor([-2.0], requires_grad=True); y = Tensor([5.0], requires_grad=True)
>>> z = Tensor([-4.0], requires_grad=True)
>>> f = ((x + y) * z).sum(); f.backward()
>>> x.grad, y.grad, z.grad
(array([-4.]), array([-4.]), array([3.]))
"""

from deepviz.engine import arithmetic, autograd, data, functional, nn, optim
from deepviz.engine.tensor import Tensor, no_grad

__all__ = ["Tensor", "arithmetic", "autograd", "data", "functional", "nn", "no_grad", "optim"]
