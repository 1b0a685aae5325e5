"""A lecture hall following its instructor (issue 12, docs/classroom.md): one instructor and N
students over two ``deepviz serve --workers 2`` instances sharing one real redis-server
(started here, without persistence). The students join and open their follow WebSockets
(follower i on instance i % 2, the instructor on the first), then:

1. fan-out: the instructor sends ``--changes`` states, one every ``--interval`` seconds;
   latency from the instructor's POST to each follower's message (p50, p99), every state
   received by every follower, in order;
2. a poll: every student answers once, every fifth answers again (a new answer replaces the
   old); the instructor's count must equal the final answers sent, exactly;
3. memory: resident memory of both instances' process trees before and after the followers
   connected, divided by N;
4. a Redis restart: the instructor sends ``--changes`` more states; after half of them Redis
   is stopped, started again ``--down`` seconds later, empty. What the followers saw: their
   closes (by code), reconnections, the states they missed, how long until each followed again.

    .venv/bin/python bench/class_load.py [--followers 500] [--instances 2] [--workers 2]

The app's per-address limits are for one student's machine, so students connect from
several loopback addresses (``--per-address`` each: 127.0.0.2, 127.0.0.3, …), each address
with at most 2 requests in flight (max_work_per_address): no setting is changed unless
``--set`` says so. The load generator shares the servers' cores: its CPU is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.class_clients import Clients, Follower  # noqa: E402
from bench.common import percentile_ms  # noqa: E402
from tests.services import RedisServer, Server, cpu_seconds, free_port, rss_mb  # noqa: E402

SECRET = "the-class-load-bench-secret-of-32-characters-or-more"
OPTIONS = ["a", "b", "c", "d"]


@dataclass
class Result:
    """What the run found; ``report`` prints it."""

    followers: int
    connected: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, POST sent → message received
    lost: int = 0  # states of phase 1 some follower never received (summed over followers)
    out_of_order: int = 0  # followers whose states did not arrive in the order sent
    answers_sent: int = 0
    answers_refused: int = 0
    posts: list[float] = field(default_factory=list)  # seconds each instructor's POST took
    slowest: list[tuple[float, int]] = field(default_factory=list)  # (p99 over the followers, state)
    busy: int = 0  # requests answered 503 "busy" (retried)
    counts_sent: dict = field(default_factory=dict)  # option index → final answers sent
    counts_counted: dict = field(default_factory=dict)  # what the instructor's GET returned
    total_counted: int = 0
    rss_before: float = 0.0
    rss_after: float = 0.0
    restart: dict = field(default_factory=dict)
    cpu: dict = field(default_factory=dict)

    @property
    def counts_exact(self) -> bool:
        return self.counts_sent == self.counts_counted and self.total_counted == self.followers


async def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def last_step(f: Follower) -> str | None:
    return (f.messages[-1][1].get("state") or {}).get("step") if f.messages else None


async def run(args, servers: list[Server], redis: RedisServer) -> Result:
    result = Result(args.followers)
    http = Clients(per_address=2, in_flight=4 * len(servers) * args.workers)
    api = [f"{s.url}/api/v1/classes" for s in servers]
    teacher = "127.0.0.1"
    status, made = await http.post(teacher, api[0], {})
    assert status == 201, made
    code, token = made["code"], made["instructor_token"]
    # the students join, each on its own instance, from its own address
    followers = [Follower(i, f"127.0.0.{2 + i // args.per_address}", "") for i in range(args.followers)]

    async def join(f: Follower) -> None:
        server = servers[f.index % len(servers)]
        status, out = await http.post(f.address, f"{api[f.index % len(servers)]}/{code}/join", {})
        assert status == 201, out
        f.student_id, f.token = out["student_id"], out["student_token"]
        f.url = f"ws://127.0.0.1:{server.port}/api/v1/classes/{code}/follow?student_token={out['student_token']}"

    await asyncio.gather(*(join(f) for f in followers))
    await asyncio.sleep(1)
    pids = [s.process.pid for s in servers]
    result.rss_before = rss_mb(pids)
    stop = asyncio.Event()
    tasks = []
    for f in followers:  # connecting over --ramp seconds, as a hall does
        tasks.append(asyncio.create_task(f.run(stop)))
        await asyncio.sleep(args.ramp / args.followers)
    await wait_for(lambda: all(f.following_since for f in followers), 60)
    result.connected = sum(bool(f.following_since) for f in followers)
    await asyncio.sleep(1)
    result.rss_after = rss_mb(pids)

    async def drive(prefix: str, n: int, on_half=None, until=lambda: True) -> dict[int, tuple[float, int]]:
        """The instructor's states ``prefix0`` … : when each was sent and what the POST answered.
        ``on_half()`` is started (not awaited) after n // 2 states, the instructor going on
        meanwhile; past n states, the instructor goes on until ``until()`` (at most 120 s)."""
        sent, started, deadline = {}, [], time.monotonic() + 120
        i = 0
        while i < n or (not until() and time.monotonic() < deadline):
            if on_half and i == n // 2:
                started.append(asyncio.create_task(on_half()))
            start = time.perf_counter()
            status, _ = await http.post(teacher, f"{api[0]}/{code}/state",
                                        {"page": "/backprop", "state": {"step": f"{prefix}{i}"}}, token)  # fmt: skip
            sent[i] = (start, status)
            if prefix == "f":
                result.posts.append(time.perf_counter() - start)
            i += 1
            await asyncio.sleep(max(0.0, start + args.interval - time.perf_counter()))
        await asyncio.gather(*started)
        return sent

    # 1. fan-out
    cpu = (cpu_seconds(pids), time.process_time(), time.perf_counter())
    sent = await drive("f", args.changes)
    await wait_for(lambda: all(len(f.steps("f")) >= args.changes for f in followers), 10)
    result.cpu["fan-out"] = [cpu_seconds(pids) - cpu[0], time.process_time() - cpu[1], time.perf_counter() - cpu[2]]
    result.cpu["load"] = os.getloadavg()[0]
    for f in followers:
        steps = f.steps("f")
        result.lost += args.changes - len(set(steps))
        result.out_of_order += steps != sorted(steps)
        result.latencies += [f.first_state_at("f", i) - sent[i][0] for i in set(steps)]
    for i in range(args.changes):  # which states were slow, for all or a few?
        times = [t - sent[i][0] for f in followers if (t := f.first_state_at("f", i)) is not None]
        result.slowest.append((percentile_ms(times, 99), i))
    result.slowest.sort(reverse=True)

    # 2. a poll, answered by everyone, every fifth answer replaced
    status, poll = await http.post(teacher, f"{api[0]}/{code}/polls",
                                   {"question": "which?", "kind": "choice", "options": OPTIONS}, token)  # fmt: skip
    assert status == 201, poll
    final: dict[int, int] = {}

    async def answer(f: Follower, value: int) -> None:
        url = f"{api[f.index % len(servers)]}/{code}/polls/{poll['poll_id']}/answers"
        status, _ = await http.post(f.address, url, {"value": value}, f.token)
        result.answers_sent += 1
        if status == 200:
            final[f.index] = value
        else:
            result.answers_refused += 1

    await asyncio.gather(*(answer(f, f.index % len(OPTIONS)) for f in followers))
    await asyncio.gather(*(answer(f, (f.index + 1) % len(OPTIONS)) for f in followers if f.index % 5 == 0))
    result.counts_sent = dict(Counter(final.values()))
    status, counted = await http.request("GET", teacher, f"{api[1 % len(api)]}/{code}/polls/{poll['poll_id']}",
                                         None, token)  # fmt: skip
    assert status == 200, counted
    result.counts_counted = {int(c["value"]): c["count"] for c in counted["counts"] if c["count"]}
    result.total_counted = counted["total"]

    # 3. Redis restarted mid-run
    stopped: list[float] = []

    async def restart() -> None:
        stopped.append(time.perf_counter())
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(args.down)
        await asyncio.to_thread(redis.start)
        stopped.append(time.perf_counter())

    closes_before = {f.index: len(f.closes) for f in followers}
    attempts_before = {f.index: f.attempts for f in followers}

    def everyone_back() -> bool:
        return len(stopped) == 2 and all(f.following_since[-1] > stopped[1] for f in followers)

    sent = await drive("r", args.changes, restart, everyone_back)
    back = everyone_back()
    # once everyone follows again, one more state: received by all?
    status, _ = await http.post(teacher, f"{api[0]}/{code}/state", {"page": "/backprop", "state": {"step": "r-last"}},
                                token)  # fmt: skip
    await wait_for(lambda: all(last_step(f) == "r-last" for f in followers), 10)
    accepted = [i for i, (_, s) in sent.items() if s == 200]
    result.restart = {
        "down": stopped[1] - stopped[0],
        "refused": Counter(s for _, s in sent.values() if s != 200),
        "accepted": len(accepted),
        "closes": Counter(c for f in followers for _, c in f.closes[closes_before[f.index] :]),
        "reconnections": sum(f.attempts - attempts_before[f.index] for f in followers),
        "everyone back": back,
        "back after": [f.following_since[-1] - stopped[0] for f in followers if f.following_since[-1] > stopped[1]],
        "missed": [len(set(accepted) - set(f.steps("r"))) for f in followers],
        "out of order": sum(f.steps("r") != sorted(f.steps("r")) for f in followers),
        "last received": sum(last_step(f) == "r-last" for f in followers),
        "last status": status,
    }
    status, _ = await http.post(teacher, f"{api[0]}/{code}/end", {}, token)
    await wait_for(lambda: all(t.done() for t in tasks), 10)
    stop.set()
    await asyncio.gather(*tasks)
    result.busy = http.busy
    await http.close()
    return result


def report(result: Result, args) -> str:
    n, r = result.followers, result.restart
    p50, p99 = percentile_ms(result.latencies, 50), percentile_ms(result.latencies, 99)
    server, client, wall = result.cpu["fan-out"]
    back = sorted(r["back after"])
    lines = [
        f"{n} followers over {args.instances} instance(s) × {args.workers} worker(s), one redis-server; "
        f"{args.changes} states, one every {args.interval:g} s",
        f"  connected:  {result.connected}/{n}",
        f"  fan-out:    p50 {p50:.1f} ms  p99 {p99:.1f} ms  (POST sent → follower's message, "
        f"{len(result.latencies)} messages)",
        f"    the instructor's POST: p50 {percentile_ms(result.posts, 50):.1f} ms, p99 "
        f"{percentile_ms(result.posts, 99):.1f} ms; the slowest states (p99 over the followers): "
        + ", ".join(f"#{i} {ms:.0f} ms" for ms, i in result.slowest[:3]),
        f"  lost:       {result.lost} state(s); followers out of order: {result.out_of_order}",
        f"  CPU s/s during the fan-out: servers {server / wall:.2f}, load generator {client / wall:.2f}; "
        f"load average {result.cpu['load']:.1f} on {os.cpu_count()} cores (other processes count too)",
        f"  poll:       {result.answers_sent} answers sent ({result.answers_refused} refused), "
        f"counted {dict(sorted(result.counts_counted.items()))} total {result.total_counted}, "
        f"sent {dict(sorted(result.counts_sent.items()))}: {'exact' if result.counts_exact else 'NOT EXACT'}",
        f"  requests answered 503 busy (max_concurrent_work), retried: {result.busy}",
        f"  memory:     {result.rss_before:.0f} MB → {result.rss_after:.0f} MB for the servers: "
        f"{1024 * (result.rss_after - result.rss_before) / n:.1f} KB per follower",
        f"  Redis restart (down {r['down']:.1f} s after state {args.changes // 2} of {args.changes}):",
        f"    the instructor's states: {r['accepted']} accepted, refused: {dict(r['refused']) or 'none'}",
        f"    followers' closes: {dict(sorted(r['closes'].items()))}; reconnections {r['reconnections']}",
        f"    everyone following again: {r['everyone back']}; after the stop: p50 "
        f"{percentile_ms(back, 50) / 1e3:.1f} s, max {(back[-1] if back else float('nan')):.1f} s",
        f"    accepted states missed (replaced by the snapshot on reconnecting): mean "
        f"{sum(r['missed']) / n:.1f}, max {max(r['missed'])}; followers out of order: {r['out of order']}",
        f"    a state sent once everyone followed again: received by {r['last received']}/{n}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=500)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="workers of each instance")
    parser.add_argument("--changes", type=int, default=50, help="the instructor's states in each phase")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between two states")
    parser.add_argument("--ramp", type=float, default=5, help="seconds over which the followers connect")
    parser.add_argument("--down", type=float, default=2, help="seconds Redis stays down")
    parser.add_argument("--per-address", type=int, default=20, help="students per loopback source address")
    parser.add_argument("--port", type=int, default=0, help="first of the ports to use (Redis, then the "
                        "instances); default: free ports")  # fmt: skip
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a server setting for the run, e.g. max_ws_per_address=100")  # fmt: skip
    args = parser.parse_args(argv)
    if args.followers > 250 * args.per_address:
        parser.error("not enough loopback addresses: raise --per-address")
    settings = {f"DEEPVIZ_{k.upper()}": v for k, v in (s.split("=", 1) for s in args.set)}
    print("settings changed for the bench: " + (", ".join(f"{k}={v}" for k, v in settings.items()) or "none"),
          flush=True)  # fmt: skip
    redis = RedisServer(args.port or free_port())
    redis.start()
    workdir = Path(tempfile.mkdtemp(prefix="class-load-"))
    env = {"DEEPVIZ_REDIS_URL": redis.url, "DEEPVIZ_CLASSROOM_SECRET": SECRET, **settings}
    servers = [Server(workdir, env=env, workers=args.workers, name=f"instance-{i}") for i in range(args.instances)]
    try:
        for i, server in enumerate(servers):
            server.port = args.port + 1 + i if args.port else 0
            server.start(wait=False)
        for server in servers:
            server.wait()
        result = asyncio.run(run(args, servers, redis))
    finally:
        for server in servers:
            server.stop()
        redis.stop()
    print(report(result, args), flush=True)
    shutil.rmtree(workdir)  # the instances' logs: kept only when the run failed
    return result


if __name__ == "__main__":
    main()
