"""The training lab's datasets: the same points for the same seed, the shapes and label types
the model expects, classes in equal turns, every point in the square, each shape what its
name says (checked without noise), and a split that holds out the asked fraction."""

import doctest

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepviz.lessons.playground import datasets
from deepviz.lessons.playground.datasets import CLASSES, make, split

GENERATED = sorted(CLASSES)


def test_the_docstring_example_runs():
    result = doctest.testmod(datasets)
    assert result.attempted >= 3 and result.failed == 0


@given(name=st.sampled_from(GENERATED), points=st.integers(1, 300), noise=st.floats(0, 0.5), seed=st.integers(0, 99))
def test_shapes_types_and_the_square(name, points, noise, seed):
    data = make(name, points, noise, seed)
    assert data.x.dtype == np.float32 and data.x.shape == (points, 1 if name == "sine" else 2)
    assert data.y.shape == (points,) and data.classes == CLASSES[name]
    assert np.all(np.abs(data.x) <= 1) and np.all(np.abs(data.y) <= (1 if name == "sine" else 2))
    if name == "sine":
        assert data.y.dtype == np.float32 and data.task == "regression"
    else:
        assert data.y.dtype == np.int64
        counts = np.bincount(data.y, minlength=data.classes)
        assert len(counts) == data.classes and counts.max() - counts.min() <= 1  # the classes take turns


@pytest.mark.parametrize("name", GENERATED)
def test_the_seed_decides_the_points(name):
    a, b, c = make(name, 50, 0.1, seed=3), make(name, 50, 0.1, seed=3), make(name, 50, 0.1, seed=4)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


def test_each_shape_is_what_its_name_says_without_noise():
    xor = make("xor", 400, 0.0, 1)
    assert np.all((xor.x[:, 0] * xor.x[:, 1] > 0) == (xor.y == 1))
    assert np.all(np.abs(xor.x) >= 0.05)
    circles = make("circles", 400, 0.0, 1)
    radius = np.linalg.norm(circles.x, axis=1)
    assert np.all(radius[circles.y == 0] <= 0.5) and np.all(radius[circles.y == 1] >= 0.7)
    blobs = make("blobs", 400, 0.0, 1)
    assert np.mean((blobs.x.sum(axis=1) > 0) == (blobs.y == 1)) > 0.99  # the line x + y = 0 separates them
    moons = make("moons", 400, 0.0, 1)
    upper = moons.x[moons.y == 0]
    assert np.allclose(np.linalg.norm(upper / 0.6 + [0.5, 0.25], axis=1), 1, atol=1e-5)  # on the unit circle
    spiral = make("spiral", 300, 0.0, 1)
    assert spiral.classes == 3 and spiral.task == "multiclass"
    sine = make("sine", 100, 0.0, 1)
    assert np.allclose(sine.y, 0.8 * np.sin(np.pi * sine.x[:, 0]), atol=1e-6)


def test_noise_moves_points_and_leaves_labels():
    clean, noisy = make("xor", 200, 0.0, 5), make("xor", 200, 0.3, 5)
    assert np.array_equal(clean.y, noisy.y)
    assert 0.1 < np.abs(clean.x - noisy.x).mean() < 0.4
    assert np.any((noisy.x[:, 0] * noisy.x[:, 1] > 0) != (noisy.y == 1))  # some land on the other side


@given(points=st.integers(1, 300), fraction=st.floats(0, 0.9), seed=st.integers(0, 99))
def test_the_split_holds_out_the_fraction_and_loses_nothing(points, fraction, seed):
    data = make("moons", points, 0.1, 0)
    train, test = split(data, fraction, seed)
    assert len(test) == min(round(fraction * points), points - 1) and len(train) + len(test) == points
    rows = np.concatenate([train.x, test.x])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, data.x.tolist()))
    assert train.classes == test.classes == 2 and train.y.dtype == np.int64


def test_the_split_is_seeded_and_does_not_move_the_points():
    data = make("circles", 100, 0.1, 0)
    assert np.array_equal(split(data, 0.3, 1)[1].x, split(data, 0.3, 1)[1].x)
    assert not np.array_equal(split(data, 0.3, 1)[1].x, split(data, 0.3, 2)[1].x)
    assert np.array_equal(make("circles", 100, 0.1, 0).x, data.x)


def test_custom_points_are_taken_as_given():
    rows = [[0.1, 0.2, 0], [-0.5, 0.5, 1], [0.9, -0.9, 1]]
    data = make("custom", custom=rows)
    assert np.allclose(data.x, [r[:2] for r in rows]) and data.y.tolist() == [0, 1, 1]
    assert data.classes == 2 and make("custom", custom=[*rows, [0, 0, 2]]).classes == 3


@pytest.mark.parametrize(
    "name, kwargs, words",
    [
        ("custom", {"custom": []}, "non-empty"),
        ("custom", {"custom": [[0, 0, 3]]}, "label"),
        ("custom", {"custom": [[1.5, 0, 1]]}, "square"),
        ("custom", {"custom": [[0, 0]]}, "[x, y, label]"),
        ("wave", {}, "unknown dataset"),
        ("xor", {"points": 0}, "points"),
    ],
)
def test_bad_arguments_say_what_is_wrong(name, kwargs, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        make(name, **kwargs)
    with pytest.raises(ValueError, match="test_fraction"):
        split(make("xor", 10), 1.0)
