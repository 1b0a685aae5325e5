"""A lecture hall against a real server on this machine: N WebSocket clients "draw" (each
wants to send a LeNet frame R times a second, and, as the page does, keeps at most one
frame in flight) and M HTTP clients request backprop graphs, for T seconds. Reports frames
served per second, latency p50 and p99, errors, and the server's memory before and after.

    .venv/bin/python bench/load.py --clients 200 --rate 10 --http 20 --http-rate 2 --seconds 30 --workers 2
    .venv/bin/python bench/load.py --clients 400 --binary   # the page's binary frames (docs/lenet-stream.md)

Traffic goes to 127.0.0.1 only; every loop is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import struct
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile_ms, server  # noqa: E402
from deepviz.lessons.mnist import load  # noqa: E402


def binary_frames(count: int) -> list[bytes]:
    """Digits as the page sends them in binary: its own 28×28 (frame id 0: set on sending)."""
    test = load().test
    return [struct.pack("<BBH", 1, 255, 0) + np.round(test.images[i, 0] * 255).astype(np.uint8).tobytes()
            for i in range(count)]  # fmt: skip


def drawings(count: int) -> list[str]:
    """Digits as the page sends them in JSON: an 84×84 transparent PNG data URL."""
    test = load().test
    urls = []
    for i in range(count):
        big = np.asarray(Image.fromarray((test.images[i, 0] * 255).astype(np.uint8)).resize((60, 60)))
        rgba = np.zeros((84, 84, 4), dtype=np.uint8)
        rgba[12:72, 12:72, 3] = big
        buffer = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return urls


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the workers), in MB."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def batches(port: int) -> tuple[float, float]:
    """(frames computed, micro-batches) so far, summed over the workers, from /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    found = {"deepviz_frames_total": 0.0, "deepviz_batch_seconds_count": 0.0}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in found:
            found[name] = float(value)
    return found["deepviz_frames_total"], found["deepviz_batch_seconds_count"]


def cpu_seconds(pid: int) -> np.ndarray:
    """CPU time of a process's children (the workers), in seconds: [user + system, system,
    of it the workers' main threads (the event loops)], summed over the workers."""
    tick, total = os.sysconf("SC_CLK_TCK"), np.zeros(3)
    for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        for stat, share in [(f"/proc/{p}/stat", (1, 1, 0)), (f"/proc/{p}/task/{p}/stat", (0, 0, 1))]:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            utime, stime = int(fields[11]), int(fields[12])
            total += np.array([utime + stime, stime, utime + stime]) * share / tick
    return total


class Stats:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors = 0
        self.sent = 0


async def draw(url: str, frames: list[str] | list[bytes], rate: float, seconds: float, stats: Stats,
               offset: float) -> None:  # fmt: skip
    """One drawing student for ``seconds`` from its connection: its drawing changes at ticks
    1/rate apart (on the clock, so that the time a send takes does not slow the rate down), and
    a change is sent at once when no frame is in flight, else when the answer comes back."""
    import websockets

    binary = isinstance(frames[0], bytes)
    await asyncio.sleep(offset)  # clients start spread over the first second
    try:
        async with websockets.connect(url, max_size=2**22, compression=None, open_timeout=30,
                                      subprotocols=["deepviz.lenet.bin1"] if binary else None) as ws:  # fmt: skip
            sent_at: dict[int, float] = {}
            in_flight, dirty, next_id = False, False, 0
            start = time.perf_counter()
            until = start + seconds

            async def send() -> None:
                nonlocal in_flight, dirty, next_id
                next_id += 1
                sent_at[next_id] = time.perf_counter()
                in_flight, dirty = True, False
                stats.sent += 1
                frame = frames[next_id % len(frames)]
                if binary:
                    await ws.send(frame[:2] + struct.pack("<H", next_id % 65536) + frame[4:])
                else:
                    await ws.send(json.dumps({"id": next_id, "image": frame}))

            async def receive() -> None:
                nonlocal in_flight
                async for message in ws:
                    if isinstance(message, bytes):  # a binary frame: its id at bytes 4–5
                        frame_id = next(i for i in sent_at if i % 65536 == struct.unpack_from("<H", message, 4)[0])
                    else:
                        answer = json.loads(message)
                        stats.errors += "error" in answer
                        frame_id = answer.get("id")
                    stats.latencies.append(time.perf_counter() - sent_at.pop(frame_id, time.perf_counter()))
                    in_flight = False
                    if dirty and time.perf_counter() < until:
                        await send()

            receiver = asyncio.create_task(receive())
            for tick in range(int(seconds * rate)):
                await asyncio.sleep(max(0.0, start + tick / rate - time.perf_counter()))
                if in_flight:
                    dirty = True  # the drawing changed; sent when the answer comes back
                else:
                    await send()
            await asyncio.sleep(max(0.0, until - time.perf_counter()))
            await asyncio.sleep(0.5)
            receiver.cancel()
    except Exception:
        stats.errors += 1


