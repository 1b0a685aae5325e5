"""A student's page following the instructor: WS /api/v1/classes/{code}/follow.

On connect the follower is sent the class's current events at once (the snapshot: the latest
state, or {"type": "state", "seq": 0, "page": null, "state": null} before the instructor's
first; then the latest poll and its reveal, if any), then every later event, in seq order.
Every event is sent, but a follower that falls behind is never queued without bound: past
`max_follower_backlog` pending events, the pending states but the latest are dropped (the page
renders one state, and obeys one mode; polls, reveals and the end are all kept: a class has few of them), and a
message that cannot be sent within `class_send_timeout` closes the connection.

How it closes: 1000 after {"type": "ended"}; 4401 without a token; 4404 for a code or a token
that is not right, or a class that ended or expired (the same, as for HTTP); 1013 when this
worker holds too many sessions, or the broker is unreachable (try again later); 1012 when the
broker lost its feed (a Redis restart): reconnect, and the snapshot comes again; 1008 for a
client that sends more than max_ws_rate messages a second (a follower has nothing to send).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time

from fastapi import WebSocket, WebSocketDisconnect

from deepviz.app.classroom.broker import Snapshot, Unavailable
from deepviz.app.errors import InputError
from deepviz.app.metrics import METRICS
from deepviz.app.streams import admitted

PRESENCE = 20.0  # seconds between renewals of a follower's place among those connected
NO_STATE = '{"type":"state","seq":0,"page":null,"state":null}'


class Outbox:
    """One follower's events waiting to be sent (a broker Listener)."""

    def __init__(self, backlog: int):
        self.backlog = backlog  # pending events past which older states are dropped
        self.loop = asyncio.get_running_loop()
        self.items: list[tuple[int, str, str]] = []
        self.floor: int | None = None  # the snapshot's seq: older events are in it already
        self.ready = asyncio.Event()
        self.broken = False
        self.closing: dict = {}  # set by the receiver: the client left, or must be closed

    def deliver(self, seq: int, kind: str, text: str) -> None:
        try:
            here = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            here = False
        if here:
            self._put(seq, kind, text)
        else:  # published from another thread's loop (a test client's): hand it over
            self.loop.call_soon_threadsafe(self._put, seq, kind, text)

    def _put(self, seq: int, kind: str, text: str) -> None:
        if self.floor is not None and seq <= self.floor:
            return
        self.items.append((seq, kind, text))
        if len(self.items) > self.backlog:  # behind: only the latest state and mode still matter
            latest = {item[1]: item[0] for item in self.items if item[1] in ("state", "mode")}
            self.items = [item for item in self.items if item[1] not in latest or item[0] == latest[item[1]]]
        self.ready.set()

    def lost(self) -> None:
        self.broken = True
        self.ready.set()

    def start(self, snapshot: Snapshot) -> None:
        """The snapshot first, then what arrived while it was read and is newer."""
        pending = self.items
        has_state = any(kind == "state" for _, kind, _ in snapshot.events)
        self.items = ([] if has_state else [(0, "state", NO_STATE)]) + list(snapshot.events)
        self.floor = snapshot.seq
        for item in pending:
            self._put(*item)
        self.ready.set()

    def take(self) -> list[tuple[int, str, str]]:
        items, self.items = self.items, []
        self.ready.clear()
        return items


