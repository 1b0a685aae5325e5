"""A lecture hall training at once: N students each run the training lab's default network
(XOR, 2-8-8-1, tanh, Adam) against a real ``deepviz serve --workers 2`` on this machine, and
each asks for 10 frames a second. For each N of a ramp: frame latency p50 and p99 (from the
``step`` message to its frame), frames served per second, errors and closed sessions; then the
largest N served with p99 ≤ 100 ms and nothing lost.

    .venv/bin/python bench/train_load.py [--sessions 25,50,100,150,200] [--rate 10] [--seconds 10] [--workers 2]

Each session speaks the stream protocol of docs/training.md: ``configure`` (answered by
``model`` and a first frame), then a ``step`` every 1/rate seconds, at most one in flight (a
step still unanswered at the next tick is not sent twice, and counts as "late"), and an
``ack`` for each frame, as the page sends when it has drawn one. The server's per-address session cap
(``max_ws_per_address``, per worker) is for one student's browser, so the sessions connect from
several loopback addresses (127.0.0.2, 127.0.0.3, …; ``--per-address`` sessions each), as a
lecture hall's machines would: no setting is changed. Traffic stays on loopback; every loop is
bounded by --seconds. The load generator shares the server's 2 cores: its CPU is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile_ms, server  # noqa: E402

# The run a student starts with (docs/training.md): 200 XOR points, 2-8-8-1 tanh, Adam.
CONFIG = {
    "data": {"name": "xor", "points": 200, "noise": 0.1, "test_fraction": 0.3, "seed": 0, "custom": None},
    "model": {"hidden": [8, 8], "activation": ["tanh", "tanh"], "dropout": 0.0},
    "train": {"optimizer": "adam", "lr": 0.03, "momentum": 0.9, "batch_size": 10, "l2": 0.0,
              "schedule": "constant", "damping": 0.001},
    "seed": 0,
}  # fmt: skip
WARMUP = 2.0  # seconds: frames asked for before this (sessions still connecting over the first) are not counted
GOAL_MS = 100.0


@dataclass
class Level:
    """What N sessions saw together."""

    sessions: int
    counting_from: float  # perf_counter time: what is asked for before it is not counted
    latencies: list[float] = field(default_factory=list)  # seconds, step → frame, after the warm-up
    frames: int = 0  # frames received after the warm-up
    late: int = 0  # ticks skipped because the previous step was still unanswered
    errors: int = 0  # {"type": "error"} messages
    closes: dict[str, int] = field(default_factory=dict)  # how sessions ended early: close code or exception
    started: int = 0  # sessions that got their model and first frame

    def closed(self, why: str) -> None:
        self.closes[why] = self.closes.get(why, 0) + 1


async def session(url: str, address: str, rate: float, begin: float, until: float, level: Level) -> None:
    """One student: configure the default run, then ask for a step every 1/rate seconds."""
    import websockets

    await asyncio.sleep(max(0.0, begin - time.perf_counter()))
    try:
        async with websockets.connect(url, max_size=2**23, compression=None, open_timeout=30, proxy=None,
                                      local_addr=(address, 0)) as ws:  # fmt: skip
            await ws.send(json.dumps({"type": "configure", "config": CONFIG}))
            while (await _message(ws, level))["type"] != "frame":  # the model, then the first frame
                pass
            await ws.send('{"type": "ack"}')
            level.started += 1
            sent_at: float | None = None

            async def receive() -> None:
                nonlocal sent_at
                async for raw in ws:
                    kind = _kind(raw)
                    if kind == "error":  # e.g. over the message rate: the step was skipped, not queued
                        level.errors += 1
                        sent_at = None
                    elif kind == "frame" and sent_at is not None:
                        if sent_at >= level.counting_from:
                            level.latencies.append(time.perf_counter() - sent_at)
                            level.frames += 1
                        sent_at = None
                        await ws.send('{"type": "ack"}')  # drawn, as the page says of every frame

            receiver = asyncio.create_task(receive())
            tick = time.perf_counter()
            while tick < until and not receiver.done():
                if sent_at is None:
                    sent_at = time.perf_counter()
                    await ws.send('{"type": "step"}')
                elif tick >= level.counting_from:
                    level.late += 1
                tick += 1 / rate
                await asyncio.sleep(max(0.0, tick - time.perf_counter()))
            if receiver.done():  # the server ended the session
                receiver.result()
                level.closed("closed by the server")
            receiver.cancel()
    except websockets.ConnectionClosed as closed:
        level.closed(f"close {closed.rcvd.code if closed.rcvd else 'abnormal'}")
    except (OSError, TimeoutError, websockets.InvalidHandshake) as error:
        level.closed(type(error).__name__)


async def _message(ws, level: Level) -> dict:
    message = json.loads(await ws.recv())
    if message.get("type") == "error":
        level.errors += 1
        raise RuntimeError(f"configure refused: {message.get('msg')}")
    return message


def _kind(raw: str | bytes) -> str:
    """The message's type, read from its start: a frame is tens of kilobytes of JSON, and
    parsing each whole would make the load generator, not the server, the bottleneck."""
    head = raw[:40] if isinstance(raw, str) else raw[:40].decode(errors="replace")
    for kind in ("frame", "error", "model"):
        if f'"type": "{kind}"' in head or f'"type":"{kind}"' in head:
            return kind
    return str(json.loads(raw).get("type"))


async def run_level(url: str, sessions: int, args) -> Level:
    start = time.perf_counter()
    level = Level(sessions, counting_from=start + WARMUP)
    until = start + args.seconds
    spread = min(1.0, args.seconds / 4)  # sessions connect over the first second, not all at once
    tasks = [
        session(url, f"127.0.0.{2 + i // args.per_address}", args.rate, start + spread * i / sessions, until, level)
        for i in range(sessions)
    ]
    await asyncio.gather(*tasks)
    return level


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server and its children (the workers), in seconds."""
    total = 0
    for p in [str(pid), *Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def report(level: Level, args, server_cpu: float, client_cpu: float) -> str:
    window = args.seconds - WARMUP
    p50, p99 = percentile_ms(level.latencies, 50), percentile_ms(level.latencies, 99)
    closes = ", ".join(f"{n} {why}" for why, n in sorted(level.closes.items())) or "none"
    return (
        f"{level.sessions:5d} sessions ({level.started} started)  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
        f"frames {level.frames / window:7.0f}/s of {level.sessions * args.rate:g} wanted  late {level.late}  "
        f"errors {level.errors}  closes: {closes}  CPU s/s: server {server_cpu / args.seconds:.2f} "
        f"({1e3 * server_cpu / max(level.frames * args.seconds / window, 1):.2f} ms a frame), "
        f"load generator {client_cpu / args.seconds:.2f}; load average {os.getloadavg()[0]:.1f}"
    )


def served(level: Level) -> bool:
    """Whether every session started, nothing was lost, and p99 stayed within the goal."""
    return (level.started == level.sessions and not level.errors and not level.closes
            and level.frames > 0 and percentile_ms(level.latencies, 99) <= GOAL_MS)  # fmt: skip


def main(argv: list[str] | None = None) -> list[Level]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="25,50,100,150,200", help="the ramp: numbers of sessions, in order")
    parser.add_argument("--rate", type=float, default=10, help="frames a second each session asks for")
    parser.add_argument("--seconds", type=float, default=10, help="each level's duration")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--per-address", type=int, default=20, help="sessions per loopback source address")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a server setting for the run, e.g. train_threads=1 (DEEPVIZ_TRAIN_THREADS)")  # fmt: skip
    args = parser.parse_args(argv)
    ramp = [int(n) for n in args.sessions.split(",")]
    if max(ramp) > 250 * args.per_address:
        parser.error("not enough loopback addresses: raise --per-address")

    levels = []
    print(f"training sessions (XOR 2-8-8-1, Adam) asking {args.rate:g} frames/s each, {args.seconds:g} s a level, "
          f"{args.workers} worker(s), load generator on the same cores; latency: step → frame, "
          f"after {WARMUP:g} s of warm-up", flush=True)  # fmt: skip
    env = {f"DEEPVIZ_{name.upper()}": value for name, value in (s.split("=", 1) for s in args.set)}
    if env:
        print("  settings: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    with server(args.workers, env) as (port, process):
        url = f"ws://127.0.0.1:{port}/api/v1/train/stream"
        for n in ramp:
            server_cpu, client_cpu = cpu_seconds(process.pid), time.process_time()
            level = asyncio.run(run_level(url, n, args))
            server_cpu, client_cpu = cpu_seconds(process.pid) - server_cpu, time.process_time() - client_cpu
            levels.append(level)
            print(report(level, args, server_cpu, client_cpu), flush=True)
            time.sleep(1)  # the server closes the last level's sessions
    good = [level.sessions for level in levels if served(level)]
    print(f"largest N served with p99 ≤ {GOAL_MS:g} ms and nothing lost: {max(good) if good else 'none'}")
    return levels


if __name__ == "__main__":
    main()
