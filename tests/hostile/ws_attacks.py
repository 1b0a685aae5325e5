"""Attacks on the WebSocket streams: the LeNet frames (bad, large, flooding, fragmented,
hoarded) and the training lab's sessions (the largest runs played flat out, the costliest
configure sent again and again). Each is an async function (target, seconds) -> Outcome, as
in attacks.py, which lists them all."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from websockets.asyncio.client import ClientConnection

from tests.hostile.payloads import drawing, largest_drawing_side, nested_brackets
from tests.hostile.wire import Outcome, Target, run_all
from tests.hostile.ws_wire import hold_idle, note_answer, send_every, ws_connect, ws_failed, ws_sockets

TRAIN = "/api/v1/train/stream"
# the costliest run a student may ask for: the most points, layers and units, a full batch
LARGEST_RUN = {
    "type": "configure",
    "config": {
        "data": {"name": "spiral", "points": 1000, "noise": 0.2},
        "model": {"hidden": [16, 16, 16, 16], "activation": ["relu"] * 4},
        "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 1000},
    },
}


async def bad_ws_frame(target: Target, seconds: float) -> Outcome:
    """2 streams sending 5,000 nested brackets as a frame, 5 a second (under the rate limit)."""
    frame = nested_brackets(5000)
    return await ws_sockets(target, seconds, 2, lambda ws, deadline: send_every(ws, deadline, lambda: frame, 0.2))


async def ws_hoarding(target: Target, seconds: float) -> Outcome:
    """2,000 idle streams from one address, opened as fast as the server takes them, held."""
    return await hold_idle(target, seconds, 2000)


async def large_drawings(target: Target, seconds: float, side: int | None = None) -> Outcome:
    """16 streams sending valid drawings of the largest side allowed, each the next as soon as
    the answer comes."""
    frame = json.dumps({"image": drawing(side or largest_drawing_side())})
    outcome = Outcome()
    deadline = time.monotonic() + seconds

    async def one() -> None:
        try:
            async with ws_connect(target) as ws:
                outcome.sent += 1
                while time.monotonic() < deadline:
                    await ws.send(frame)
                    note_answer(outcome, await ws.recv())
        except Exception as error:  # noqa: BLE001
            ws_failed(outcome, error)

    return await run_all([one() for _ in range(16)], seconds, outcome)


async def oversized_drawings(target: Target, seconds: float) -> Outcome:
    """16 streams sending 2048×2048 PNG drawings (over the side limit if it is lower), as fast
    as answered."""
    return await large_drawings(target, seconds, 2048)


async def binary_flood(target: Target, seconds: float) -> Outcome:
    """4 streams sending 64 KB binary frames as fast as the socket takes them."""
    blob = bytes(65536)

    async def body(ws: ClientConnection, deadline: float) -> None:
        while time.monotonic() < deadline:
            await ws.send(blob)

    return await ws_sockets(target, seconds, 4, body)


async def ws_fragments(target: Target, seconds: float) -> Outcome:
    """4 streams each sending one text message that never ends, in 1 KB fragments."""

    async def body(ws: ClientConnection, deadline: float) -> None:
        async def fragments() -> AsyncIterator[str]:
            while time.monotonic() < deadline:
                yield "a" * 1024
                await asyncio.sleep(0)

        await ws.send(fragments())

    return await ws_sockets(target, seconds, 4, body)


async def ws_ping_flood(target: Target, seconds: float) -> Outcome:
    """4 streams sending pings as fast as the socket takes them, never waiting for a pong."""

    async def body(ws: ClientConnection, deadline: float) -> None:
        n = 0
        while time.monotonic() < deadline:
            await ws.ping(n.to_bytes(8, "big"))
            n += 1
            if n % 50 == 0:
                await asyncio.sleep(0)

    return await ws_sockets(target, seconds, 4, body)


async def training_hoard(target: Target, seconds: float) -> Outcome:
    """16 training sessions from one address, each the largest run, playing and acknowledging
    every frame at once: as much training as one client can ask for."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds

    async def one() -> None:
        try:
            async with ws_connect(target, path=TRAIN) as ws:
                outcome.sent += 1
                await ws.send(json.dumps(LARGEST_RUN))
                await ws.send(json.dumps({"type": "play"}))
                while time.monotonic() < deadline:
                    message = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
                    outcome.answers[message.get("type", "?")] += 1
                    if message.get("type") == "frame":
                        await ws.send(json.dumps({"type": "ack", "step": message["step"]}))
        except TimeoutError:
            pass  # the attack's time is up
        except Exception as error:  # noqa: BLE001
            ws_failed(outcome, error)

    return await run_all([one() for _ in range(16)], seconds, outcome)


async def training_reconfigure(target: Target, seconds: float) -> Outcome:
    """4 training sessions each sending the largest run's configure 20 times a second: a
    dataset, a model and a frame made anew each time, for one short message."""
    message = json.dumps(LARGEST_RUN)
    return await ws_sockets(
        target, seconds, 4, lambda ws, deadline: send_every(ws, deadline, lambda: message, 0.05), path=TRAIN
    )
