"""deepviz: the interactive companion to a deep-learning course.

- ``deepviz.engine``: a small, readable, PyTorch-like autodiff and CNN library on numpy alone
  (tensors, ops, layers, optimizers, convolution arithmetic). It knows nothing of the rest.
- ``deepviz.lessons``: what the course's figures compute with the engine: the expression
  language of the backprop lab, the convolution lab, LeNet-5 (its weights, training, MNIST).
- ``deepviz.app``: the web app (FastAPI) that serves the lessons to the pages.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("deepviz")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
