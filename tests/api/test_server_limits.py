"""Limits that only a real server can show, since they live below the app, in uvicorn's HTTP
protocol (app/server.py): request heads bounded in bytes and in time, connections per client
address; and settings checked before it serves. Each holds however the server is started:
`deepviz serve`, or plain `uvicorn deepviz.app.main:app` as people also run it. Clients connect from
127.0.0.3, so that they are not the trusted proxy address."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
ATTACKER = "127.0.0.3"
STARTS = {
    "deepviz serve": lambda port: [sys.executable, "-m", "deepviz", "serve", "--port", str(port)],
    "uvicorn deepviz.app.main:app": lambda port: [
        sys.executable,
        "-m",
        "uvicorn",
        "deepviz.app.main:app",
        "--port",
        str(port),
    ],
}


@contextmanager
def server_env(start: str, env: dict):
    """A real server started as ``start`` with ``env``; yields its port and pid."""
    port = free_port()
    command = STARTS[start](port)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(process.stderr.read().decode(errors="replace")) from None
                time.sleep(0.1)
        yield port, process.pid
    finally:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def server(start: str, **settings):
    env = {**os.environ, **{f"DEEPVIZ_{k.upper()}": str(v) for k, v in settings.items()}}
    with server_env(start, env) as (port, _):
        yield port


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(ATTACKER, 0))
    return s


def read_all(s: socket.socket) -> bytes:
    out = b""
    try:
        while chunk := s.recv(4096):
            out += chunk
    except OSError:
        pass
    return out


@pytest.fixture(scope="module", params=list(STARTS))
def port(request):
    with server(request.param, header_timeout=1, body_timeout=1, max_connections_per_address=8) as port:
        yield port


def test_an_endless_header_gets_431_and_the_server_goes_on(port):
    s = connect(port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
    try:
        for _ in range(100):  # 100 KB of one header value, and no end in sight
            s.sendall(b"a" * 1000)
    except OSError:
        pass  # closed by the server: what we expect
    assert read_all(s).startswith(b"HTTP/1.1 431 ")
    assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200


def test_a_request_head_that_takes_too_long_gets_408(port):
    s = connect(port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and then nothing: slowloris, or a silent socket
    started = time.monotonic()
    answer = read_all(s)
    assert answer.startswith(b"HTTP/1.1 408 ") and 0.9 < time.monotonic() - started < 4


def test_a_body_that_takes_too_long_gets_408_and_the_connection_closes(port):
    s = connect(port)
    s.sendall(
        b"POST /api/v1/graph HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    started = time.monotonic()
    answer = read_all(s)  # returns when the server closes the connection
    assert answer.startswith(b"HTTP/1.1 408 ") and b"longer than 1 s" in answer and time.monotonic() - started < 3


def test_a_silent_socket_is_closed_after_the_head_timeout(port):
    s = connect(port)
    started = time.monotonic()
    assert read_all(s).startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 4


def test_a_kept_alive_connection_serves_request_after_request(port):
    s = connect(port)
    for _ in range(3):
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while not answer.endswith(b'{"status":"ok"}'):  # the head and the body may come apart
            answer += s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 ")
    s.close()


def test_connections_past_the_per_address_cap_are_closed_at_once(port):
    sockets = [connect(port) for _ in range(20)]
    time.sleep(0.3)
    closed = 0
    for s in sockets:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass  # still open
        except OSError:
            closed += 1
    assert closed >= 12  # 8 of 20 may stay open (one worker)
    for s in sockets:
        s.close()
    time.sleep(0.3)
    assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200


@pytest.mark.parametrize("start", list(STARTS))
def test_a_bad_setting_stops_the_server_with_one_line(start):
    env = {**os.environ, "DEEPVIZ_MAX_WS_RATE": "nan"}
    out = subprocess.run(STARTS[start](free_port()), cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "deepviz: DEEPVIZ_MAX_WS_RATE='nan': input should be a finite number" in out.stderr


def _threads(extra_env: dict) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    with server_env("uvicorn deepviz.app.main:app", {**env, **extra_env}) as (port, pid):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        return len(os.listdir(f"/proc/{pid}/task"))


def test_plain_uvicorn_runs_numpy_on_one_blas_thread():
    """OpenBLAS's idle threads spin: under load they burnt three quarters of the CPU. The app
    limits them itself, so `uvicorn deepviz.app.main:app` gets one BLAS thread too."""
    default, one, two = _threads({}), _threads({"OPENBLAS_NUM_THREADS": "1"}), _threads({"OPENBLAS_NUM_THREADS": "2"})
    assert default == one < two
