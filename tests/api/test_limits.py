"""The limits that keep one client from hurting the others, each reached on purpose: settings
checked at startup, HEAD wherever GET, request heads and bodies bounded in size and time,
work bounded per worker and per request, the client's departure stopping its work, and the
WebSocket's per-address cap, idle timeout and rate limit on every kind of frame."""

import asyncio
import json
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from deepviz.app.batcher import compute
from deepviz.app.budget import Abandoned, Budget
from deepviz.app.middleware import Work
from deepviz.app.settings import Settings, SettingsError, load_settings
from tests.api.conftest import small_client

DIGIT = [[0.0] * 28] * 12 + [[0.0] * 12 + [1.0] * 4 + [0.0] * 12] * 4 + [[0.0] * 28] * 12


# -- settings -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, value, words",
    [
        ("DEEPVIZ_MAX_BATCH", "0", "greater than or equal to 1"),  # spun a worker
        ("DEEPVIZ_MAX_WS_RATE", "nan", "finite"),  # turned the limit off
        ("DEEPVIZ_MAX_WS_RATE", "-1", "greater than 0"),  # refused everything
        ("DEEPVIZ_MAX_BATH", "3", "unknown setting DEEPVIZ_MAX_BATH"),  # ignored in silence
    ],
)
def test_a_bad_setting_stops_startup_with_one_line_naming_it(monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as stopped:
        load_settings()
    line = str(stopped.value)
    assert words in line and name in line and "\n" not in line


def test_good_settings_load_from_the_environment(monkeypatch):
    monkeypatch.setenv("DEEPVIZ_MAX_DESCENT_STEPS", "500")
    assert load_settings().max_descent_steps == 500


# -- HTTP ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/backprop", "/healthz", "/api/v1/kernels", "/static/css/deepviz.css"])
def test_head_works_wherever_get_does(client, path):
    get, head = client.get(path), client.head(path)
    assert get.status_code == head.status_code == 200
    assert head.content == b"" and head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == get.headers["content-type"]


def test_a_request_head_over_the_limit_gets_431(client):
    answer = client.get("/healthz", headers={"x-padding": "a" * 20_000})
    assert answer.status_code == 431 and "request head" in answer.json()["detail"][0]["msg"]


def test_a_streamed_body_over_the_limit_gets_413_not_400():
    def chunks():
        for _ in range(10):
            yield b"x" * 1000

    answer = small_client(max_body_bytes=5000).post("/api/v1/graph", content=chunks())
    assert answer.status_code == 413 and "larger than 5000 bytes" in answer.json()["detail"][0]["msg"]


def test_a_descent_whose_work_is_over_the_budget_is_refused_before_it_starts(client):
    expression = "+".join(["w"] * 999)  # 2 KB that cost 4 s of CPU before this limit
    answer = client.post("/api/v1/descent", json={"expression": expression, "steps": 100})
    assert answer.status_code == 422
    assert "node evaluations; the limit is 20000" in answer.json()["detail"][0]["msg"]


def test_work_past_its_deadline_is_stopped_with_a_422():
    client = small_client(max_request_seconds=0.01, max_descent_work=10**9)
    expression = "+".join(["w"] * 300)
    answer = client.post("/api/v1/descent", json={"expression": expression, "steps": 100})
    assert answer.status_code == 422 and "longer than 0.01 s" in answer.json()["detail"][0]["msg"]


def test_a_defect_gets_a_json_500_with_the_security_headers(client):
    app = client.app

    @app.get("/boom-for-test", include_in_schema=False)
    def boom() -> dict:
        raise KeyError("a defect")

    answer = TestClient(app, raise_server_exceptions=False).get("/boom-for-test")
    assert answer.status_code == 500 and answer.json()["detail"][0]["type"] == "server_error"
    assert "default-src 'self'" in answer.headers["content-security-policy"]


def _run(middleware, messages):
    """Drive an ASGI middleware with a scripted client; returns what it sent."""
    sent = []
    incoming = asyncio.Queue()
    for m in messages:
        incoming.put_nowait(m)

    async def receive():
        return await incoming.get()

    async def send(message):
        sent.append(message)

    async def main():
        scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "client": ("127.0.0.9", 5000)}
        await middleware(scope, receive, send)

    asyncio.run(main())
    return sent


def test_work_is_refused_with_503_and_retry_after_when_the_worker_is_busy():
    async def app(scope, receive, send):
        pass

    body = [{"type": "http.request", "body": b"{}"}]
    work = Work(app, limit=2, per_address=1, seconds=1.0)
    work.running = 2  # two requests computing already
    sent = _run(work, body)
    assert sent[0]["status"] == 503 and (b"retry-after", b"1") in sent[0]["headers"]
    work.running, work.by_address["127.0.0.9"] = 1, 1  # one slot free, but this address holds its share
    assert _run(work, body)[0]["status"] == 503


