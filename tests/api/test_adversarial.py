"""Adversarial digits over HTTP: the attack stays within ε and [0, 1] and flips a digit, the
smallest ε search, the gallery, the curves; bad input gets a clear 422 naming its place."""

import numpy as np
import pytest
from PIL import Image

from deepviz.lessons import adversarial
from deepviz.lessons.mnist import load
from tests.api.conftest import data_url, small_client

ATTACK, SEARCH = "/api/v1/lenet/adversarial", "/api/v1/lenet/adversarial/smallest-epsilon"


@pytest.fixture(scope="module")
def seven():
    test = load().test
    assert test.labels[0] == 7
    return test.images[0, 0]


@pytest.mark.parametrize("model", ["standard", "robust"])
@pytest.mark.parametrize("target, steps", [(None, 1), (None, 10), (3, 20)])
def test_the_attack_stays_within_epsilon_and_in_0_1(client, seven, model, target, steps):
    eps = 0.15
    body = {"pixels": seven.tolist(), "target": target, "epsilon": eps, "steps": steps, "model": model}
    r = client.post(ATTACK, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    pixels, original = np.array(out["pixels"]), np.array(out["original"])
    np.testing.assert_array_equal(original, seven)
    assert pixels.shape == (28, 28) and pixels.min() >= 0 and pixels.max() <= 1
    assert np.abs(pixels - seven).max() <= eps + 1e-6
    assert out["perturbation_linf"] == pytest.approx(np.abs(pixels - seven).max(), abs=1e-6)
    np.testing.assert_allclose(np.array(out["perturbation"]), pixels - seven, atol=1e-5)
    assert out["original_prediction"] == 7 and out["model"] == model and out["target"] == target
    assert sum(out["probabilities"]) == pytest.approx(1, abs=1e-5)
    assert out["prediction"] == int(np.argmax(out["probabilities"]))
    assert out["flipped"] == (out["prediction"] != 7 if target is None else out["prediction"] == target)


def test_a_targeted_attack_makes_the_standard_model_read_a_3(client, seven):
    body = {"pixels": seven.tolist(), "target": 3, "epsilon": 0.2, "steps": 20}
    out = client.post(ATTACK, json=body).json()
    assert out["flipped"] and out["prediction"] == 3
    assert out["probabilities"][3] > out["original_probabilities"][3]


def test_the_same_attack_fails_on_the_robust_model_where_it_beats_the_standard_one(client):
    """At ε = 0.1 the standard model is read wrong on most test digits, the robust one on few."""
    test = load().test
    flipped = {"standard": 0, "robust": 0}
    for x in test.images[:20, 0]:
        for model in flipped:
            body = {"pixels": x.tolist(), "epsilon": 0.1, "steps": 10, "model": model}
            flipped[model] += client.post(ATTACK, json=body).json()["flipped"]
    assert flipped["robust"] < flipped["standard"]


def test_epsilon_0_changes_nothing(client, seven):
    out = client.post(ATTACK, json={"pixels": seven.tolist(), "epsilon": 0.0, "steps": 5}).json()
    assert out["perturbation_linf"] == 0 and not out["flipped"] and out["pixels"] == out["original"]


def test_a_drawing_is_attacked_as_the_network_sees_it(client, seven):
    drawing = Image.fromarray(255 - (seven * 255).astype(np.uint8), "L").resize((84, 84))
    r = client.post(ATTACK, json={"image": data_url(drawing), "epsilon": 0.1, "steps": 5})
    assert r.status_code == 200, r.text
    assert np.array(r.json()["original"]).shape == (28, 28) and r.json()["original_prediction"] == 7


@pytest.mark.parametrize("target", [None, 3])
def test_the_smallest_epsilon_flips_and_one_step_less_does_not(client, seven, target):
    r = client.post(SEARCH, json={"pixels": seven.tolist(), "target": target, "steps": 5})
    assert r.status_code == 200, r.text
    out = r.json()
    eps, (resolution, top) = out["epsilon"], out["grid"]
    assert resolution == 0.005 and top == pytest.approx(0.5) and out["original_prediction"] == 7
    assert eps is not None and 0 < eps <= top and out["exact"] and out["below"] == pytest.approx(eps - resolution)
    at = client.post(ATTACK, json={"pixels": seven.tolist(), "target": target, "steps": 5, "epsilon": eps}).json()
    below = {"pixels": seven.tolist(), "target": target, "steps": 5, "epsilon": eps - resolution}
    assert at["flipped"] and not client.post(ATTACK, json=below).json()["flipped"]


def test_the_search_grid_is_its_settings(seven):
    client = small_client(adversarial_search_max_epsilon=0.01, adversarial_search_resolution=0.005)
    out = client.post(SEARCH, json={"pixels": seven.tolist(), "steps": 2}).json()
    assert out["grid"] == [0.005, 0.01] and out["epsilon"] is None  # no 0.01 box turns this 7


def test_the_gallery_holds_digits_both_models_read_right(client):
    gallery = client.get("/api/v1/lenet/adversarial/digits").json()
    assert sorted({d["label"] for d in gallery}) == list(range(10))
    test = load().test
    for d in gallery[:3]:
        assert test.labels[d["index"]] == d["label"] and d["pixels"]["shape"] == [28, 28]


def test_the_curves_and_both_manifests_are_served(client):
    out = client.get("/api/v1/lenet/robustness").json()
    curves = out["curves"]
    assert curves == adversarial.curves() and curves["epsilons"][0] == 0
    for name in ("standard", "robust"):
        for attack in ("fgsm", "iterated"):
            assert len(curves["models"][name][attack]) == len(curves["epsilons"])
    assert out["models"]["standard"]["adversarial_epsilon"] == 0
    assert out["models"]["robust"]["adversarial_epsilon"] == 0.1
    assert out["models"]["robust"]["test_accuracy"] >= 0.985


def pixels_with(row: int, col: int, value) -> list:
    grid = [[0.0] * 28 for _ in range(28)]
    grid[row][col] = value
    return grid


@pytest.mark.parametrize(
    "body, loc, words",
    [
        ({"pixels": [[0.0] * 28] * 28, "epsilon": 1.5}, ["body", "epsilon"], "ε must be at most 1, not 1.5"),
        ({"pixels": [[0.0] * 28] * 28, "epsilon": -0.1}, ["body", "epsilon"], "ε must be at least 0"),
        ({"pixels": [[0.0] * 28] * 28, "steps": 0}, ["body", "steps"], "the steps must be at least 1"),
        ({"pixels": [[0.0] * 28] * 28, "steps": 51}, ["body", "steps"], "at most 50 steps"),
        ({"pixels": [[0.0] * 28] * 28, "target": 10}, ["body", "target"], "the target must be at most 9"),
        ({"pixels": [[0.0] * 28] * 28, "model": "fast"}, ["body", "model"], "'standard' or 'robust'"),
        ({"pixels": [[0.0] * 28] * 27}, ["body", "pixels"], "at least 28, not 27"),
        ({"pixels": [[0.0] * 29] * 28}, ["body", "pixels", 0], "at most 28, not 29"),
        ({"pixels": pixels_with(3, 4, 1.2)}, ["body", "pixels", 3, 4], "at row 4, column 5 must be at most 1"),
        ({"pixels": [[0.0] * 28] * 28, "image": "data:,"}, ["body"], "exactly one of pixels and image"),
        ({"epsilon": 0.1}, ["body"], "exactly one of pixels and image"),
        ({"pixels": [[0.0] * 28] * 28, "eps": 0.1}, ["body", "eps"], "is not something this accepts"),
    ],
)
def test_bad_input_gets_a_422_that_names_its_place(client, body, loc, words):
    r = client.post(ATTACK, json=body)
    assert r.status_code == 422, r.text
    error = r.json()["detail"][0]
    assert error["loc"] == loc and words in error["msg"], error


def test_the_search_refuses_too_many_steps_and_an_epsilon(client):
    r = client.post(SEARCH, json={"pixels": [[0.0] * 28] * 28, "steps": 51})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "steps"]
    r = client.post(SEARCH, json={"pixels": [[0.0] * 28] * 28, "epsilon": 0.1})  # the search finds it
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "epsilon"]


def test_an_empty_drawing_is_refused(client):
    blank = Image.new("L", (84, 84), 255)
    r = client.post(ATTACK, json={"image": data_url(blank)})
    assert r.status_code == 422 and "empty" in r.json()["detail"][0]["msg"]


def test_an_attack_past_its_deadline_is_stopped_with_a_422(seven):
    client = small_client(max_request_seconds=0.001, max_adversarial_steps=1000)
    r = client.post(ATTACK, json={"pixels": seven.tolist(), "epsilon": 0.1, "steps": 1000})
    assert r.status_code == 422 and "longer than 0.001 s" in r.json()["detail"][0]["msg"]
