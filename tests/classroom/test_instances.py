"""Two real `deepviz serve --workers 2` processes on different ports sharing one real Redis,
as two instances behind nginx would: the instructor drives on one, students follow on the other.
Then Redis is restarted mid-class (without persistence: everything in it is lost), and what
the followers see is pinned down:

1. their connection closes with 1012 (the instance's subscription to Redis broke): reconnect;
2. while Redis is down, a reconnection closes with 1013 and the API answers 503: try again;
3. once Redis is back, empty, a reconnection closes with 4404: the class is not there yet;
4. the instructor's next state restores the class (its seqs start again from 1), and a
   reconnection gets that state at once. Lost for good: the students' names, the polls and
   their answers; kept: every token (they are signed, not stored), so nobody joins again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.classroom.conftest import SECRET, RedisServer
from tests.services import Server

pytestmark = pytest.mark.anyio


class Instance(Server):
    """`deepviz serve --workers 2` on the shared Redis (tests/services.py), with the calls a
    test makes of it."""

    def __init__(self, name: str, redis_url: str, workdir: Path):
        env = {"DEEPVIZ_REDIS_URL": redis_url, "DEEPVIZ_CLASSROOM_SECRET": SECRET}
        super().__init__(workdir, env=env, workers=2, name=f"classroom-{name}")

    def post(self, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def follow_url(self, code: str, student: dict) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/classes/{code}/follow?student_token={student['student_token']}"


@pytest.fixture(scope="module")
def redis_of_our_own():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def instances(redis_of_our_own, tmp_path_factory):
    """Shared by this module's tests: a test that restarts Redis leaves it running again."""
    workdir = tmp_path_factory.mktemp("classroom")
    made = [Instance(name, redis_of_our_own.url, workdir) for name in ("a", "b")]
    with contextlib.ExitStack() as stack:
        for instance in made:  # started together, waited for together
            instance.start(wait=False)
            stack.callback(instance.stop)
        for instance in made:
            instance.wait()
        yield made


async def receive(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def closed_with(url: str) -> int:
    """Connect, and return the code the server closes with (before sending any event)."""
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value.rcvd.code


def open_class(a, b) -> tuple[str, str, dict]:
    status, made = a.post("/api/v1/classes")
    assert status == 201, made
    status, student = b.post(f"/api/v1/classes/{made['code']}/join", {"name": "Ada"})
    assert status == 201, student
    return made["code"], made["instructor_token"], student


async def test_the_instructor_drives_on_one_instance_and_followers_on_both_follow_in_order(instances):
    a, b = instances
    code, instructor, student = open_class(a, b)
    assert a.post(f"/api/v1/classes/{code}/state", {"page": "/backprop", "state": {"step": "0"}}, instructor)[0] == 200
    async with connect(b.follow_url(code, student)) as on_b, connect(a.follow_url(code, student)) as on_a:
        for ws in (on_b, on_a):  # the current state at once, wherever the follower is
            assert await receive(ws) == {"type": "state", "seq": 1, "page": "/backprop", "state": {"step": "0"}}
        for step in range(1, 31):
            status, out = a.post(f"/api/v1/classes/{code}/state", {"page": "/backprop", "state": {"step": str(step)}},
                                 instructor)  # fmt: skip
            assert (status, out) == (200, {"seq": step + 1})
        for ws in (on_b, on_a):
            received = [await receive(ws) for _ in range(30)]
            assert [m["seq"] for m in received] == list(range(2, 32))
            assert [m["state"]["step"] for m in received] == [str(s) for s in range(1, 31)]
        # a poll asked on one instance, answered on the other, counted on the first
        status, poll = a.post(f"/api/v1/classes/{code}/polls", {"question": "digit?", "kind": "number"}, instructor)
        assert status == 201
        assert (await receive(on_b))["poll_id"] == poll["poll_id"]
        assert b.post(f"/api/v1/classes/{code}/polls/p1/answers", {"value": 7}, student["student_token"])[0] == 200
        result = json.loads(
            urllib.request.urlopen(
                urllib.request.Request(f"{a.url}/api/v1/classes/{code}/polls/p1",
                                       headers={"Authorization": f"Bearer {instructor}"}), timeout=10).read()
        )  # fmt: skip
        assert result["counts"] == [{"value": 7, "count": 1}] and result["answers"][0]["name"] == "Ada"


async def test_a_redis_restart_mid_class_closes_followers_and_the_instructors_next_state_restores_them(
    instances, redis_of_our_own
):
    a, b = instances
    code, instructor, student = open_class(a, b)
    state = f"/api/v1/classes/{code}/state"
    assert a.post(state, {"page": "/backprop", "state": {"step": "1"}}, instructor) == (200, {"seq": 1})
    async with connect(b.follow_url(code, student)) as ws:
        assert (await receive(ws))["seq"] == 1
        redis_of_our_own.stop()
        with pytest.raises(ConnectionClosed) as closed:  # 1. told at once: reconnect
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == 1012
    assert await closed_with(b.follow_url(code, student)) == 1013  # 2. Redis down: try again later
    status, out = a.post(state, {"page": "/backprop", "state": {"step": "2"}}, instructor)
    assert status == 503 and out["detail"][0]["type"] == "unavailable"
    redis_of_our_own.start()  # same port, nothing in it
    assert await closed_with(b.follow_url(code, student)) == 4404  # 3. back, but the class is not there yet
    assert a.post(state, {"page": "/backprop", "state": {"step": "3"}}, instructor) == (200, {"seq": 1})  # 4.
    async with connect(b.follow_url(code, student)) as ws:
        assert await receive(ws) == {"type": "state", "seq": 1, "page": "/backprop", "state": {"step": "3"}}
        assert a.post(state, {"page": "/cnn", "state": {}}, instructor) == (200, {"seq": 2})
        assert (await receive(ws))["page"] == "/cnn"
    status, _ = b.post(f"/api/v1/classes/{code}/polls/p1/answers", {"value": 1}, student["student_token"])
    assert status == 404  # the polls were lost with Redis
