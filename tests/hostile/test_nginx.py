"""deploy/nginx.conf: valid as shipped, rendered for the tests without drifting from it, and
doing what its comments say: static files with exactly the app's security headers, a body
limit equal to the app's, JSON refusals, the client's real address passed on, a dead
instance skipped."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from deepviz.app.middleware import HEADERS
from deepviz.app.settings import Settings
from tests.hostile.wire import Response, Target, fetch, json_body, read_all, run_async
from tests.services import CONF, NGINX, STATIC, render_nginx_conf

pytestmark = pytest.mark.hostile
SHIPPED = CONF.read_text()
SECURITY = {name.decode(): value.decode() for name, value in HEADERS}


def get(target, path: str, local: str = "127.0.0.5", method: str = "GET", body: bytes = b"", headers=()):
    return run_async(fetch(target, method, path, body, headers, local, timeout=10))


def test_the_shipped_file_passes_nginx_t_with_only_its_files_moved(tmp_path):
    """As shipped (port 80, 127.0.0.1:8001/8002, /srv/deepviz/deepviz/app/static/), only the pid, logs
    and temp folders moved into a scratch folder: nginx -t accepts it."""
    (tmp_path / "temp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(SHIPPED, listen="80", upstreams=["127.0.0.1:8001", "127.0.0.1:8002"],
                                      static_dir=Path("/srv/deepviz/deepviz/app/static"), prefix=tmp_path))  # fmt: skip
    test = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert test.returncode == 0, test.stderr
    assert "test is successful" in test.stderr


@pytest.mark.parametrize(
    "broken",
    [
        SHIPPED.replace("listen 80 default_server;", "listen 8080 default_server;"),
        SHIPPED.replace("server 127.0.0.1:8002", "server 127.0.0.1:9002"),
        SHIPPED.replace("alias /srv/deepviz/deepviz/app/static/;", "alias /opt/static/;"),
        SHIPPED.replace("scgi_temp_path", "# scgi_temp_path"),
        SHIPPED.replace("pid /run/deepviz-nginx.pid;", "pid /run/deepviz-nginx.pid;\npid /run/again.pid;"),
        SHIPPED + "\n# a new path nobody renders\nhttp { client_body_temp_path /var/tmp/x; }\n",
    ],
    ids=["port", "upstream", "static", "temp-path", "pid-twice", "new-path"],
)
def test_rendering_fails_loudly_when_the_shipped_file_changes_under_it(broken, tmp_path):
    with pytest.raises(ValueError, match="rendering nginx.conf"):
        render_nginx_conf(broken, listen="127.0.0.1:1", upstreams=["127.0.0.1:2", "127.0.0.1:3"],
                          static_dir=STATIC, prefix=tmp_path)  # fmt: skip


def test_rendering_changes_ports_and_paths_only():
    prefix = Path(tempfile.gettempdir()) / "x"
    text = render_nginx_conf(SHIPPED, listen="127.0.0.1:1", upstreams=["127.0.0.1:2", "127.0.0.1:3"],
                             static_dir=STATIC, prefix=prefix)  # fmt: skip
    changed = [(a, b) for a, b in zip(SHIPPED.splitlines(), text.splitlines()) if a != b]
    assert len(SHIPPED.splitlines()) == len(text.splitlines())
    assert len(changed) == 13  # listen, 2 upstreams, alias, pid, 3 logs, 5 temp paths: nothing else
    for _, new in changed:
        assert re.search(r"127\.0\.0\.1:[123]\b|" + re.escape(str(prefix)) + "|" + re.escape(str(STATIC)), new), new


def test_the_body_limit_is_the_apps():
    limit = int(re.search(r"^\s*client_max_body_size (\d+);", SHIPPED, re.M).group(1))
    assert limit == Settings().max_body_bytes
    assert f"larger than {limit} bytes" in SHIPPED  # nginx's own 413 says the same number


def test_static_files_from_nginx_carry_exactly_the_apps_headers(front):
    instance = front.servers[0]
    for path in ["/static/css/deepviz.css", "/static/js/api.js", "/static/favicon.svg", "/static/no/such.js"]:
        by_nginx = get(front.target, path)
        by_app = get(Target("bare", "127.0.0.1", instance.port), path)
        assert by_nginx.status == by_app.status, path
        for name, value in SECURITY.items():
            assert by_nginx.headers.get(name) == value, (path, name, by_nginx.headers.get(name))
            assert by_app.headers.get(name) == value, (path, name)
        if by_app.status == 200:
            assert by_nginx.body == by_app.body
            assert by_nginx.headers["content-type"].split(";")[0] in {
                by_app.headers["content-type"].split(";")[0], "application/javascript", "image/svg+xml"
            }  # fmt: skip
            # served by nginx itself: its ETag is "mtime-size" in hex, Starlette's an md5
            assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', by_nginx.headers["etag"]), by_nginx.headers["etag"]
    raw = run_async(_raw_headers(front.target, "/static/css/deepviz.css"))
    for name in SECURITY:
        assert raw.lower().count(f"\r\n{name}:".encode()) == 1, name  # each exactly once


async def _raw_headers(target, path: str) -> bytes:
    reader, writer = await asyncio.open_connection(target.host, target.port, local_addr=("127.0.0.5", 0))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(read_all(reader), 10)
    writer.close()
    return data.partition(b"\r\n\r\n")[0]


def test_the_app_sees_the_students_address_not_nginxs(front):
    marker = f"/probe-{uuid.uuid4().hex}"
    assert get(front.target, marker, local="127.0.0.7").status == 404
    deadline, lines = time.monotonic() + 5, []
    while not lines and time.monotonic() < deadline:  # the access log line follows the answer
        time.sleep(0.05)
        lines = [json.loads(line) for s in front.servers for line in s.log.read_text().splitlines()
                 if line.startswith("{") and marker in line]  # fmt: skip
    assert [line["client"] for line in lines] == ["127.0.0.7"]


def test_nginx_refusals_are_json_in_the_apps_shape(front):
    body, headers = json_body({"expression": "x", "values": {"x": 1}})
    too_big = get(front.target, "/api/v1/graph", method="POST", body=b" " * 3_000_001, headers=headers)
    assert too_big.status == 413
    assert json.loads(too_big.body)["detail"][0]["type"] == "too_large"
    huge_header = get(front.target, "/healthz", headers=(("X-Big", "a" * 9000),))
    assert huge_header.status == 431 and json.loads(huge_header.body)["detail"][0]["loc"] == ["header"]
    # over the per-address rate (bursts of 500, then 100 a second): 429 with JSON and Retry-After
    refused = run_async(_flood(front.target))
    assert refused.headers.get("retry-after") == "1"
    assert json.loads(refused.body)["detail"][0]["type"] == "too_many_requests"
    other = get(front.target, "/api/v1/graph", local="127.0.0.9", method="POST", body=body, headers=headers)
    assert other.status == 200  # another address is not refused


async def _flood(target) -> Response:
    """Quick requests from 127.0.0.8, 100 at a time, until one is refused (at most 5 s): that answer."""
    deadline, refused, passed = time.monotonic() + 5, [], []

    async def worker() -> None:
        while time.monotonic() < deadline and not refused:
            answer = await fetch(target, "GET", "/api/v1/kernels", local="127.0.0.8", timeout=10)
            (refused if answer.status == 429 else passed).append(answer)

    await asyncio.gather(*[worker() for _ in range(100)])
    assert refused, f"no 429 after {len(passed)} requests"
    assert len(passed) >= 500, len(passed)  # the burst a lecture hall behind one address may need
    return refused[0]


def test_a_dead_instance_is_skipped(front):
    """With one instance dead, every request is answered by the other. nginx marks an instance
    that failed once unavailable for fail_timeout (10 s): an attack run before this test may have
    left the live one marked, so the first success may take that long; then every request must
    succeed."""
    body, headers = json_body({"expression": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}})
    front.servers[0].stop()
    try:
        deadline = time.monotonic() + 12
        while get(front.target, "/healthz").status != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        for _ in range(10):
            assert get(front.target, "/healthz").status == 200
            assert get(front.target, "/api/v1/graph", method="POST", body=body, headers=headers).status == 200
    finally:
        front.servers[0].start()


def _access_log_lines(front, marker: str, seconds: float = 10) -> list[str]:
    """The lines of nginx's access log that hold `marker`, once there are some (it is buffered:
    flushed every 5 s)."""
    log = front.nginx.prefix / "access.log"
    deadline, lines = time.monotonic() + seconds, []
    while not lines and time.monotonic() < deadline:
        time.sleep(0.2)
        lines = [line for line in log.read_text().splitlines() if marker in line] if log.exists() else []
    return lines


def test_a_class_follower_passes_through_nginx_and_its_token_stays_out_of_the_access_log(front):
    """The follow WebSocket is upgraded through nginx (the app answers it: the front's instances
    share a Redis, so classroom mode is on, and a class that does not exist closes with 4404
    after the handshake); the access log has its path, never its query string, which carries
    the student's token."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    code, token = uuid.uuid4().hex[:6].upper(), f"s.secret-{uuid.uuid4().hex}"

    async def follow() -> int:
        url = f"ws://127.0.0.1:{front.nginx.port}/api/v1/classes/{code}/follow?student_token={token}"
        async with connect(url, open_timeout=10) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        return closed.value.rcvd.code

    assert run_async(follow()) == 4404  # the app's own close: the upgrade went through nginx
    marker = uuid.uuid4().hex
    assert get(front.target, f"/healthz?probe={marker}").status == 200  # other requests keep their query
    assert len(_access_log_lines(front, marker)) == 1
    lines = _access_log_lines(front, f"/api/v1/classes/{code}/follow")
    assert len(lines) == 1 and f'"GET /api/v1/classes/{code}/follow HTTP/1.1" 101 ' in lines[0], lines
    assert token not in (front.nginx.prefix / "access.log").read_text()
    assert token not in (front.nginx.prefix / "error.log").read_text()