def test_a_slow_upload_holds_no_work_slot_while_it_arrives():
    seen = {}

    async def app(scope, receive, send):
        seen["running"] = work.running

    async def main():
        arriving = asyncio.Queue()
        scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "client": ("127.0.0.9", 5000)}
        uploading = asyncio.create_task(work(scope, arriving.get, lambda m: asyncio.sleep(0)))
        await arriving.put({"type": "http.request", "body": b"{", "more_body": True})
        await asyncio.sleep(0.01)
        seen["while_uploading"] = work.running  # a byte a second: no slot taken yet
        await arriving.put({"type": "http.request", "body": b"}", "more_body": False})
        await uploading

    work = Work(app, limit=1, per_address=1, seconds=1.0)
    asyncio.run(main())
    assert seen == {"while_uploading": 0, "running": 1}


def test_the_budget_says_when_the_client_has_gone():
    seen = {}

    async def app(scope, receive, send):
        budget = scope["state"]["budget"]
        body = await receive()
        seen["body"] = body["body"]
        for _ in range(100):  # a computation checking its budget between steps
            await asyncio.sleep(0.005)
            try:
                budget.check()
            except Abandoned:
                seen["stopped"] = True
                return

    client_messages = [{"type": "http.request", "body": b"{}"}, {"type": "http.disconnect"}]
    _run(Work(app, limit=4, per_address=4, seconds=10.0), client_messages)
    assert seen == {"body": b"{}", "stopped": True}


def test_a_budget_past_its_deadline_raises_a_422_error():
    budget = Budget(0.0)
    with pytest.raises(Exception) as over:
        budget.check()
    assert over.value.status == 422 and "longer than 0 s" in over.value.msg


# -- WebSocket ----------------------------------------------------------------------------
def test_streams_over_the_per_address_cap_are_accepted_then_closed_with_1013():
    client = small_client(max_ws_per_address=2)
    with client.websocket_connect("/api/v1/lenet/stream"), client.websocket_connect("/api/v1/lenet/stream"):
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/api/v1/lenet/stream") as third:
                third.receive_text()
        assert refused.value.code == 1013 and "one address" in refused.value.reason
    with client.websocket_connect("/api/v1/lenet/stream") as again:  # the count went back down
        again.send_text(json.dumps({"pixels": DIGIT}))
        assert "prediction" in again.receive_json()


def test_an_idle_stream_is_closed_with_1000():
    client = small_client(ws_idle_timeout=0.2)
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1000 and "no frame for 0.2 s" in closed.value.reason


def test_a_stream_is_idle_only_after_its_last_frame():
    """The idle clock restarts with every frame: a student who draws for longer than the
    timeout is not cut off, and the stream closes once the drawing stops."""
    client = small_client(ws_idle_timeout=1.0)
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        began = time.monotonic()
        while time.monotonic() - began < 2.5:
            ws.send_text(json.dumps({"pixels": DIGIT}))
            assert "prediction" in ws.receive_json()
            time.sleep(0.2)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1000 and "no frame for 1 s" in closed.value.reason


def test_binary_frames_count_against_the_rate_limit():
    client = small_client(max_ws_rate=5)
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        for _ in range(40):
            ws.send_bytes(b"\x00")
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(50):
                ws.receive_text()
        assert closed.value.code == 1008


def test_one_bad_frame_fails_only_itself(monkeypatch):
    good = json.dumps({"id": 1, "pixels": DIGIT})
    nested = "[" * 5000 + "]" * 5000  # a RecursionError in the JSON parser
    answers = [json.loads(a) for a in compute([good, nested, good], Settings())]
    assert "prediction" in answers[0] and "prediction" in answers[2]
    assert "nested too deeply" in answers[1]["error"]["msg"]

    import deepviz.app.batcher

    def broken(request, settings):  # a defect that only some frames reach
        if request.target == 3:
            raise KeyError("a defect")
        return original(request, settings)

    original = deepviz.app.batcher.network_input
    monkeypatch.setattr(deepviz.app.batcher, "network_input", broken)
    frames = [good, json.dumps({"pixels": DIGIT, "target": 3}), good]
    answers = [json.loads(a) for a in compute(frames, Settings())]
    assert "prediction" in answers[0] and "prediction" in answers[2]
    assert answers[1]["error"]["msg"] == "the server failed on this frame"


def test_fastapi_app_is_made_for_plain_uvicorn():
    import deepviz.app.main

    assert isinstance(deepviz.app.main.app, FastAPI)


def test_every_limit_is_its_setting_and_only_its_setting():
    """The schemas held their own copies (a descent of 200 steps was refused at 500)."""
    client = small_client(max_descent_steps=500, max_descent_work=10**6, max_request_seconds=60)
    assert client.post("/api/v1/descent", json={"expression": "(w - 1)^2", "steps": 200}).status_code == 200
    client = small_client(
        max_variables=40, max_expression_length=30_000, max_expression_nodes=30_000, max_graph_values=40_000
    )
    values = {f"v{i}": 1.0 for i in range(40)}  # the schema said 64, the setting 32
    assert client.post("/api/v1/graph", json={"expression": "+".join(values), "values": values}).status_code == 200
    long = "+".join(["x"] * 10_001)  # 20,001 characters: the schema's cap was 20,000
    assert (
        client.post("/api/v1/graph", json={"expression": long, "values": {"x": 1}, "check": False}).status_code == 200
    )
    client = small_client(max_image_side=300, max_request_seconds=60)
    answer = client.post("/api/v1/conv", json={"image": {"preset": "square", "size": 300}, "kernels": ["box"]})
    assert answer.status_code == 200 and len(answer.json()["input"]) == 300
