"""Adversarial examples (lessons/adversarial.py): the input gradient and an FGSM step against
torch's, the iterated attack's box and clipping for any ε and number of steps, the smallest
flipping ε, and the adversarial training batch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

from deepviz.lessons import adversarial, lenet
from deepviz.lessons.mnist import load
from deepviz.lessons.train import accuracy, with_adversarial
from tests.engine.oracle import torch_lenet


@pytest.fixture(scope="module")
def model():
    return lenet.load_pretrained()


@pytest.fixture(scope="module")
def mnist():
    return load()


def torch_loss_gradient(model, images, labels) -> torch.Tensor:
    x = torch.tensor(images, requires_grad=True)
    TF.cross_entropy(torch_lenet(model)[0](x), torch.tensor(labels), reduction="sum").backward()
    return x.grad


def test_the_loss_gradient_is_torchs_input_gradient(model, mnist):
    x, y = mnist.test.images[:64], mnist.test.labels[:64]
    # labels the model does not read (a targeted attack's): every image has a large loss
    wrong = (y + 3) % 10
    ours, theirs = adversarial.loss_gradient(model, x, wrong), torch_loss_gradient(model, x, wrong).numpy()
    assert ours.shape == (64, 1, 28, 28)
    scale = np.abs(theirs).max(axis=(1, 2, 3), keepdims=True)
    assert np.all(np.abs(ours - theirs) <= 1e-5 * scale)
    # the true labels: an image read with p ≈ 1 has a gradient ∝ 1 - p, lost in float32's
    # rounding on both sides, so these compare at the scale of the batch's largest gradient
    ours, theirs = adversarial.loss_gradient(model, x, y), torch_loss_gradient(model, x, y).numpy()
    assert np.abs(ours - theirs).max() <= 1e-5 * np.abs(theirs).max()


@pytest.mark.parametrize("targeted", [False, True])
def test_one_fgsm_step_is_torchs(model, mnist, targeted):
    # digits the model misreads (untargeted, away from their true label) or any digits
    # towards a 3: a large loss, so that float32's rounding leaves the gradient's signs alone
    gallery = lenet.mistakes()
    x = mnist.test.images[:8] if targeted else gallery["images"][:8, None].astype(np.float32) / 255
    labels = np.array([3] * 8) if targeted else gallery["labels"][:8]
    eps = 0.1
    ours = adversarial.fgsm(model, x, labels, eps, targeted=targeted)
    g = torch_loss_gradient(model, x, labels).numpy()
    theirs = np.clip(x + (-1 if targeted else 1) * eps * np.sign(g), 0, 1)
    # a pixel whose gradient is within float32 noise of 0 may still take either sign
    sure = np.abs(g) > 1e-4 * np.abs(g).max(axis=(1, 2, 3), keepdims=True)
    assert sure.mean() > 0.8  # (the rest: mostly corner pixels, of tiny gradients)
    np.testing.assert_allclose(ours[sure], theirs[sure], atol=1e-6)
    assert not np.array_equal(ours, x)


def test_the_frozen_model_gets_no_gradient_and_is_thawed_after(mnist):
    model = lenet.LeNet5(seed=1)
    with adversarial.frozen(model):
        g = adversarial.loss_gradient(model, mnist.test.images[:2], mnist.test.labels[:2])
        assert all(not p.requires_grad for p in model.parameters())
    assert np.abs(g).sum() > 0
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


@settings(max_examples=12, deadline=None)
@given(
    eps=st.floats(0, 1),
    steps=st.integers(1, 6),
    target=st.none() | st.integers(0, 9),
    index=st.integers(0, 9999),
)
def test_the_attack_stays_in_the_box_and_in_0_1(model, mnist, eps, steps, target, index):
    x = mnist.test.images[index : index + 1]
    labels = mnist.test.labels[index : index + 1] if target is None else np.array([target])
    found = adversarial.attack(model, x, labels, eps, steps, targeted=target is not None)
    assert found.shape == x.shape and found.dtype == np.float32
    assert np.abs(found - x).max() <= eps + 1e-6
    assert found.min() >= 0 and found.max() <= 1


def test_one_iterated_step_is_fgsm(model, mnist):
    x, y = mnist.test.images[:4], mnist.test.labels[:4]
    np.testing.assert_array_equal(adversarial.iterated(model, x, y, 0.1, 1), adversarial.fgsm(model, x, y, 0.1))


def test_a_targeted_attack_reads_a_digit_as_the_target(model, mnist):
    index = int(np.flatnonzero(mnist.test.labels == 7)[0])
    result = adversarial.attack_one(model, mnist.test.images[index, 0], epsilon=0.2, steps=20, target=3)
    assert result.prediction_before == 7 and result.prediction == 3 and result.flipped
    assert result.linf <= 0.2 + 1e-6 and result.after[3] > result.before[3]


def test_the_iterated_attack_beats_fgsm_at_the_same_epsilon(model, mnist):
    x, y = mnist.test.images[:300], mnist.test.labels[:300]
    fgsm = adversarial.robust_accuracy(model, x, y, 0.1, steps=1)
    iterated = adversarial.robust_accuracy(model, x, y, 0.1, steps=10)
    clean = adversarial.robust_accuracy(model, x, y, 0.0, steps=10)
    assert clean > 0.97 and iterated < fgsm < clean


@pytest.mark.parametrize("target", [None, 3])
def test_the_smallest_epsilon_flips_and_the_one_below_does_not(model, mnist, target):
    image = mnist.test.images[0, 0]  # a 7
    grid = adversarial.grid(0.5, 0.005)
    assert len(grid) == 100 and grid[0] == 0.005 and grid[-1] == pytest.approx(0.5)
    found = adversarial.smallest_epsilon(model, image, 5, target, grid)
    assert found.exact and found.attacks <= 8 and found.epsilon is not None and 0 < found.epsilon <= 0.5
    assert found.below == pytest.approx(found.epsilon - 0.005)
    assert adversarial.attack_one(model, image, found.epsilon, 5, target).flipped
    assert not adversarial.attack_one(model, image, found.below, 5, target).flipped


def test_out_of_time_the_search_gives_its_bracket(model, mnist):
    found = adversarial.smallest_epsilon(model, mnist.test.images[0, 0], 5, 3, adversarial.grid(0.5, 0.005), seconds=0)
    assert found == adversarial.Search(0.5, 0.0, False, 1)  # the largest ε only: it succeeds


def test_the_smallest_epsilon_is_none_when_the_grid_is_too_small(model, mnist):
    found = adversarial.smallest_epsilon(model, mnist.test.images[0, 0], 3, 3, np.array([0.001, 0.002]))
    assert found.epsilon is None and found.below == 0.002 and found.exact


def test_the_smallest_epsilon_is_0_when_the_target_is_already_read(model, mnist):
    assert adversarial.smallest_epsilon(model, mnist.test.images[0, 0], 3, 7, np.array([0.1])).epsilon == 0.0


def test_the_budget_stops_an_attack(model, mnist):
    def out_of_time():
        raise TimeoutError

    with pytest.raises(TimeoutError):
        adversarial.attack_one(model, mnist.test.images[0, 0], 0.1, 5, None, between=out_of_time)
    with pytest.raises(TimeoutError):
        adversarial.smallest_epsilon(model, mnist.test.images[0, 0], 1, None, np.array([0.1]), between=out_of_time)


def test_an_adversarial_batch_holds_the_clean_images_then_their_fgsm_examples(mnist):
    model = lenet.LeNet5(seed=0)
    x, y = mnist.train.images[:16], mnist.train.labels[:16]
    batch, labels = with_adversarial(model, x, y, 0.1, np.random.default_rng(0))
    assert batch.shape == (32, 1, 28, 28) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[:16], x)
    np.testing.assert_array_equal(labels, np.concatenate([y, y]))
    moved = np.abs(batch[16:] - x)
    assert moved.max() <= 0.1 + 1e-6 and batch.min() >= 0 and batch.max() <= 1
    assert np.mean(moved > 0.05) > 0.1  # a real perturbation, not the image again
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_the_adversarially_trained_model_ships_with_its_manifest_and_its_clean_accuracy(mnist):
    robust = adversarial.load("robust")
    m = adversarial.manifest("robust")
    assert m["config"]["adversarial_epsilon"] == 0.1 and m["adversarial"] and "engine" in m["trained_by"]
    assert len(m["epochs"]) == m["config"]["epochs"]
    assert accuracy(robust, mnist.test) == m["test_accuracy"] >= 0.985
    assert adversarial.manifest("standard")["config"].get("adversarial_epsilon", 0.0) == 0.0


def test_the_adversarially_trained_model_resists_where_the_standard_one_falls(mnist):
    x, y = mnist.test.images[:300], mnist.test.labels[:300]
    for steps in (1, 10):
        standard = adversarial.robust_accuracy(adversarial.load("standard"), x, y, 0.1, steps)
        robust = adversarial.robust_accuracy(adversarial.load("robust"), x, y, 0.1, steps)
        assert robust > 0.8 > standard, (steps, robust, standard)