async def follow(socket: WebSocket, code_text: str, token_text: str | None) -> None:
    app = socket.app
    settings, classroom = app.state.settings, app.state.classroom
    subscribed, follower = False, secrets.token_hex(8)  # this connection, in the class's count of those connected
    try:
        async with admitted(socket) as admit:
            if not admit:
                return
            if classroom is None:
                return await socket.close(code=1013, reason="classroom mode is off on this server")
            try:
                code, token = classroom.student(code_text, token_text)
            except InputError as error:
                closing = 4401 if error.status == 401 else 4404
                reason = "no student token" if closing == 4401 else "no such class"
                return await socket.close(code=closing, reason=reason)
            outbox, receiver = Outbox(settings.max_follower_backlog), None
            try:
                try:
                    snapshot = await classroom.broker.subscribe(code, outbox)
                except Unavailable:
                    return await socket.close(code=1013, reason="the class is unreachable for a moment: reconnect")
                subscribed = snapshot is not None
                if snapshot is None or snapshot.class_id != token.class_id:
                    return await socket.close(code=4404, reason="no such class")
                outbox.start(snapshot)
                receiver = asyncio.create_task(_receive(socket, outbox, settings.max_ws_rate))
                await _send(socket, outbox, classroom, code, token.class_id, settings, follower)
            except (WebSocketDisconnect, RuntimeError, TimeoutError):
                pass  # the client left, or stopped reading for class_send_timeout
            finally:
                if receiver is not None:
                    receiver.cancel()
                if subscribed:
                    with contextlib.suppress(Unavailable):
                        await classroom.broker.unsubscribe(code, outbox)
    finally:
        if subscribed:  # last: the stream's place is free already
            with contextlib.suppress(Unavailable):
                await classroom.broker.presence(code, follower, None)


async def _send(socket: WebSocket, outbox: Outbox, classroom, code: str, class_id: str, settings,
                follower: str) -> None:  # fmt: skip
    """Send what the outbox holds, in order, until the class ends or the connection does.
    Every ws_idle_timeout seconds without an event, check that the class is still there
    (an expired class publishes nothing). Every PRESENCE seconds, renew the connection's place
    among those connected (it lasts 3 × PRESENCE: a worker that dies stops counting)."""
    idle_since, present_until = time.monotonic(), 0.0
    while True:
        if time.monotonic() >= present_until - 2 * PRESENCE:
            with contextlib.suppress(Unavailable):  # the count is for show: never a reason to close
                await classroom.broker.presence(code, follower, 3 * PRESENCE)
            present_until = time.monotonic() + 3 * PRESENCE
        wait = min(settings.ws_idle_timeout - (time.monotonic() - idle_since), PRESENCE)
        try:
            await asyncio.wait_for(outbox.ready.wait(), max(wait, 0.0))
        except TimeoutError:
            if time.monotonic() - idle_since < settings.ws_idle_timeout:
                continue  # only the presence's turn
            idle_since = time.monotonic()
            try:
                if await classroom.broker.info(code, class_id) is None:
                    return await _close(socket, 4404, "the class has expired", settings)
            except Unavailable:
                return await _close(socket, 1013, "the class is unreachable for a moment: reconnect", settings)
            continue
        idle_since = time.monotonic()
        for _, kind, text in outbox.take():
            await asyncio.wait_for(socket.send_text(text), settings.class_send_timeout)
            if kind == "ended":
                return await _close(socket, 1000, "the class has ended", settings)
        if outbox.broken:
            return await _close(socket, 1012, "the class's connection was reset: reconnect", settings)
        if outbox.closing:
            if outbox.closing.get("code"):
                await _close(socket, outbox.closing["code"], outbox.closing["reason"], settings)
            return


async def _close(socket: WebSocket, code: int, reason: str, settings) -> None:
    try:
        await asyncio.wait_for(socket.close(code=code, reason=reason), settings.class_send_timeout)
    except (TimeoutError, RuntimeError, WebSocketDisconnect):
        pass


async def _receive(socket: WebSocket, outbox: Outbox, rate: float) -> None:
    """A follower has nothing to say: its messages are read (to see it leave) and dropped,
    at most `rate` a second (bursts of as many), else it is closed with 1008."""
    tokens, last = rate, time.monotonic()
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            now = time.monotonic()
            tokens, last = min(rate, tokens + (now - last) * rate) - 1, now
            if tokens < 0:
                METRICS.count("deepviz_websocket_rejected_total", reason="rate")
                outbox.closing.update(code=1008, reason=f"more than {rate:g} messages a second")
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    outbox.closing.setdefault("done", True)
    outbox.ready.set()
