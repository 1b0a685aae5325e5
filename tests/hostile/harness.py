"""The hostile suite's harness: real servers (a bare `deepviz serve --workers 2`, and two
instances behind nginx with deploy/nginx.conf rendered for them; each setup has a redis-server
of its own, so that classroom mode is on), what is measured of them (resident memory and CPU
time of their process trees), and run_attack(), which runs one
attack while the honest clients measure, and says what went wrong.

Used by tests/hostile and bench/hostile.py. Everything listens on loopback; every loop is
bounded in count and time; every process started here is stopped by its id.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile.wire import Attack, Context, Outcome, Target, percentile_ms, run_async
from tests.services import (
    CONF,
    PYTHON,
    ROOT,
    Nginx,
    RedisServer,
    Server,
    cpu_seconds,
    is_healthy,
    rss_mb,
    stop_process,
)

MAX_RSS_MB = 2048  # the server's tree must stay under this during any attack
RSS_SLACK = 0.20  # after an attack, memory within 20% of where it was ...
RSS_SLACK_MB = 50  # ... plus 50 MB: allocator arenas and caches warmed by the first large request
MAX_P99_MS = 1000  # honest clients' 99th percentile latency, HTTP and WebSocket frames
SETTLE_SECONDS = 10  # after an attack the server is idle again within this, or it is restarted
IDLE_CORES = 0.15  # "idle": the tree uses less than this many cores
CLASSROOM_SECRET = "the-hostile-suite-signs-class-tokens-with-this"


# --- the two setups the attacks run against --------------------------------------------------


class Setup:
    """A running deployment: its Target for clients, and the process trees that are measured."""

    name = ""

    def __init__(self, env: dict[str, str] | None = None):
        self.redis = RedisServer()
        self.env = {"DEEPVIZ_REDIS_URL": self.redis.url, "DEEPVIZ_CLASSROOM_SECRET": CLASSROOM_SECRET, **(env or {})}
        self.workdir = Path(tempfile.mkdtemp(prefix=f"deepviz-hostile-{self.name}-"))
        self.workdir.chmod(0o755)
        self.restarts = 0

    @property
    def target(self) -> Target:
        raise NotImplementedError

    @property
    def roots(self) -> list[int]:
        raise NotImplementedError

    def start(self) -> Setup:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def app_settings(self):
        """The instances' settings: their defaults with this setup's DEEPVIZ_ variables."""
        from deepviz.app.settings import Settings

        return Settings(**{name.removeprefix("DEEPVIZ_").lower(): value for name, value in self.env.items()})

    def context(self, seconds: float) -> Context:
        """The timeouts a client meets: the app's own (nginx's where nginx is in front)."""
        settings = self.app_settings()
        return Context(self.name, seconds, settings.header_timeout, settings.body_timeout, settings.ws_idle_timeout)

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1

    def healthy(self) -> bool:
        return is_healthy(self.target.base)

    def __enter__(self) -> Setup:
        return self.start()

    def __exit__(self, *exc) -> None:
        """Stop everything; its folder (logs, nginx's files) goes too, unless
        HOSTILE_KEEP_LOGS is set, to read the logs after a run."""
        self.stop()
        if not os.environ.get("HOSTILE_KEEP_LOGS"):
            shutil.rmtree(self.workdir, ignore_errors=True)


class Bare(Setup):
    """One `deepviz serve --workers 2`, clients straight at uvicorn."""

    name = "bare"

    def __init__(self, env: dict[str, str] | None = None):
        super().__init__(env)
        self.server = Server(self.workdir, self.env)

    @property
    def target(self) -> Target:
        return Target("bare", "127.0.0.1", self.server.port)

    @property
    def roots(self) -> list[int]:
        return [self.server.process.pid, self.redis.process.pid]

    def start(self) -> Bare:
        self.redis.start()
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.redis.stop()


class Front(Setup):
    """The documented production setup: two `deepviz serve --workers 2` behind nginx."""

    name = "nginx"

    def __init__(self, env: dict[str, str] | None = None):
        super().__init__(env)
        self.servers = [Server(self.workdir, self.env, name=f"deepviz-{i}") for i in (1, 2)]
        self.nginx: Nginx | None = None

    @property
    def target(self) -> Target:
        return Target("nginx", "127.0.0.1", self.nginx.port)

    @property
    def roots(self) -> list[int]:
        return [s.process.pid for s in self.servers] + [self.nginx.process.pid, self.redis.process.pid]

    def context(self, seconds: float) -> Context:
        """nginx meets the client: its client_header_timeout bounds a head; its body timeout
        is between two reads only (a body at 1 byte a second never ends it), so no total; the
        streams pass through, with the app's idle timeout."""
        header = int(re.search(r"^\s*client_header_timeout (\d+)s;", CONF.read_text(), re.M).group(1))
        return Context(self.name, seconds, header, None, self.app_settings().ws_idle_timeout)

    def start(self) -> Front:
        self.redis.start()
        for s in self.servers:
            s.start(wait=False)
        for s in self.servers:
            s.wait()
        self.nginx = Nginx([f"127.0.0.1:{s.port}" for s in self.servers], self.workdir).start()
        return self

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()
        for s in self.servers:
            s.stop()
        self.redis.stop()


SETUPS = {"bare": Bare, "nginx": Front}


# --- honest clients, in a process of their own ---------------------------------------------


class Honest:
    """The honest clients (tests.hostile.honest.honest_main) in a child process, so that the
    attacker's own CPU use in this process does not distort their measurements. One
    measurement at a time: start() then result()."""

    def __init__(self):
        self.process = subprocess.Popen(
            [PYTHON, "-m", "tests.hostile.honest", "honest"], cwd=ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    def start(self, target: Target, seconds: float) -> None:
        self.process.stdin.write(json.dumps({"target": target.as_dict(), "seconds": seconds}) + "\n")
        self.process.stdin.flush()

    def result(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"the honest clients did not report within {timeout:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the honest clients' process died")
        return json.loads(line)

    def measure(self, target: Target, seconds: float) -> dict:
        self.start(target, seconds)
        return self.result(seconds + 60)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            stop_process(self.process)


# --- one attack, measured --------------------------------------------------------------------


class Sampler(threading.Thread):
    """Samples the trees' resident memory every 0.1 s until stopped; keeps the peak."""

    def __init__(self, roots: Sequence[int]):
        super().__init__(daemon=True)
        self.roots, self.peak, self.last = list(roots), 0.0, 0.0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.last = rss_mb(self.roots)
            self.peak = max(self.peak, self.last)
            self.halt.wait(0.1)

    def stop(self) -> float:
        self.halt.set()
        self.join()
        return self.peak


@dataclass
class Report:
    attack: str
    setup: str
    seconds: float
    honest: dict
    outcome: Outcome
    rss_before: float
    rss_peak: float
    rss_after: float
    cpu: float  # CPU seconds of the server's trees during the attack
    settle: float | None  # seconds until idle after the attack; None: not within SETTLE_SECONDS
    busy_after: float  # cores in use when we stopped waiting
    refusal: list[str] = field(default_factory=list)  # what the attacker got that it should not have
    restarted: bool = False

    def p(self, kind: str, q: float) -> float:
        return percentile_ms(self.honest[kind]["latencies"], q)

    @property
    def failures(self) -> int:
        return len(self.honest["http"]["failures"]) + len(self.honest["ws"]["failures"])

    @property
    def error_frames(self) -> int:
        return len(self.honest["ws"]["error_frames"])

    def problems(self) -> list[str]:
        found = []
        for kind in ("http", "ws"):
            failures = self.honest[kind]["failures"]
            if failures:
                found.append(f"honest {kind}: {len(failures)} failure(s), e.g. {sorted(set(failures))[:4]}")
            if not self.honest[kind]["latencies"]:
                found.append(f"honest {kind}: no answer at all")
            elif self.p(kind, 99) > MAX_P99_MS:
                found.append(f"honest {kind}: p99 {self.p(kind, 99):.0f} ms > {MAX_P99_MS} ms")
        if self.error_frames:
            found.append(f"honest ws: {self.error_frames} error frame(s), e.g. {self.honest['ws']['error_frames'][:2]}")
        if self.rss_peak >= MAX_RSS_MB:
            found.append(f"server memory peaked at {self.rss_peak:.0f} MB (limit {MAX_RSS_MB} MB)")
        limit = self.rss_before * (1 + RSS_SLACK) + RSS_SLACK_MB
        if self.rss_after > limit:
            found.append(f"server memory {self.rss_after:.0f} MB after the attack, {self.rss_before:.0f} MB before "
                         f"(allowed: +{RSS_SLACK:.0%} + {RSS_SLACK_MB} MB = {limit:.0f} MB)")  # fmt: skip
        if self.settle is None:
            found.append(f"the server was still busy ({self.busy_after:.2f} cores) {SETTLE_SECONDS} s after the "
                         "attack ended: restarted")  # fmt: skip
        return found + [f"attacker: {r}" for r in self.refusal]

    def summary(self) -> str:
        lines = [
            f"{self.attack} against {self.setup} for {self.seconds:g} s",
            f"  honest HTTP p50/p99 {self.p('http', 50):.0f}/{self.p('http', 99):.0f} ms "
            f"({len(self.honest['http']['latencies'])} ok), "
            f"WS p50/p99 {self.p('ws', 50):.0f}/{self.p('ws', 99):.0f} ms "
            f"({len(self.honest['ws']['latencies'])} ok), failures {self.failures}, error frames {self.error_frames}",
            f"  server: CPU {self.cpu:.1f} s, RSS {self.rss_before:.0f} MB before, {self.rss_peak:.0f} MB peak, "
            f"{self.rss_after:.0f} MB after, idle again after "
            + (f"{self.settle:.1f} s" if self.settle is not None else f"> {SETTLE_SECONDS} s (restarted)"),
            f"  attacker: {self.outcome.describe()}",
        ]
        return "\n".join(lines)


def _settle(roots: Sequence[int], limit_mb: float, sampler: Sampler, seconds: float) -> tuple[float | None, float]:
    """Wait (at most ``seconds``) until the trees use < IDLE_CORES over 0.3 s and their
    memory is under ``limit_mb``. Returns (seconds waited or None, cores in use at the end)."""
    start = time.monotonic()
    last_cpu, last_t, cores = cpu_seconds(roots), start, float("nan")
    while time.monotonic() - start < seconds:
        time.sleep(0.3)
        now_cpu, now = cpu_seconds(roots), time.monotonic()
        cores, last_cpu, last_t = (now_cpu - last_cpu) / (now - last_t), now_cpu, now
        if cores < IDLE_CORES and sampler.last <= limit_mb:
            return now - start, cores
    return None, cores


def run_attack(attack: Attack, setup: Setup, honest: Honest, seconds: float | None = None) -> Report:
    """Run ``attack`` against ``setup`` for ``seconds`` while the honest clients measure; then
    wait for the server to be idle again (restarting it when it is not, so that what comes
    next is not hurt by what came before)."""
    seconds = attack.ci_seconds if seconds is None else seconds
    if not setup.healthy():
        setup.restart()
    target, roots = setup.target, setup.roots
    before = rss_mb(roots)
    sampler = Sampler(roots)
    sampler.start()
    cpu = cpu_seconds(roots)
    honest.start(target, seconds)
    outcome = run_async(attack.run(target, seconds))
    honest_result = honest.result(seconds + 60)
    cpu = cpu_seconds(roots) - cpu
    limit = before * (1 + RSS_SLACK) + RSS_SLACK_MB
    settle, busy = _settle(roots, limit, sampler, attack.settle_seconds or SETTLE_SECONDS)
    sampler.stop()
    report = Report(attack.name, setup.name, seconds, honest_result, outcome, before, sampler.peak, sampler.last,
                    cpu, settle, busy, attack.refused(outcome, setup.context(seconds)))  # fmt: skip
    if settle is None or not setup.healthy():
        setup.restart()
        report.restarted = True
    return report
