"""Layers and optimizers against torch.nn and torch.optim with the same weights."""

import numpy as np
import torch

from deepviz.engine import Tensor, nn, optim
from deepviz.engine import functional as F


def test_layers_match_torch_with_the_same_weights():
    rng = np.random.default_rng(0)
    ours = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, rng=rng, dtype=np.float64), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(3, 4, 3, rng=rng, dtype=np.float64), nn.Tanh(), nn.AvgPool2d(2),
                         nn.Flatten(), nn.Linear(4, 5, rng=rng, dtype=np.float64))  # fmt: skip
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Conv2d(3, 4, 3), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(4, 5)).double()  # fmt: skip
    state = ours.state_dict()
    assert list(state) == ["layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias",
                           "layers.7.weight", "layers.7.bias"]  # fmt: skip
    theirs.load_state_dict({k.removeprefix("layers."): torch.tensor(v) for k, v in state.items()})
    x = rng.standard_normal((2, 1, 8, 8))
    out = ours(Tensor(x))
    expected = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10)
    F.cross_entropy(out, [1, 3]).backward()
    torch.nn.functional.cross_entropy(expected, torch.tensor([1, 3])).backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9, err_msg=name)


def test_optimizers_follow_torch():
    for make_ours, make_theirs in [
        (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3)),
        (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    ]:  # fmt: skip
        w0 = np.array([1.5, -2.0, 0.3])
        w = Tensor(w0.copy(), requires_grad=True)
        tw = torch.tensor(w0.copy(), requires_grad=True)
        ours, theirs = make_ours([w]), make_theirs([tw])
        for _ in range(5):
            ours.zero_grad()
            theirs.zero_grad()
            ((w * w).sum() + w.sin().sum()).backward()
            ((tw * tw).sum() + tw.sin().sum()).backward()
            ours.step()
            theirs.step()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-10)


def test_load_state_dict_checks_names_and_shapes():
    import pytest

    model = nn.Linear(2, 3)
    with pytest.raises(KeyError):
        model.load_state_dict({"weight": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="shape"):
        model.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.zeros(3)})
