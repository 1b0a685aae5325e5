"""POST /api/v1/optimize and GET /api/v1/optimize/options: the race of the issue's example,
the options the page builds its controls from, divergence that never puts NaN in the JSON,
and bad input refused with a 422 that says where."""

import json
import math
import typing

import pytest

from deepviz.app.schemas import optimize as schemas
from deepviz.lessons import surfaces
from tests.api.conftest import small_client

RACE = "/api/v1/optimize"


def test_the_issues_example(client):
    body = {"surface": "rosenbrock", "start": [-1.5, 2.0], "steps": 100,
            "optimizers": [{"name": "gd", "learning_rate": 0.001}, {"name": "newton"}]}  # fmt: skip
    r = client.post(RACE, json=body)
    assert r.status_code == 200, r.text
    gd, newton = r.json()["trajectories"]
    assert gd["name"] == "gd" and gd["learning_rate"] == 0.001 and newton["learning_rate"] == 1.0
    assert len(gd["points"]) == 101 and gd["points"][0] == [-1.5, 2.0, pytest.approx(2.5**2 + 100 * 0.25**2)]
    assert gd["stopped"] is None and gd["reached"] is None  # GD crawls along the valley
    assert newton["points"][-1][:2] == pytest.approx([1.0, 1.0]) and newton["reached"] <= 10
    assert len(newton["step_sizes"]) == 100 and len(newton["gaps"]) == 101
    assert newton["final_loss"] == newton["points"][-1][2]
    surface = r.json()["surface"]
    assert surface["minima"] == [[1.0, 1.0]] and surface["formula"].startswith("<math")
    contour = r.json()["contour"]
    assert len(contour["z"]) == len(contour["y"]) == surfaces.GRID and len(contour["z"][0]) == len(contour["x"])


def test_newton_lands_on_the_quadratic_in_one_step_and_gd_does_not(client):
    body = {"surface": "quadratic", "condition": 50, "start": [1.5, -1.0], "steps": 30,
            "optimizers": [{"name": "gd"}, {"name": "newton"}]}  # fmt: skip
    gd, newton = client.post(RACE, json=body).json()["trajectories"]
    assert newton["reached"] == 1 and newton["points"][1][:2] == pytest.approx([0.0, 0.0], abs=1e-12)
    assert gd["reached"] is None or gd["reached"] > 1
    assert gd["learning_rate"] == pytest.approx(1.6 / 50)  # the default scales with κ


def test_plain_newton_ends_at_the_saddle_and_says_so(client):
    body = {"surface": "saddle", "optimizers": [{"name": "newton"}, {"name": "newton_safeguarded"}], "steps": 20}
    plain, safe = client.post(RACE, json=body).json()["trajectories"]
    assert plain["points"][-1][:2] == pytest.approx([0.0, 0.0], abs=1e-9) and plain["reached"] is None
    assert any("ended at the saddle" in n for n in plain["notes"])
    assert safe["reached"] is not None


def test_divergence_stops_the_trajectory_and_the_json_stays_json(client):
    body = {"surface": "beale", "start": [4.0, 4.0], "steps": 100,
            "optimizers": [{"name": "gd", "learning_rate": 100}, {"name": "momentum", "learning_rate": 50},
                           {"name": "newton_safeguarded"}, {"name": "adam"}]}  # fmt: skip
    r = client.post(RACE, json=body)
    assert r.status_code == 200
    json.loads(r.text, parse_constant=lambda c: pytest.fail(f"the JSON has {c}"))
    gd, momentum, safe, adam = r.json()["trajectories"]
    for t in (gd, momentum, safe):
        assert t["stopped"] == "diverged" and len(t["points"]) < 101
        assert any(n.startswith("diverged at step") for n in t["notes"])
        assert all(math.isfinite(v) for p in t["points"] for v in p)
    assert adam["stopped"] is None


def test_the_logistic_surface_takes_a_dataset_and_samples_seeded_minibatches(client):
    racers = [{"name": "gd"}, {"name": "sgd"}, {"name": "minibatch", "batch_size": 8}]
    dataset = {"name": "moons", "points": 80, "noise": 0.2, "seed": 2}
    body = {"surface": "logistic", "dataset": dataset, "steps": 40, "optimizers": racers, "seed": 1}
    first = client.post(RACE, json=body).json()
    assert first["surface"]["examples"] == 80 and first["surface"]["title"] == "Logistic regression on moons"
    gd, sgd, minibatch = first["trajectories"]
    assert sgd["points"] != gd["points"] != minibatch["points"]
    assert client.post(RACE, json=body).json()["trajectories"][1]["points"] == sgd["points"]  # seeded
    other = client.post(RACE, json={**body, "seed": 2}).json()["trajectories"][1]["points"]
    assert other != sgd["points"]


