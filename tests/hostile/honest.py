"""The honest clients that measure what an attack does to everyone else.

``python -m tests.hostile.honest`` runs them as a process of their own (harness.Honest): one JSON
command a line in, one JSON result a line out."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.hostile.payloads import HONEST_GRAPH, digit
from tests.hostile.wire import (
    HONEST_HTTP_RATE,
    HONEST_IP,
    HONEST_JOIN_EVERY,
    HONEST_TIMEOUT,
    HONEST_WS_RATE,
    Target,
    fetch,
    json_body,
)
from tests.hostile.ws_wire import ws_connect

# --- honest clients ---------------------------------------------------------------------------------


async def honest_measure(target: Target, seconds: float) -> dict:
    """Honest students for ``seconds``: three HTTP clients (GET /healthz, POST a small graph,
    GET the backprop page) at HONEST_HTTP_RATE each, every request on a fresh connection; one
    LeNet stream sending a real digit at HONEST_WS_RATE and waiting for each answer; and a
    new student opening a stream every HONEST_JOIN_EVERY s. Latencies of what succeeded;
    failures (timeouts, refusals, non-200) and error frames by name."""
    http = {"latencies": [], "failures": []}
    ws = {"latencies": [], "failures": [], "error_frames": []}
    deadline = time.monotonic() + seconds
    graph_body, graph_headers = json_body(HONEST_GRAPH)
    frame_id = 0

    async def pause_until(when: float) -> None:
        """Sleep until ``when``, but not past the end of the measurement."""
        await asyncio.sleep(max(0.0, min(when, deadline) - time.monotonic()))

    async def http_client(name: str, method: str, path: str, body: bytes, headers, offset: float) -> None:
        await asyncio.sleep(offset)
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                response = await fetch(target, method, path, body, headers, HONEST_IP, HONEST_TIMEOUT)
                if response.status == 200:
                    http["latencies"].append(time.monotonic() - start)
                else:
                    http["failures"].append(f"{name}: HTTP {response.status}")
            except TimeoutError:
                http["failures"].append(f"{name}: no answer within {HONEST_TIMEOUT:g} s")
            except OSError as error:
                http["failures"].append(f"{name}: {type(error).__name__}")
            await pause_until(start + 1 / HONEST_HTTP_RATE)

    async def frame(socket: ClientConnection, what: str, start: float) -> None:
        nonlocal frame_id
        frame_id += 1
        mine = frame_id
        await socket.send(json.dumps({"id": mine, "pixels": digit()}))
        while True:  # one frame in flight: an answer without an id (an error) is this frame's too
            answer = json.loads(await asyncio.wait_for(socket.recv(), HONEST_TIMEOUT))
            if answer.get("id") in (mine, None):
                break
        if "error" in answer:
            ws["error_frames"].append(f"{what}: {answer['error'].get('msg')}")
        else:
            ws["latencies"].append(time.monotonic() - start)

    def failed(what: str, error: BaseException) -> None:
        if isinstance(error, InvalidStatus):
            ws["failures"].append(f"{what}: handshake refused with HTTP {error.response.status_code}")
        elif isinstance(error, ConnectionClosed):
            ws["failures"].append(f"{what}: closed with {error.rcvd.code if error.rcvd else 1006}")
        elif isinstance(error, TimeoutError):
            ws["failures"].append(f"{what}: no answer within {HONEST_TIMEOUT:g} s")
        else:
            ws["failures"].append(f"{what}: {type(error).__name__}")

    async def stream() -> None:
        while time.monotonic() < deadline:
            try:
                async with ws_connect(target, HONEST_IP, HONEST_TIMEOUT) as socket:
                    while time.monotonic() < deadline:
                        start = time.monotonic()
                        await frame(socket, "stream", start)
                        await pause_until(start + 1 / HONEST_WS_RATE)
            except Exception as error:  # noqa: BLE001 - every failure is one
                failed("stream", error)
                await asyncio.sleep(0.2)

    async def joins() -> None:
        await asyncio.sleep(0.3)
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                async with ws_connect(target, HONEST_IP, HONEST_TIMEOUT) as socket:
                    await frame(socket, "new stream", start)
            except Exception as error:  # noqa: BLE001
                failed("new stream", error)
            await pause_until(start + HONEST_JOIN_EVERY)

    await asyncio.gather(
        http_client("healthz", "GET", "/healthz", b"", (), 0.0),
        http_client("graph", "POST", "/api/v1/graph", graph_body, graph_headers, 0.15),
        http_client("page", "GET", "/backprop", b"", (), 0.3),
        stream(),
        joins(),
    )
    return {"http": http, "ws": ws}


def honest_main() -> None:
    """One JSON command a line on stdin: {"target": {...}, "seconds": s}; one JSON result a line out."""
    digit()  # loaded before the first measurement
    for line in sys.stdin:
        command = json.loads(line)
        result = asyncio.run(honest_measure(Target(**command["target"]), command["seconds"]))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["honest"]:
        honest_main()
    else:
        sys.exit("usage: python -m tests.hostile.honest honest")
