"""The shipped LeNet-5: its accuracy on the whole MNIST test set, agreement with a torch
LeNet-5 holding the same weights, and saliency against torch's input gradient."""

import numpy as np
import pytest
import torch

from deepviz.engine import Tensor
from deepviz.lessons import lenet
from deepviz.lessons.mnist import load
from deepviz.lessons.train import accuracy, shifted
from tests.engine.oracle import torch_lenet


@pytest.fixture(scope="module")
def model():
    return lenet.load_pretrained()


@pytest.fixture(scope="module")
def mnist():
    return load()


def test_the_shipped_weights_reach_99_percent_on_the_mnist_test_set(model, mnist):
    assert len(mnist.test) == 10_000
    assert accuracy(model, mnist.test) >= 0.99


def test_the_manifest_says_how_the_weights_were_made():
    m = lenet.manifest()
    assert m["test_accuracy"] >= 0.99 and m["config"]["seed"] == 0 and len(m["epochs"]) == m["config"]["epochs"]
    assert m["seconds"] > 0 and "engine" in m["trained_by"]


def test_the_engine_and_torch_agree_on_the_logits(model, mnist):
    x = mnist.test.images[:256]
    ours = model(Tensor(x)).data
    theirs = torch_lenet(model)[0](torch.tensor(x)).numpy()
    assert np.max(np.abs(ours - theirs)) < 1e-4


def test_saliency_is_torchs_input_gradient(model, mnist):
    x = mnist.test.images[:4]
    result = lenet.infer(model, x[:, 0], targets=np.array([3, -1, 0, 9]))
    tx = torch.tensor(x, requires_grad=True)
    logits = torch_lenet(model)[0](tx)
    targets = torch.tensor(result.targets)
    logits[torch.arange(4), targets].sum().backward()
    assert result.targets[1] == logits[1].argmax()  # -1: the prediction
    np.testing.assert_allclose(result.saliency, tx.grad[:, 0].numpy(), atol=1e-4)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1, rtol=1e-5)
    assert result.activations["conv1"].shape == (4, 6, 28, 28) and result.activations["pool2"].shape == (4, 16, 5, 5)


def test_shift_augmentation_moves_whole_images(mnist):
    x = mnist.train.images[:16]
    moved = shifted(x, np.random.default_rng(0), 1)
    assert moved.shape == x.shape
    offsets = []
    for before, after in zip(x[:, 0], moved[:, 0]):
        # each image is its original translated by whole pixels, the border filled with zeros
        padded = np.pad(before, 1)
        found = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                 if np.array_equal(after, padded[1 - dy : 29 - dy, 1 - dx : 29 - dx])]  # fmt: skip
        assert found, "not a translation by at most one pixel"
        offsets.append(found[0])
    assert len(set(offsets)) > 3  # moved, and in several directions: not the identity


def test_the_mistakes_gallery_is_really_wrong(model):
    found = lenet.mistakes()
    assert len(found["index"]) > 0
    logits = model(Tensor(found["images"][:, None].astype(np.float32) / 255)).data
    assert np.mean(logits.argmax(axis=1) == found["predictions"]) > 0.9  # (bytes round the pixels)
    assert np.all(found["predictions"] != found["labels"])
