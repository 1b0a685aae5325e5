"""/api/v1/lenet/train/stream (docs/lenet-live.md): a fresh LeNet-5 trained on the server."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from deepviz.app.frames import ink
from deepviz.app.schemas.lenet_live import LiveConfigIn
from deepviz.lessons.mnist import load
from tests.api.conftest import small_client

URL = "/api/v1/lenet/train/stream"
SMALL = {"digits": 192, "batch_size": 16}  # 12 whole minibatches an epoch


def send(ws, **message):
    ws.send_text(json.dumps(message))


def configured(ws, config=SMALL):
    send(ws, type="configure", config=config)
    frame = ws.receive_json()
    assert frame["type"] == "frame", frame
    send(ws, type="ack", step=frame["step"])
    return frame


def test_configure_answers_a_frame_of_the_fresh_network(client):
    with client.websocket_connect(URL) as ws:
        frame = configured(ws)
    assert frame["step"] == 0 and frame["clear"] and frame["losses"] == [] and frame["accuracies"] == []
    assert (frame["lr"], frame["schedule"], frame["lr_now"]) == (0.005, "step", 0.005)  # the defaults
    assert frame["kernels"]["conv1"]["shape"] == [6, 5, 5] and frame["kernels"]["conv2"]["shape"] == [96, 5, 5]
    probe = frame["probe"]
    assert [m["name"] for m in probe["layers"]][:2] == ["conv1", "pool1"] and len(probe["probabilities"]) == 10
    assert probe["label"] == int(load().validation.labels[0])


def test_steps_then_play_train_and_report_the_losses_once(client):
    with client.websocket_connect(URL) as ws:
        configured(ws)
        send(ws, type="step")
        one = ws.receive_json()
        send(ws, type="ack", step=1)
        assert one["step"] == 1 and [s for s, _ in one["losses"]] == [1] and not one["clear"]
        assert one["accuracies"][0][0] == 0 and one["accuracies"][0][1] < 0.3  # random weights: ~10 %
        send(ws, type="play")
        seen = [1]
        frame = one
        while frame["step"] < 60:
            frame = ws.receive_json()
            send(ws, type="ack", step=frame["step"])
            seen += [s for s, _ in frame["losses"]]
        send(ws, type="pause")
    assert seen == list(range(1, frame["step"] + 1))  # every step's loss, once, in order
    assert frame["epoch"] == pytest.approx(frame["step"] * 16 / 192, abs=1e-4)


def test_set_changes_lr_and_batch_live_and_reset_starts_again(client):
    with client.websocket_connect(URL) as ws:
        configured(ws)
        send(ws, type="set", train={"lr": 0.01, "batch_size": 8, "optimizer": "sgd", "schedule": "cosine"})
        frame = ws.receive_json()
        assert (frame["lr"], frame["batch_size"], frame["optimizer"]) == (0.01, 8, "sgd")
        assert (frame["schedule"], frame["lr_now"]) == ("cosine", 0.01)  # step 0: the cosine's top
        send(ws, type="ack", step=0)
        send(ws, type="step")
        frame = ws.receive_json()
        send(ws, type="ack", step=1)
        assert frame["epoch"] == pytest.approx(8 / 192, abs=1e-4)
        send(ws, type="reset")
        frame = ws.receive_json()
        assert frame["step"] == 0 and frame["clear"]


def test_a_drawing_is_read_by_the_live_network_and_the_shipped_one(client):
    digit = load().validation
    image = digit.images[1, 0]
    with client.websocket_connect(URL) as ws:
        configured(ws)
        send(ws, type="test", ink=ink(image))
        answer = ws.receive_json()
    assert answer["type"] == "test" and answer["step"] == 0
    assert answer["shipped"]["prediction"] == int(digit.labels[1])
    assert sum(answer["live"]["probabilities"]) == pytest.approx(1, abs=1e-3)


@pytest.mark.parametrize(
    ("message", "loc", "words"),
    [
        ({"type": "configure", "config": {"digits": 10}}, ["config", "digits"], "100"),
        ({"type": "configure", "config": {"digits": 20_000}}, ["config", "digits"], "10,000"),
        ({"type": "configure", "config": {"batch_size": 1000}}, ["config", "batch_size"], "128"),
        ({"type": "configure", "config": {"optimizer": "newton"}}, ["config", "optimizer"], "adam"),
        ({"type": "set", "train": {"lr": -1}}, ["train", "lr"], "more than 0"),
        ({"type": "set", "train": {"batch_size": 500}}, ["train", "batch_size"], "128"),
        ({"type": "set", "train": {"schedule": "warmup"}}, ["train", "schedule"], "cosine"),
        ({"type": "set", "train": {"momentum": 0.9}}, ["train", "momentum"], ""),
        ({"type": "test", "ink": "!!"}, ["ink"], "base64url"),
        ({"type": "test", "ink": "AAAA"}, ["ink"], "784"),
        ({"type": "test", "ink": ink(np.zeros((28, 28)))}, ["ink"], "no ink"),
        ({"type": "test"}, ["ink"], ""),
        ({"type": "fly"}, ["type"], "test"),
    ],
)
def test_bad_messages_are_errors_with_their_place_and_the_run_goes_on(client, message, loc, words):
    with client.websocket_connect(URL) as ws:
        configured(ws)
        ws.send_text(json.dumps(message))
        error = ws.receive_json()
        assert error["type"] == "error" and error["loc"] == loc and words in error["msg"], error
        send(ws, type="step")
        assert ws.receive_json()["step"] == 1


def test_before_configure_play_is_an_error(client):
    with client.websocket_connect(URL) as ws:
        send(ws, type="play")
        assert "configure a run first" in ws.receive_json()["msg"]


def test_live_sessions_are_bounded_per_worker_with_1013():
    client = small_client(max_lenet_live_sessions=1)
    with client.websocket_connect(URL) as first:
        configured(first)
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(URL) as second:
                second.receive_text()
        assert refused.value.code == 1013 and "live LeNet-5" in refused.value.reason
    with client.websocket_connect(URL) as again:  # the first one gone, its place is free
        configured(again)


def test_live_sessions_are_bounded_per_address_with_1013():
    client = small_client(max_lenet_live_per_address=1)
    with client.websocket_connect(URL):
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(URL) as second:
                second.receive_text()
        assert refused.value.code == 1013


def test_the_pages_defaults_are_the_streams():
    """static/js/lenet_live.js's TABLE starts a run with LiveConfigIn's defaults (the page's URL
    leaves a default out): the two must not drift."""
    source = (Path(__file__).parents[2] / "deepviz" / "app" / "static" / "js" / "lenet_live.js").read_text()
    table = dict(re.findall(r'^  (\w+): .*?param\.\w+\((?:\[[^\]]*\], |[^,]+, [^,]+, )"([^"]+)"', source, re.M))
    defaults = LiveConfigIn()
    assert table == {"digits": str(defaults.digits), "opt": defaults.optimizer, "lr": f"{defaults.lr:g}",
                     "batch": str(defaults.batch_size), "schedule": defaults.schedule}  # fmt: skip
