"""The training lab's API (docs/training.md): the stream of a run (configure, step, play with
acknowledgements, live changes, reset, errors that leave the run alone, the close codes) and
the race and program endpoints."""

import base64
import json
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect

from deepviz.app.schemas.training import RunConfigIn, check_config, parameters
from deepviz.app.settings import Settings
from deepviz.app.training_stream import advance, configure
from deepviz.lessons.playground.frame import GRID, UNIT_GRID
from tests.api.conftest import small_client

SMALL = {"data": {"name": "xor", "points": 60}, "model": {"hidden": [4], "activation": ["tanh"]}}


def send(ws, **message) -> None:
    ws.send_text(json.dumps(message))


def configured(ws, config=None) -> tuple[dict, dict]:
    send(ws, type="configure", config=config if config is not None else SMALL)
    model = ws.receive_json()
    return model, ws.receive_json()


def test_configure_answers_the_model_then_a_frame(client):
    with client.websocket_connect("/api/v1/train/stream") as ws:
        model, frame = configured(ws, {})
        assert model["type"] == "model" and model["layers"] == [2, 8, 8, 1] and model["parameters"] == 105
        assert model["formula"].startswith("<math") and "tanh" in model["formula"]
        assert "nn.Sequential" in model["program"] and "torch.optim.Adam" in model["program"]
        assert model["grid"] == {"size": GRID, "units": UNIT_GRID, "extent": [-1.5, 1.5, -1.5, 1.5]}
        assert model["classes"] == 2
        assert len(model["points"]["train"]) == 140 and len(model["points"]["test"]) == 60
        assert frame["type"] == "frame" and frame["step"] == 0 and frame["newton"] is None
        label = np.frombuffer(base64.b64decode(frame["boundary"]["label"]), np.uint8)
        assert label.shape == (GRID * GRID,) and set(label) <= {0, 1}
        assert [len(layer) for layer in frame["units"]] == [8, 8]
        unit = frame["units"][0][0]
        assert len(base64.b64decode(unit["values"])) == UNIT_GRID * UNIT_GRID and unit["min"] <= unit["max"]
        assert [np.shape(w["w"]) for w in frame["weights"]] == [(8, 2), (8, 8), (1, 8)]


def test_a_step_is_one_step_and_play_trains_with_acknowledged_frames(client):
    with client.websocket_connect("/api/v1/train/stream") as ws:
        _, first = configured(ws)
        send(ws, type="ack", step=0)
        send(ws, type="step")
        stepped = ws.receive_json()
        assert stepped["step"] == 1 and stepped["train_loss"] != first["train_loss"]
        send(ws, type="ack", step=1)
        send(ws, type="play")
        steps = []
        for _ in range(6):
            frame = ws.receive_json()
            steps.append(frame["step"])
            send(ws, type="ack", step=frame["step"])
        send(ws, type="pause")
        assert steps == sorted(steps) and steps[0] > 1 and len(set(steps)) == 6
        assert frame["train_loss"] < first["train_loss"] and frame["epoch"] > 0


def test_without_acks_the_server_sends_at_most_two_frames():
    client = small_client(train_frame_rate=60)
    with client.websocket_connect("/api/v1/train/stream") as ws:
        configured(ws)  # one frame in hand
        send(ws, type="play")
        assert ws.receive_json()["type"] == "frame"  # the second
        send(ws, type="set", train={"lr": 0.01})  # a message the server answers only with an error…
        send(ws, type="set", train={"lr": -1})
        answer = ws.receive_json()  # …comes next: no third frame was sent in between
        assert answer["type"] == "error" and answer["loc"] == ["train", "lr"]
        send(ws, type="ack", step=0)
        assert ws.receive_json()["type"] == "frame"  # one acknowledged, one more


def test_set_changes_the_learning_rate_live_and_reset_starts_again(client):
    with client.websocket_connect("/api/v1/train/stream") as ws:
        _, first = configured(ws)
        for _ in range(3):
            send(ws, type="step")
            frame = ws.receive_json()
            send(ws, type="ack", step=frame["step"])
        send(ws, type="set", train={"lr": 0.2, "schedule": "step", "optimizer": "momentum"})
        changed = ws.receive_json()
        assert changed["lr"] == 0.2 and changed["step"] == 3 and changed["weights"] == frame["weights"]
        send(ws, type="ack", step=3)
        send(ws, type="reset")
        reset = ws.receive_json()
        assert reset["step"] == 0 and reset["weights"] == first["weights"] and reset["lr"] == 0.2


