"""What the course's figures compute, with deepviz's engine: the expression language of the
backprop lab (``expr``), the convolution lab (``convlab``, ``kernels``), and LeNet-5
(``lenet``: the model, its shipped weights and gallery of mistakes; ``train``; ``mnist``).
numpy and the engine only: no web framework, so that a notebook can use every lesson."""