async def http_client(base: str, until: float, stats: Stats, rate: float) -> None:
    body = json.dumps({"expression": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}).encode()
    loop = asyncio.get_running_loop()

    def one() -> float:
        start = time.perf_counter()
        request = urllib.request.Request(base + "/api/v1/graph", body, {"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        return time.perf_counter() - start

    while time.perf_counter() < until:
        began = time.perf_counter()
        try:
            stats.latencies.append(await loop.run_in_executor(None, one))
        except Exception:
            stats.errors += 1
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - began)))  # a student clicking


percentile = percentile_ms


async def run(args, port: int) -> tuple[Stats, Stats]:
    frames = binary_frames(200) if args.binary else drawings(200)
    until = time.perf_counter() + args.seconds
    ws_stats, http_stats = Stats(), Stats()
    url = f"ws://127.0.0.1:{port}/api/v1/lenet/stream"
    tasks = [
        draw(url, frames, args.rate, args.seconds, ws_stats, i / max(args.clients, 1)) for i in range(args.clients)
    ]
    tasks += [http_client(f"http://127.0.0.1:{port}", until, http_stats, args.http_rate) for _ in range(args.http)]
    await asyncio.gather(*tasks)
    return ws_stats, http_stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10, help="frames a second each client wants to send")
    parser.add_argument("--http", type=int, default=20, help="HTTP clients requesting backprop graphs")
    parser.add_argument("--http-rate", type=float, default=2, help="requests a second each HTTP client makes")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--binary", action="store_true", help="binary frames: the page's own 28×28 in, binary out")
    parser.add_argument(
        "--uvicorn", action="store_true", help="start the server as plain `uvicorn deepviz.app.main:app`"
    )
    args = parser.parse_args()

    # the whole hall comes from one address here (a campus NAT): the per-address caps raised as the
    # deployment notes say (deploy/nginx.conf), the per-worker cap to the hall
    room = str(args.clients + 10)
    env = {"DEEPVIZ_MAX_WS_CONNECTIONS": room, "DEEPVIZ_MAX_WS_PER_ADDRESS": room, "DEEPVIZ_MAX_WORK_PER_ADDRESS": "64"}
    with server(args.workers, env, uvicorn=args.uvicorn) as (port, process):
        time.sleep(1)
        before, server_cpu, client_cpu = rss_mb(process.pid), cpu_seconds(process.pid), time.process_time()
        computed = batches(port)
        started = time.perf_counter()
        ws_stats, http_stats = asyncio.run(run(args, port))
        elapsed = time.perf_counter() - started
        after, (server_cpu, server_sys, loop_cpu) = rss_mb(process.pid), cpu_seconds(process.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
        computed = [b - a for a, b in zip(computed, batches(port))]

    wanted = args.clients * args.rate
    served = len(ws_stats.latencies) / args.seconds
    kind = "binary" if args.binary else "JSON"
    print(f"{args.clients} drawing clients ({kind} frames) at {args.rate:g} frames/s each ({wanted:g} wanted/s), "
          f"{args.http} HTTP clients at {args.http_rate:g}/s, {args.seconds:g} s, {args.workers} worker(s) "
          f"({'plain uvicorn' if args.uvicorn else 'deepviz serve'}), "
          "load generator on the same 2 cores")  # fmt: skip
    print(f"  frames served  {served:8.0f}/s   ({len(ws_stats.latencies)} in {elapsed:.0f} s; {ws_stats.sent} sent)")
    p50, p99 = percentile(ws_stats.latencies, 50), percentile(ws_stats.latencies, 99)
    print(f"  frame latency  p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    h50, h99 = percentile(http_stats.latencies, 50), percentile(http_stats.latencies, 99)
    print(f"  HTTP /graph    {len(http_stats.latencies) / args.seconds:8.0f}/s   p50 {h50:7.1f} ms   p99 {h99:7.1f} ms")
    per_batch = computed[0] / max(computed[1], 1)
    print(f"  micro-batches  {computed[1]:8.0f}     ({per_batch:.1f} frames a batch on average)")
    print(f"  errors         {ws_stats.errors} WebSocket, {http_stats.errors} HTTP")
    print(f"  server memory  {before:.0f} MB before, {after:.0f} MB after")
    frames = max(len(ws_stats.latencies), 1)
    print(
        f"  where the CPU went: server workers {server_cpu:.0f} s ({1e3 * server_cpu / frames:.2f} ms a frame), "
        f"load generator {client_cpu:.0f} s, of {2 * elapsed:.0f} core-seconds"
    )
    print(
        f"  server CPU a frame: {1e3 * loop_cpu / frames:.2f} ms in the event loops, "
        f"{1e3 * (server_cpu - loop_cpu) / frames:.2f} ms in other threads (the batchers); "
        f"{1e3 * server_sys / frames:.2f} ms of all of it in the kernel"
    )


if __name__ == "__main__":
    main()