@pytest.mark.parametrize(
    "config, loc, words",
    [
        ({"model": {"hidden": [4, 40], "activation": ["tanh", "relu"]}}, ["config", "model", "hidden", 1], "16 units"),
        ({"data": {"name": "wave"}}, ["config", "data", "name"], "must be"),
        ({"data": {"points": 5000}}, ["config", "data", "points"], "1000 points"),
        ({"train": {"lr": 0}}, ["config", "train", "lr"], "more than 0"),
        ({"data": {"name": "custom"}}, ["config", "data"], "needs its points"),
        ({"data": {"name": "custom", "custom": [[0, 0, 5]]}}, ["config", "data", "custom", 0], "label"),
        ({"train": {"optimizer": "newton"}, "model": {"hidden": [16, 16], "activation": ["relu", "relu"]}},
         ["config", "train", "optimizer"], "Hessian"),
    ],
)  # fmt: skip
def test_a_bad_config_is_an_error_with_its_place_and_the_run_goes_on(client, config, loc, words):
    with client.websocket_connect("/api/v1/train/stream") as ws:
        configured(ws)
        send(ws, type="configure", config=config)
        error = ws.receive_json()
        assert error["type"] == "error" and error["loc"] == loc and words in error["msg"], error
        send(ws, type="step")
        assert ws.receive_json()["step"] == 1  # the run as it was


def test_switching_a_big_model_to_newton_is_refused_clearly(client):
    big = {"model": {"hidden": [16, 16], "activation": ["relu", "relu"]}}
    with client.websocket_connect("/api/v1/train/stream") as ws:
        configured(ws, big)
        send(ws, type="set", train={"optimizer": "newton"})
        error = ws.receive_json()
        assert error["loc"] == ["train", "optimizer"] and "at most 120 parameters" in error["msg"]


@pytest.mark.parametrize(
    "message, words",
    [
        ("not json", "JSON object"),
        (json.dumps({"type": "fly"}), "type is one of"),
        (json.dumps([1, 2]), "type is one of"),
        (json.dumps({"type": "set", "train": {"speed": 1}}), "not something"),
    ],
)
def test_bad_messages_get_an_error(client, message, words):
    with client.websocket_connect("/api/v1/train/stream") as ws:
        configured(ws)
        ws.send_text(message)
        error = ws.receive_json()
        assert error["type"] == "error" and words in error["msg"]


def test_before_configure_a_step_is_an_error(client):
    with client.websocket_connect("/api/v1/train/stream") as ws:
        send(ws, type="step")
        assert "configure a run first" in ws.receive_json()["msg"]


def test_a_flood_of_bad_messages_closes_with_1008():
    client = small_client(max_ws_bad_messages=5)
    with client.websocket_connect("/api/v1/train/stream") as ws:
        for _ in range(10):
            ws.send_text("{")
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(10):
                assert ws.receive_json()["type"] == "error"
        assert closed.value.code == 1008 and "bad messages" in closed.value.reason


def test_a_full_server_refuses_a_training_session_with_1013():
    client = small_client(max_ws_connections=1)
    with client.websocket_connect("/api/v1/train/stream"):
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/api/v1/train/stream") as second:
                second.receive_text()
        assert refused.value.code == 1013


def test_a_diverging_run_stops_playing():
    client = small_client(train_frame_rate=60)
    config = {"data": {"name": "sine"}, "train": {"optimizer": "gd", "lr": 10}, "model": {"hidden": [16, 16],
              "activation": ["relu", "relu"]}}  # fmt: skip
    with client.websocket_connect("/api/v1/train/stream") as ws:
        configured(ws, config)
        send(ws, type="play")
        for _ in range(300):  # it diverges after ~113 steps: 5 frames at 25 steps a frame
            frame = ws.receive_json()
            send(ws, type="ack", step=frame["step"])
            if frame["stopped"]:
                break
        assert frame["stopped"] == "diverged" and frame["train_loss"] is None


@pytest.mark.filterwarnings("ignore:Newton")
def test_the_race_reports_each_racer(client):
    blobs = {"data": {"name": "blobs", "points": 60}, "model": {"hidden": [3], "activation": ["tanh"]}}
    body = {"config": blobs, "racers": [{"optimizer": "gd", "lr": 0.5}, {"optimizer": "adam", "lr": 0.05},
            {"optimizer": "newton", "lr": 1.0, "damping": 0.1}], "target_loss": 0.1, "max_steps": 200}  # fmt: skip
    response = client.post("/api/v1/train/race", json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["optimizer"] for r in results] == ["gd", "adam", "newton"]
    for r in results:
        assert r["stopped"] is None and len(r["losses"]) == r["steps_to_target"] and r["losses"][-1] <= 0.1
        assert 0 < r["seconds_to_target"] <= r["seconds"]


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"racers": []}, ["body", "racers"]),
        ({"racers": [{"optimizer": "gd"}] * 9}, ["body", "racers"]),
        ({"racers": [{"optimizer": "gd", "lr": 50}]}, ["body", "racers", 0, "lr"]),
        ({"racers": [{"optimizer": "gd"}], "max_steps": 10_000}, ["body", "max_steps"]),
        ({"racers": [{"optimizer": "newton"}], "config": {"model": {"hidden": [16, 16], "activation": ["tanh"] * 2}}},
         ["body", "racers", 0, "optimizer"]),
    ],
)  # fmt: skip
def test_a_bad_race_is_a_422_with_its_place(client, body, loc):
    response = client.post("/api/v1/train/race", json=body)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc, response.text


