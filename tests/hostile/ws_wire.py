"""WebSockets under an attack: the attacker's and the honest clients' sockets (from their own
loopback address), how each attempt ended, and many attacker sockets at once, their answers
noted in an Outcome (wire.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from tests.hostile.wire import ATTACKER_IP, Outcome, Target, run_all


def ws_connect(target: Target, local: str = ATTACKER_IP, open_timeout: float = 10, path: str | None = None) -> connect:
    """A WebSocket to the LeNet stream, or to ``path`` (e.g. "/api/v1/train/stream")."""
    url = f"ws://{target.host}:{target.port}{path}" if path else target.ws
    return connect(url, local_addr=(local, 0), compression=None, max_size=2**23, open_timeout=open_timeout,
                   ping_interval=None, close_timeout=1, max_queue=None)  # fmt: skip


def ws_failed(outcome: Outcome, error: BaseException) -> None:
    """How a WebSocket attempt ended: a refused handshake (its HTTP status), a close code, or else."""
    if isinstance(error, InvalidStatus):
        outcome.statuses[error.response.status_code] += 1
    elif isinstance(error, ConnectionClosed):
        outcome.closes[error.rcvd.code if error.rcvd else 1006] += 1
    elif isinstance(error, TimeoutError):
        outcome.errors["timeout"] += 1
    elif isinstance(error, InvalidMessage | ConnectionResetError):  # the socket closed before any answer
        outcome.ends["closed at handshake"] += 1
    else:
        outcome.error(error)


def note_answer(outcome: Outcome, message: str | bytes) -> None:
    try:
        answer = json.loads(message)
    except ValueError:
        outcome.answers["not JSON"] += 1
        return
    error = answer.get("error") if isinstance(answer, dict) else None
    outcome.answers[f"error: {str(error.get('msg', error))[:40]}" if error else "frame"] += 1


async def drain(ws: ClientConnection, outcome: Outcome) -> None:
    """Read (and note) whatever the server sends until it closes."""
    async for message in ws:
        note_answer(outcome, message)


async def ws_sockets(target: Target, seconds: float, count: int, body: Callable[[ClientConnection, float], Awaitable],
                     outcome: Outcome | None = None, path: str | None = None) -> Outcome:  # fmt: skip
    """``count`` attacker WebSockets (to the LeNet stream, or ``path``), each running
    ``body(ws, deadline)`` until the deadline."""
    outcome = outcome or Outcome()
    deadline = time.monotonic() + seconds

    async def one() -> None:
        try:
            async with ws_connect(target, path=path) as ws:
                outcome.sent += 1
                reader = asyncio.create_task(drain(ws, outcome))
                try:
                    await body(ws, deadline)
                    await asyncio.wait_for(asyncio.shield(reader), max(0.0, deadline - time.monotonic()) + 0.5)
                except TimeoutError:
                    outcome.ends["open at end"] += 1
                finally:
                    reader.cancel()
                    await asyncio.gather(reader, return_exceptions=True)
                if ws.close_code is not None:  # closed by the server (1006: without a close frame)
                    outcome.closes[ws.close_code] += 1
        except Exception as error:  # noqa: BLE001 - every way it ends is noted
            ws_failed(outcome, error)

    return await run_all([one() for _ in range(count)], seconds, outcome)


async def send_every(ws: ClientConnection, deadline: float, message: Callable[[], str | bytes], interval: float):
    while time.monotonic() < deadline:
        await ws.send(message())
        await asyncio.sleep(interval)


async def hold_idle(target: Target, seconds: float, count: int, path: str | None = None) -> Outcome:
    """``count`` idle WebSockets from one address (to the LeNet stream, or ``path``), opened
    as fast as the server takes them and held until the server ends them or time is up."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    gate = asyncio.Semaphore(200)  # handshakes in flight

    async def one() -> None:
        start = time.monotonic()
        try:
            async with gate:
                ws = await ws_connect(target, open_timeout=max(1.0, deadline - time.monotonic()), path=path)
        except Exception as error:  # noqa: BLE001 - every way it ends is noted
            ws_failed(outcome, error)
            return
        outcome.sent += 1
        try:
            await asyncio.wait_for(ws.wait_closed(), max(0.0, deadline - time.monotonic()))
            outcome.closes[ws.close_code] += 1
            outcome.close_after.append(time.monotonic() - start)
        except TimeoutError:
            outcome.ends["open at end"] += 1
        finally:
            ws.transport.abort()

    return await run_all([one() for _ in range(count)], seconds, outcome)
