"""What every WebSocket stream shares (the LeNet frames, the training lab, a class's
followers): admission within the worker's and the client address's caps, and its count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import WebSocket

from deepviz.app.metrics import METRICS


@asynccontextmanager
async def admitted(socket: WebSocket, subprotocol: str | None = None) -> AsyncIterator[bool]:
    """Accept ``socket``; past ``max_ws_connections`` streams in this worker, or
    ``max_ws_per_address`` from the client's address, close it at once with 1013 and a reason
    (accepted first, with ``subprotocol`` if given, so that a browser sees the code, not an
    HTTP 403) and yield False. Else yield True, the stream counted among the open ones until
    the block ends."""
    app, settings = socket.app, socket.app.state.settings
    address = (socket.client.host if socket.client else None) or "?"
    refused = None
    if app.state.ws_open >= settings.max_ws_connections:
        refused = ("full", "the server is full: try again in a minute")
    elif app.state.ws_by_address[address] >= settings.max_ws_per_address:
        refused = ("per_address", f"more than {settings.max_ws_per_address} streams from one address")
    await socket.accept(subprotocol=subprotocol)
    if refused:
        METRICS.count("deepviz_websocket_rejected_total", reason=refused[0])
        await socket.close(code=1013, reason=refused[1])
        yield False
        return
    app.state.ws_open += 1
    app.state.ws_by_address[address] += 1
    METRICS.gauge("deepviz_websocket_sessions", +1)
    try:
        yield True
    finally:
        app.state.ws_open -= 1
        app.state.ws_by_address[address] -= 1
        if app.state.ws_by_address[address] <= 0:
            del app.state.ws_by_address[address]
        METRICS.gauge("deepviz_websocket_sessions", -1)
