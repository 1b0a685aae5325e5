"""One helper compares an engine computation with torch.autograd, forward and gradient,
so that each op's test is one line (after tinygrad's ``helper_test_op``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from deepviz.engine import Tensor


def check(
    engine_fn: Callable,
    torch_fn: Callable,
    inputs: Sequence[np.ndarray],
    grad_inputs: Sequence[bool] | None = None,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    seed: int = 0,
) -> None:
    """Run ``engine_fn`` on engine tensors and ``torch_fn`` on torch tensors made from the
    same float64 ``inputs``; assert equal outputs, then backpropagate the same random
    upstream gradient through both and assert equal gradients for every input."""
    grad_inputs = grad_inputs or [True] * len(inputs)
    ours = [Tensor(np.array(a, dtype=np.float64), requires_grad=g) for a, g in zip(inputs, grad_inputs)]
    theirs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=g) for a, g in zip(inputs, grad_inputs)]
    out, expected = engine_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=atol, rtol=rtol, err_msg="forward")
    assert out.shape == tuple(expected.shape), f"shape {out.shape} != torch's {tuple(expected.shape)}"
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    (out * Tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad, b.grad.numpy(), atol=atol, rtol=rtol, err_msg=f"gradient of input {i}")


def torch_lenet(model, trainable: bool = False):
    """LeNet-5 in torch with the engine model's weights: ``(forward, parameters)``. The
    parameters require gradients only when ``trainable`` (the served model is frozen)."""
    import torch.nn.functional as TF

    state = {k: torch.tensor(v) for k, v in model.state_dict().items()}
    params = [t.requires_grad_(trainable) for t in state.values()]

    def forward(x):
        x = (x - model.config.mean) / model.config.std
        x = TF.max_pool2d(TF.relu(TF.conv2d(x, state["conv1.weight"], state["conv1.bias"], padding=2)), 2)
        x = TF.max_pool2d(TF.relu(TF.conv2d(x, state["conv2.weight"], state["conv2.bias"])), 2)
        x = TF.relu(TF.linear(x.flatten(1), state["fc1.weight"], state["fc1.bias"]))
        x = TF.relu(TF.linear(x, state["fc2.weight"], state["fc2.bias"]))
        return TF.linear(x, state["fc3.weight"], state["fc3.bias"])

    return forward, params
