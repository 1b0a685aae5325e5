"""LeNet-5 learning live (docs/lenet-live.md): a fresh LeNet-5 trained on the server, its
curves, kernels and probe digit streamed; bounded per worker and per client address."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from deepviz.app.lenet_live_stream import LiveSession
from deepviz.app.metrics import METRICS
from deepviz.app.streams import admitted
from deepviz.app.training_stream import serve_session

router = APIRouter(prefix="/api/v1/lenet/train", tags=["lenet"])


@router.websocket("/stream")
async def stream(socket: WebSocket) -> None:
    """A LeNet-5 trained from random weights, its frames streamed. Limits: live sessions per
    worker (max_lenet_live_sessions) and per client address (max_lenet_live_per_address), and
    every stream's (close 1013), message size and rate, bad messages (1008), idleness (1000)."""
    app, settings = socket.app, socket.app.state.settings
    address = (socket.client.host if socket.client else None) or "?"
    count = app.state.lenet_live
    async with admitted(socket) as admit:
        if not admit:
            return
        if count[""] >= settings.max_lenet_live_sessions or count[address] >= settings.max_lenet_live_per_address:
            METRICS.count("deepviz_websocket_rejected_total", reason="lenet_live_full")
            await socket.close(code=1013, reason="every live LeNet-5 is taken: try again in a minute")
            return
        count[""] += 1
        count[address] += 1
        try:
            await serve_session(LiveSession(socket, settings, app.state.train_pool))
        finally:
            count[""] -= 1
            count[address] -= 1
            if count[address] <= 0:
                del count[address]