def test_the_program_is_a_python_file_to_download(client):
    response = client.post("/api/v1/train/program", json={"config": {"train": {"optimizer": "rmsprop"}}, "steps": 50})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/x-python")
    assert 'filename="deepviz_xor_rmsprop.py"' in response.headers["content-disposition"]
    assert "torch.optim.RMSprop" in response.text and "STEPS = 50" in response.text
    compile(response.text, "program.py", "exec")


def test_a_bad_program_request_is_a_422(client):
    response = client.post("/api/v1/train/program", json={"config": {"model": {"dropout": 0.9}}})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "config", "model", "dropout"]


def test_a_session_does_no_work_after_its_socket_closes(monkeypatch):
    from deepviz.app import training_stream

    turns = []
    real = training_stream.Session.turn  # a session's turn (advance)
    monkeypatch.setattr(training_stream.Session, "turn", staticmethod(lambda *args: turns.append(1) or real(*args)))
    client = small_client(train_frame_rate=60)
    with client.websocket_connect("/api/v1/train/stream") as ws:
        configured(ws)
        send(ws, type="play")
        for _ in range(5):
            send(ws, type="ack", step=ws.receive_json()["step"])
    after_close = len(turns)
    time.sleep(0.3)  # at 60 frames a second, a session still playing would take ~18 more turns
    assert len(turns) == after_close >= 5


@st.composite
def configs(draw) -> dict:
    layers = draw(st.integers(0, 4))
    name = draw(st.sampled_from(["blobs", "xor", "circles", "moons", "spiral", "sine", "custom"]))
    data = {"name": name, "points": draw(st.integers(1, 300)), "noise": draw(st.floats(0, 1)),
            "test_fraction": draw(st.floats(0, 0.9)), "seed": draw(st.integers(0, 2**32 - 1))}  # fmt: skip
    if name == "custom":
        point = st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.sampled_from([0.0, 1.0, 2.0])).map(list)
        data = {"name": "custom", "custom": draw(st.lists(point, min_size=1, max_size=30))}
    optimizer = draw(st.sampled_from(["gd", "sgd", "momentum", "nesterov", "adam", "rmsprop", "newton"]))
    hidden = draw(st.lists(st.integers(1, 3 if optimizer == "newton" else 16), min_size=layers, max_size=layers))
    return {
        "data": data,
        "model": {
            "hidden": hidden,
            "activation": draw(
                st.lists(st.sampled_from(["relu", "tanh", "sigmoid"]), min_size=layers, max_size=layers)
            ),
            "dropout": draw(st.floats(0, 0.5)),
        },  # fmt: skip
        "train": {
            "optimizer": optimizer,
            "lr": draw(st.floats(1e-4, 10)),
            "momentum": draw(st.floats(0.01, 0.99)),
            "batch_size": draw(st.integers(1, 400)),
            "l2": draw(st.floats(0, 1)),
            "schedule": draw(st.sampled_from(["constant", "step", "cosine"])),
            "damping": draw(st.floats(0, 100)),
        },  # fmt: skip
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


@settings(max_examples=30)
@given(config=configs())
@pytest.mark.filterwarnings("ignore:Newton")
def test_any_valid_run_streams_frames_that_are_json(config):
    """Whatever the student picks within the bounds (even a learning rate that diverges),
    the run configures, trains and draws frames the page can parse (no NaN, no defect)."""
    valid = RunConfigIn.model_validate(config)
    check_config(valid, Settings(), ["config"])
    run, (model, first), _ = configure(valid)
    assert json.loads(model)["parameters"] == parameters(valid)
    text, _, _ = advance(run, Settings(), 3)
    frame = json.loads(text)
    assert frame["step"] <= 3 and (frame["step"] == 3 or frame["stopped"] == "diverged")


def test_expensive_messages_count_for_more_against_the_rate():
    """A configure of a big run costs ~20 ms of CPU: it counts as ~20 messages, so a client
    that repeats it gets most of them skipped, well before max_ws_rate of them a second."""
    client = small_client(max_ws_rate=30)
    big = {"data": {"points": 1000}, "model": {"hidden": [16] * 4, "activation": ["relu"] * 4}}
    with client.websocket_connect("/api/v1/train/stream") as ws:
        for _ in range(6):
            send(ws, type="configure", config=big)
        answers = []
        while len(answers) < 12 and not any(a["type"] == "error" for a in answers):
            answers.append(ws.receive_json())
        assert "messages a second" in answers[-1]["msg"]
        assert sum(a["type"] == "model" for a in answers) < 6  # far below 30 a second
