"""The frozen LeNet-5 (lessons/frozen_lenet.py), the served model's inference path: the same
activations and saliency as the engine's graph and backward pass, and as torch's autograd,
for random weights and digits; the same predictions and accuracy on the 10,000 test digits;
and ``lenet.infer`` gives the same numbers on either path."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

from deepviz.engine import Tensor
from deepviz.lessons import lenet
from deepviz.lessons.frozen_lenet import FrozenLeNet, max_pool, max_pool_relu_backward
from deepviz.lessons.mnist import load
from deepviz.lessons.train import predictions
from tests.engine.oracle import torch_lenet


@pytest.fixture(scope="module")
def served():
    return lenet.load_pretrained()


@pytest.fixture(scope="module")
def digits():
    return load().test


def graph_saliency(model: lenet.LeNet5, x: np.ndarray, targets: np.ndarray):
    """Activations and ∂ logit[target] / ∂ x by the engine's graph and backward pass."""
    image = Tensor(x, requires_grad=True)
    acts = model.activations(image)
    acts["fc3"][np.arange(len(targets)), targets].sum().backward()
    return {k: v.data for k, v in acts.items()}, image.grad[:, 0]


def torch_saliency(model: lenet.LeNet5, x: np.ndarray, targets: np.ndarray):
    """Logits and the input gradient of the same scores, by torch's autograd."""
    tx = torch.tensor(x, requires_grad=True)
    logits = torch_lenet(model)[0](tx)
    logits[torch.arange(len(targets)), torch.tensor(targets)].sum().backward()
    return logits.detach().numpy(), tx.grad[:, 0].numpy()


def pick(digits, seed: int, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """n test digits chosen by ``seed``, with some noise added, and a target class for each."""
    rng = np.random.default_rng(seed)
    x = digits.images[rng.choice(len(digits), n, replace=False)]
    x = np.clip(x + noise * rng.standard_normal(x.shape), 0, 1).astype(np.float32)
    return x, rng.integers(0, 10, n)


@given(weights=st.integers(0, 2**16), seed=st.integers(0, 2**16), n=st.integers(1, 20), noise=st.sampled_from([0, 0.3]))
def test_same_activations_and_saliency_as_the_engines_backward_pass(digits, weights, seed, n, noise):
    model = lenet.LeNet5(seed=weights)  # random weights: not only the shipped ones
    x, targets = pick(digits, seed, n, noise)
    ours = FrozenLeNet(model)
    acts = ours.activations(x)
    expected, saliency = graph_saliency(model, x, targets)
    assert list(acts) == list(expected)
    for name in expected:
        np.testing.assert_allclose(acts[name], expected[name], rtol=1e-5, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(ours.saliency(acts, targets), saliency, rtol=1e-4, atol=1e-6)


@given(weights=st.integers(0, 2**16), seed=st.integers(0, 2**16), n=st.integers(1, 20), noise=st.sampled_from([0, 0.3]))
def test_same_logits_and_saliency_as_torch_autograd(digits, weights, seed, n, noise):
    model = lenet.LeNet5(seed=weights)
    x, targets = pick(digits, seed, n, noise)
    ours = FrozenLeNet(model)
    acts = ours.activations(x)
    logits, saliency = torch_saliency(model, x, targets)
    np.testing.assert_allclose(acts["fc3"], logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.saliency(acts, targets), saliency, rtol=1e-4, atol=1e-6)


@given(levels=st.lists(st.integers(-2, 3), min_size=4 * 3 * 6 * 8, max_size=4 * 3 * 6 * 8), seed=st.integers(0, 99))
def test_pooling_routes_ties_to_the_first_maximum_as_torch(levels, seed):
    # small integers: many windows with tied maxima, positive and 0 (clipped by the ReLU)
    z = np.array(levels, dtype=np.float32).reshape(4, 3, 6, 8)
    dp = np.random.default_rng(seed).standard_normal((4, 3, 3, 4)).astype(np.float32)
    a = np.maximum(z, 0)
    p = max_pool(a)
    tz = torch.tensor(z, requires_grad=True)
    tp = TF.max_pool2d(TF.relu(tz), 2)
    tp.backward(torch.tensor(dp))
    np.testing.assert_array_equal(p, tp.detach().numpy())
    np.testing.assert_array_equal(max_pool_relu_backward(dp, a, p), tz.grad.numpy())


def test_infer_gives_the_same_numbers_on_the_frozen_path_as_on_the_graph(served, digits):
    assert served.frozen is not None  # load_pretrained's model takes the frozen path
    graph = lenet.LeNet5()
    graph.load_state_dict(served.state_dict())
    assert graph.frozen is None  # this one takes the engine's graph and backward pass
    x, targets = digits.images[:32, 0], np.r_[np.arange(16) % 10, -np.ones(16, dtype=int)]
    new, old = lenet.infer(served, x, targets), lenet.infer(graph, x, targets)
    np.testing.assert_array_equal(new.targets, old.targets)
    np.testing.assert_allclose(new.logits, old.logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new.probabilities, old.probabilities, rtol=1e-5, atol=1e-7)
    assert list(new.activations) == list(old.activations)
    for name, value in old.activations.items():
        assert new.activations[name].shape == value.shape and new.activations[name].dtype == np.float32
        np.testing.assert_allclose(new.activations[name], value, rtol=1e-5, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(new.saliency, old.saliency, rtol=1e-4, atol=1e-6)
    assert new.saliency.shape == (32, 28, 28) and new.saliency.dtype == np.float32


def test_the_frozen_path_scores_the_shipped_accuracy_on_the_10000_test_digits(served, digits):
    ours = np.concatenate([served.frozen.activations(digits.images[i : i + 1000])["fc3"].argmax(axis=1)
                           for i in range(0, len(digits), 1000)])  # fmt: skip
    assert np.mean(ours == digits.labels) >= 0.992  # the manifest's 99.21%
    assert np.mean(ours == predictions(served, digits.images)) > 0.9995  # the graph's predictions, but for near-ties
