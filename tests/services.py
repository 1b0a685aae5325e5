"""Real services the tests start and stop: `deepviz serve` instances, nginx (with
deploy/nginx.conf rendered for them) and redis-server, on free loopback ports, each writing into a folder of
its own; and what is measured of a process tree (resident memory, CPU time).

Every process started here is stopped by its id; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = ROOT / "deploy" / "nginx.conf"
STATIC = ROOT / "deepviz" / "app" / "static"  # what nginx serves at /static/


# --- process trees -------------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """A process and all its descendants (through /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return found


def rss_mb(roots: Sequence[int]) -> float:
    """Resident memory (VmRSS) of the process trees, summed, in MB."""
    total = 0
    for p in [p for root in roots for p in tree(root)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def cpu_seconds(roots: Sequence[int]) -> float:
    """User + system CPU time of the process trees' live processes, in seconds."""
    ticks = 0
    for p in [p for root in roots for p in tree(root)]:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_healthy(url: str, processes: Sequence[subprocess.Popen], logs: Sequence[Path], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not is_healthy(url):
        dead = [p for p in processes if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            text = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs if log.exists())
            raise RuntimeError(f"{url} did not become healthy ({len(dead)} process(es) exited):\n{text}")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen | None, seconds: float = 10) -> None:
    """SIGTERM, then SIGKILL, to this process and (if it left them) its own children, by pid."""
    if process is None or process.poll() is not None:
        return
    pids = tree(process.pid)
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        for p in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        process.wait(5)
    for p in pids[1:]:  # workers orphaned by a killed supervisor
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


# --- redis-server ----------------------------------------------------------------------------

REDIS_SERVER = "/usr/bin/redis-server"


class RedisServer:
    """One redis-server process of our own, without persistence (as a department's may run:
    a restart empties it)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        if not Path(REDIS_SERVER).exists():
            raise RuntimeError(f"{REDIS_SERVER} is missing: run scripts/test, which installs Debian's redis-server")
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._pong():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"FLUSHALL\r\n")
            if not s.recv(16).startswith(b"+OK"):
                raise RuntimeError("FLUSHALL failed")


# --- a deepviz instance and nginx ----------------------------------------------------------


class Server:
    """`deepviz serve --workers 2` (python -m deepviz) on a free loopback port, its output in a log file."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None, workers: int = 2, name: str = "deepviz"):
        self.workdir, self.env, self.workers, self.name = workdir, env or {}, workers, name
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, wait: bool = True) -> Server:
        self.port = self.port or free_port()  # a restarted instance keeps its port: nginx points at it
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "deepviz", "serve", "--port", str(self.port), "--workers", str(self.workers)],
                cwd=ROOT, env={**os.environ, **self.env}, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        if wait:
            self.wait()
        return self

    def wait(self) -> None:
        wait_healthy(self.url, [self.process], [self.log])

    def stop(self) -> None:
        stop_process(self.process)


def render_nginx_conf(text: str, *, listen: str, upstreams: Sequence[str], static_dir: Path, prefix: Path) -> str:
    """deploy/nginx.conf with its ports and paths replaced, nothing else: ``listen`` (e.g.
    "127.0.0.1:8080") for port 80, ``upstreams`` for 127.0.0.1:8001 and :8002, ``static_dir``
    for /srv/deepviz/deepviz/app/static/, and the pid file, logs and temp folders inside ``prefix``.
    Raises ValueError when a substitution does not find what it replaces exactly as often as
    expected: the shipped file and what the tests run cannot drift apart silently."""
    if len(upstreams) != 2:
        raise ValueError(f"the shipped config has two upstream instances, not {len(upstreams)}")

    def sub(text: str, pattern: str, value, count: int, what: str) -> str:
        replaced, n = re.subn(pattern, lambda m: m.group(1) + value(m) + m.group(m.lastindex), text, flags=re.M)
        if n != count:
            raise ValueError(f"rendering nginx.conf: {what} found {n} time(s), expected {count} ({pattern!r})")
        return replaced

    text = sub(text, r"^(\s*listen\s+)80(\s+default_server;)", lambda m: listen, 1, "listen 80")
    for i, upstream in enumerate(upstreams):
        pattern = rf"^(\s*server\s+)127\.0\.0\.1:800{i + 1}(\s)"
        text = sub(text, pattern, lambda m, u=upstream: u, 1, f"upstream {i + 1}")
    static = r"^(\s*alias\s+)/srv/deepviz/deepviz/app/static/(;)"
    text = sub(text, static, lambda m: f"{static_dir}/", 1, "the static folder")
    text = sub(text, r"^(\s*pid\s+)\S+(;)", lambda m: str(prefix / "nginx.pid"), 1, "pid")
    # error_log twice: the server's, and the class followers' location's (critical lines only)
    text = sub(text, r"^(\s*error_log\s+)\S+(\s)", lambda m: str(prefix / "error.log"), 2, "error_log")
    text = sub(text, r"^(\s*access_log\s+)\S+(\s)", lambda m: str(prefix / "access.log"), 1, "access_log")
    text = sub(
        text,
        r"^(\s*(?:client_body|proxy|fastcgi|uwsgi|scgi)_temp_path\s+)\S+(;)",
        lambda m: str(prefix / "temp" / m.group(1).split("_temp_path")[0].strip()),
        5,
        "the *_temp_path folders",
    )
    directives = re.sub(r"#.*", "", text).replace(f"{static_dir}/", "")
    leftover = re.findall(r"/var/\S+|/run/\S+|/srv/\S+", directives)
    if leftover:
        raise ValueError(f"rendering nginx.conf: paths outside the prefix remain: {leftover}")
    return text


class Nginx:
    """nginx as an ordinary process (daemon off), everything it writes inside its own folder."""

    def __init__(self, upstreams: Sequence[str], workdir: Path, static_dir: Path = STATIC):
        self.upstreams, self.static_dir = list(upstreams), static_dir
        self.prefix = workdir / "nginx"
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.prefix / "error.log"

    def render(self) -> Path:
        if not os.access(NGINX, os.X_OK):
            raise RuntimeError(f"{NGINX} is missing: run scripts/test, which installs nginx")
        unreadable = [p for p in [self.static_dir, *self.static_dir.rglob("*")] if not p.stat().st_mode & 0o004]
        if unreadable:  # nginx's workers run as nobody
            raise RuntimeError(f"nginx's workers (nobody) cannot read {unreadable[:3]}: make them world-readable")
        (self.prefix / "temp").mkdir(parents=True, exist_ok=True)
        self.prefix.chmod(0o755)
        if any(not p.stat().st_mode & 0o001 for p in self.static_dir.parents):
            # a checkout nobody can walk into (a `mktemp -d` clone is 0700): serve a copy of the
            # static files from the prefix, which is world-readable, instead
            copy = self.prefix / "static"
            shutil.copytree(self.static_dir, copy, dirs_exist_ok=True)
            self.static_dir = copy
        self.port = self.port or free_port()
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            render_nginx_conf(CONF.read_text(), listen=f"127.0.0.1:{self.port}", upstreams=self.upstreams,
                              static_dir=self.static_dir, prefix=self.prefix)
        )  # fmt: skip
        return conf

    def start(self, wait: bool = True) -> Nginx:
        conf = self.render()
        self.process = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(self.prefix), "-e", str(self.log), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.prefix / "stderr.log", "ab"),
        )  # fmt: skip
        if wait:
            wait_healthy(self.url, [self.process], [self.log, self.prefix / "stderr.log"])
        return self

    def stop(self) -> None:
        stop_process(self.process)
