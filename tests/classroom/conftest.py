"""The classroom tests' harness: a real Redis (Debian's redis-server, installed by the test
command) on a free loopback port, never a mock; brokers of both kinds for the contract tests;
clients of the app with a broker of either kind."""

from __future__ import annotations

import asyncio
import time

import pytest

from deepviz.app.classroom.memory import InProcessBroker
from deepviz.app.classroom.redis_broker import RedisBroker
from tests.services import RedisServer, free_port  # noqa: F401 (the classroom tests import them from here too)

SECRET = "a-test-secret-of-at-least-32-characters"


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(params=["in-process", "redis"])
def brokers(request):
    """make(ttl) -> (broker, broker of another worker): for Redis, two brokers on one Redis
    (two workers, or two instances); in process, the same broker twice (one worker)."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    made = []

    def make(ttl: float = 60.0):
        if url is None:
            broker = InProcessBroker(ttl)
            return broker, broker
        pair = RedisBroker(url, ttl), RedisBroker(url, ttl)
        made.extend(pair)
        return pair

    make.kind = request.param
    return make


class Collector:
    """A Listener that keeps what it is sent."""

    def __init__(self):
        self.events: list[tuple[int, str, str]] = []
        self.was_lost = asyncio.Event()
        self.arrived = asyncio.Event()

    def deliver(self, seq: int, kind: str, text: str) -> None:
        self.events.append((seq, kind, text))
        self.arrived.set()

    def lost(self) -> None:
        self.was_lost.set()

    async def wait_for(self, count: int, seconds: float = 5.0) -> list[tuple[int, str, str]]:
        deadline = time.monotonic() + seconds
        while len(self.events) < count:
            self.arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{len(self.events)} events of {count}: {self.events}")
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except TimeoutError:
                pass
        return self.events


@pytest.fixture(params=["in-process", "redis"])
def make_client(request):
    """make_client(**settings) -> a TestClient (use it in `with`: one event loop for every
    request and WebSocket) of an app whose classes are in process or in a real Redis."""
    from fastapi.testclient import TestClient

    from deepviz.app.main import create_app
    from deepviz.app.settings import Settings

    redis_settings = {}
    if request.param == "redis":
        redis_settings = {"redis_url": request.getfixturevalue("redis_url"), "classroom_secret": SECRET}

    def make(**limits) -> TestClient:
        return TestClient(create_app(Settings(**redis_settings, **limits)))

    return make


class Class:
    """A class seen from a test: its code, the instructor's headers, helpers to join."""

    def __init__(self, client, **body):
        response = client.post("/api/v1/classes", **body)
        assert response.status_code == 201, response.text
        self.client, self.out = client, response.json()
        self.code = self.out["code"]
        self.url = f"/api/v1/classes/{self.code}"
        self.instructor = {"Authorization": f"Bearer {self.out['instructor_token']}"}

    def join(self, name: str = "") -> dict:
        response = self.client.post(f"{self.url}/join", json={"name": name})
        assert response.status_code == 201, response.text
        return response.json()

    def state(self, page: str = "/backprop", **state: str) -> int:
        response = self.client.post(f"{self.url}/state", json={"page": page, "state": state}, headers=self.instructor)
        assert response.status_code == 200, response.text
        return response.json()["seq"]

    def follow(self, student: dict):
        return self.client.websocket_connect(f"{self.url}/follow?student_token={student['student_token']}")


def bearer(student: dict) -> dict:
    return {"Authorization": f"Bearer {student['student_token']}"}


# -- the ready-made questions' tests (test_questions*.py): one app and one class a module ------


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from deepviz.app.main import create_app
    from deepviz.app.settings import Settings

    with TestClient(create_app(Settings())) as c:
        yield c


@pytest.fixture(scope="module")
def lesson(client):
    return Class(client)


def ask(lesson: Class, page: str, **state: str):
    """The instructor asks for the ready-made questions of `page` in `state`."""
    return lesson.client.post(f"{lesson.url}/questions", json={"page": page, "state": state}, headers=lesson.instructor)


def asked(lesson: Class, page: str, **state: str) -> list[dict]:
    response = ask(lesson, page, **state)
    assert response.status_code == 200, response.text
    return response.json()
