"""Two helpers compare an engine computation with torch.autograd, so that each op's test is
one line (after tinygrad's ``helper_test_op``): ``check`` the forward value and gradient,
``check_second_order`` also the gradient of that gradient (create_graph=True)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from deepviz.engine import Tensor, autograd


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


def check_second_order(
    engine_fn: Callable,
    torch_fn: Callable,
    inputs: Sequence[np.ndarray],
    atol: float = 1e-8,
    rtol: float = 1e-6,
    seed: int = 0,
) -> None:
    """As ``check``, through ``autograd.grad`` and ``torch.autograd.grad``: the value, the
    gradients g = ∂⟨out, u⟩/∂inputs under a random upstream u (with create_graph=True),
    then the gradients of ⟨g, v⟩ for random directions v: Hessian-vector products, which
    exercise every second derivative of the op. A gradient with no graph (a constant, as
    for x + y) has a zero second derivative, on either side."""
    ours = [Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in inputs]
    theirs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in inputs]
    out, expected = engine_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=atol, rtol=rtol, err_msg="forward")
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(out.shape)
    g_ours = autograd.grad(out, ours, grad_outputs=u, create_graph=True, allow_unused=True)
    g_theirs = torch.autograd.grad(expected, theirs, grad_outputs=torch.tensor(u), create_graph=True, allow_unused=True)
    for i, (a, b) in enumerate(zip(g_ours, g_theirs)):
        a = np.zeros(inputs[i].shape) if a is None else a.data
        b = np.zeros(inputs[i].shape) if b is None else b.detach().numpy()
        np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=f"gradient of input {i}")
    directions = [rng.standard_normal(np.shape(a)) for a in inputs]
    second_ours = _gradient_of_dot(g_ours, directions, ours, lambda g, v: (g * Tensor(v)).sum(), autograd.grad)
    second_theirs = _gradient_of_dot(g_theirs, directions, theirs, lambda g, v: (g * torch.tensor(v)).sum(),
                                     torch.autograd.grad)  # fmt: skip
    for i, (a, b) in enumerate(zip(second_ours, second_theirs)):
        np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=f"second derivative, input {i}")


def _gradient_of_dot(gradients, directions, inputs, dot, grad) -> list[np.ndarray]:
    """∂⟨gradients, directions⟩/∂inputs as arrays (zeros where nothing depends on an input)."""
    terms = [dot(g, v) for g, v in zip(gradients, directions) if g is not None and g.requires_grad]
    zeros = [np.zeros(tuple(x.shape)) for x in inputs]
    if not terms:
        return zeros
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    found = grad(total, inputs, allow_unused=True)
    return [
        z if f is None else (f.data if isinstance(f, Tensor) else f.detach().numpy(force=True))
        for f, z in zip(found, zeros)
    ]


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
