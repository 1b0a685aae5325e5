"""What a hosted instance needs: limits on WebSocket sessions (close codes and reasons),
micro-batching that keeps each client's latest frame, metrics, and structured access logs."""

import json
import logging

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from deepviz.app.batcher import compute
from deepviz.app.settings import Settings
from deepviz.lessons.mnist import load
from tests.api.conftest import small_client


@pytest.fixture(scope="module")
def digit():
    test = load().test
    return test.images[0, 0].tolist(), int(test.labels[0])


def test_a_full_server_refuses_new_sessions_with_1013():
    client = small_client(max_ws_connections=1)
    with client.websocket_connect("/api/v1/lenet/stream"):
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/api/v1/lenet/stream") as second:
                second.receive_text()
        assert refused.value.code == 1013 and "full" in refused.value.reason


def test_flooding_frames_closes_the_session_with_1008(digit):
    client = small_client(max_ws_rate=5)
    pixels, _ = digit
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        for i in range(40):
            ws.send_text(json.dumps({"id": i, "pixels": pixels}))
        skipped = 0
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(50):
                skipped += "frame skipped" in ws.receive_json().get("error", {}).get("msg", "")
        assert closed.value.code == 1008 and "frames a second" in closed.value.reason
        assert skipped >= 1  # over the rate, a frame is skipped with a word, so a waiting client goes on


def test_binary_frames_get_an_error_and_the_session_goes_on(client, digit):
    pixels, label = digit
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        ws.send_bytes(b"\x00\x01")
        assert "JSON text" in ws.receive_json()["error"]["msg"]
        ws.send_text(json.dumps({"pixels": pixels}))
        assert ws.receive_json()["prediction"] == label


def test_a_batch_mixes_good_and_bad_frames_and_keeps_their_order(digit):
    pixels, label = digit
    frames = [json.dumps({"id": 1, "pixels": pixels}), "[1, 2]", json.dumps({"id": 3, "pixels": pixels, "target": 7}),
              json.dumps({"id": 4, "pixels": [[0.0] * 28] * 28})]  # fmt: skip
    answers = [json.loads(a) for a in compute(frames, Settings())]
    assert answers[0]["id"] == 1 and answers[0]["prediction"] == label
    assert "error" in answers[1]
    assert answers[2]["target"] == 7 and answers[2]["prediction"] == label
    assert answers[3]["id"] == 4 and answers[3]["prediction"] in range(10)  # a blank 28×28 is still an input


def test_batched_answers_equal_single_ones(digit):
    pixels, _ = digit
    rng = np.random.default_rng(0)
    others = [np.clip(np.array(pixels) + rng.normal(0, 0.1, (28, 28)), 0, 1).tolist() for _ in range(5)]
    batch = [json.loads(a) for a in compute([json.dumps({"pixels": p}) for p in others], Settings())]
    single = [json.loads(compute([json.dumps({"pixels": p})], Settings())[0]) for p in others]
    for b, s in zip(batch, single):
        assert b["prediction"] == s["prediction"]
        assert np.allclose(b["probabilities"], s["probabilities"], atol=1e-5)


def test_metrics_count_requests_frames_and_sessions(client, digit):
    pixels, _ = digit
    client.get("/healthz")
    client.get("/no/such/page")
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        ws.send_text(json.dumps({"pixels": pixels}))
        ws.receive_json()
    text = client.get("/metrics").text
    assert 'deepviz_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="unmatched",status="404"' in text  # never the raw path
    assert "deepviz_frames_total" in text and "deepviz_websocket_sessions 0" in text
    assert 'deepviz_request_seconds_bucket{le="+Inf",route="/healthz"}' in text
    client.request("BREW", "/healthz")  # a made-up method must not grow the label set
    assert 'method="other"' in client.get("/metrics").text and "BREW" not in client.get("/metrics").text


def test_each_request_is_logged_as_one_json_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="deepviz.access"):
        client.get("/healthz")
    line = json.loads(caplog.records[-1].getMessage())
    assert line["path"] == "/healthz" and line["status"] == 200 and line["route"] == "/healthz" and line["ms"] >= 0