def test_the_options_list_every_surface_and_what_applies_to_it(client):
    r = client.get("/api/v1/optimize/options")
    assert r.status_code == 200
    options = r.json()
    names = [s["name"] for s in options["surfaces"]]
    assert names == list(surfaces.SURFACES) == list(typing.get_args(schemas.SurfaceName))
    assert [o["name"] for o in options["optimizers"]] == list(typing.get_args(schemas.OptimizerName))
    assert options["datasets"] == list(typing.get_args(schemas.DatasetName)) == list(surfaces.DATASETS)
    by_name = {s["name"]: s for s in options["surfaces"]}
    assert "sgd" not in by_name["rosenbrock"]["optimizers"] and "sgd" in by_name["logistic"]["optimizers"]
    for surface in options["surfaces"]:
        assert set(surface["learning_rates"]) == set(surface["optimizers"])
    assert options["limits"]["steps"] == 500 and options["limits"]["racers"] == 9


BAD = [
    ({"optimizers": []}, ["body", "optimizers"], "at least 1"),
    ({"optimizers": [{"name": "lbfgs"}]}, ["body", "optimizers", 0, "name"], "must be"),
    ({"optimizers": [{"name": "gd", "learning_rate": -1}]}, ["body", "optimizers", 0, "learning_rate"], "more than 0"),
    ({"optimizers": [{"name": "gd", "learning_rate": 1e3}]}, ["body", "optimizers", 0, "learning_rate"], "at most 100"),
    ({"optimizers": [{"name": "gd"}], "steps": 0}, ["body", "steps"], "at least 1"),
    ({"optimizers": [{"name": "gd"}], "steps": 501}, ["body", "steps"], "at most 500 steps"),
    ({"optimizers": [{"name": "gd"}], "condition": 0.5}, ["body", "condition"], "at least 1"),
    ({"optimizers": [{"name": "gd"}], "condition": 1e4}, ["body", "condition"], "at most 1000"),
    ({"optimizers": [{"name": "gd"}], "start": [0, 1e6]}, ["body", "start", 1], "at most 1000"),
    ({"optimizers": [{"name": "gd"}], "start": [0]}, ["body", "start"], "at least 2"),
    ({"optimizers": [{"name": "gd"}], "surface": "ackley"}, ["body", "surface"], "must be"),
    ({"optimizers": [{"name": "gd"}, {"name": "gd"}]}, ["body", "optimizers", 1, "name"], "already racing"),
    ({"surface": "rosenbrock", "optimizers": [{"name": "minibatch"}]}, ["body", "optimizers", 0, "name"],
     "only the logistic regression surface has examples"),
    ({"surface": "logistic", "optimizers": [{"name": "minibatch", "batch_size": 101}]},
     ["body", "optimizers", 0, "batch_size"], "at most the dataset's 100 points"),
    ({"surface": "logistic", "dataset": {"name": "spiral"}, "optimizers": [{"name": "gd"}]},
     ["body", "dataset", "name"], "must be"),
    ({"surface": "logistic", "dataset": {"points": 501}, "optimizers": [{"name": "gd"}]},
     ["body", "dataset", "points"], "at most 500 points"),
    ({"optimizers": [{"name": "newton"}, {"name": "newton_safeguarded"}], "steps": 300}, ["body"],
     "the limit is 1500"),
    ({"optimizers": [{"name": "momentum", "momentum": 1}]}, ["body", "optimizers", 0, "momentum"], "less than 1"),
    ({"optimizers": [{"name": "nesterov", "momentum": 0}]}, ["body", "optimizers", 0, "momentum"], "above 0"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "loc", "words"), BAD)
def test_bad_input_is_refused_where_it_is(client, body, loc, words):
    r = client.post(RACE, json=body)
    assert r.status_code == 422, r.text
    (detail,) = r.json()["detail"]
    assert detail["loc"] == loc and words in detail["msg"]


def test_the_limits_are_settings():
    client = small_client(max_optimize_steps=10, max_racers=2, max_optimize_work=15)
    three = [{"name": "gd"}, {"name": "adam"}, {"name": "rmsprop"}]
    (detail,) = client.post(RACE, json={"optimizers": three, "steps": 5}).json()["detail"]
    assert detail["loc"] == ["body", "optimizers"] and "at most 2 optimizers" in detail["msg"]
    assert "at most 10 steps" in client.post(RACE, json={"optimizers": three[:1], "steps": 11}).text
    assert "the limit is 15" in client.post(RACE, json={"optimizers": three[:2], "steps": 8}).text
    assert client.post(RACE, json={"optimizers": three[:2], "steps": 7}).status_code == 200


def test_a_dataset_too_large_is_refused_before_it_is_made(client):
    body = {"surface": "logistic", "dataset": {"points": 10**12}, "optimizers": [{"name": "gd"}]}
    r = client.post(RACE, json=body)  # numpy refused to allocate it: a 500
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "dataset", "points"]
