"""LeNet-5: predict one image over HTTP, or stream frames over a WebSocket while drawing."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from app import frames
from app.batcher import Batcher, Slot
from app.metrics import METRICS
from app.preprocess import network_input
from app.schemas import BAD_INPUT, MistakeOut, ModelOut, PredictOut, PredictRequest
from app.settings import Settings, get_settings
from engine import lenet

router = APIRouter(prefix="/api/v1/lenet", tags=["lenet"])
SettingsDep = Annotated[Settings, Depends(get_settings)]


def predict_frame(request: PredictRequest, settings: Settings) -> dict:
    image = network_input(request, settings)
    return frames.empty() if image is None else frames.classify([image], [request.target])[0]


@router.post("/predict", response_model=PredictOut, responses=BAD_INPUT)
def predict(request: PredictRequest, settings: SettingsDep) -> dict:
    """Classify one digit: prediction, the 10 probabilities, every layer's activations and
    the saliency map for ``target`` (default: the predicted class)."""
    return predict_frame(request, settings)


@router.get("/model", response_model=ModelOut)
def model() -> dict:
    """The trained model's manifest, its learned conv1 and conv2 kernels, its geometry."""
    m = lenet.load_pretrained()
    return {
        "manifest": lenet.manifest(),
        "kernels": {"conv1": m.conv1.weight.data.round(5).tolist(), "conv2": m.conv2.weight.data.round(5).tolist()},
        "layers": [{"type": t, "kernel": k, "stride": s, "padding": p} for t, k, s, p in lenet.LAYERS],
    }


@router.get("/mistakes", response_model=list[MistakeOut])
def mistakes() -> list[dict]:
    """Test digits the shipped model gets wrong, with what it predicted."""
    found = lenet.mistakes()
    return [
        {"index": int(i), "label": int(y), "prediction": int(p), "pixels": frames.quantized("pixels", x / 255.0)}
        for i, x, y, p in zip(found["index"], found["images"], found["labels"], found["predictions"])
    ]


@router.websocket("/stream")
async def stream(socket: WebSocket) -> None:
    """Frames in, frames out, while the student draws. Each message is a JSON predict request
    (plus an optional "id", echoed back). Frames from all connections are computed together
    in micro-batches; a connection's frame that is still waiting is replaced by its newer one,
    so nothing queues without bound. A bad frame gets {"error": …} and the stream goes on.
    Limits: connections per worker (else close 1013), message size (1009), frame rate (1008)."""
    app, settings = socket.app, socket.app.state.settings
    if app.state.ws_open >= settings.max_ws_connections:
        METRICS.count("deepviz_websocket_rejected_total", reason="full")
        await socket.close(code=1013, reason="the server is full: try again in a minute")
        return
    await socket.accept()
    app.state.ws_open += 1
    METRICS.gauge("deepviz_websocket_sessions", +1)
    slot, closing = Slot(), {}
    receiver = asyncio.create_task(receive(socket, slot, closing, app.state.batcher, settings))
    try:
        while True:
            await slot.ready.wait()
            slot.ready.clear()
            if slot.answer is not None:
                answer, slot.answer = slot.answer, None
                await socket.send_text(answer)
            if closing:
                if closing.get("code"):
                    await socket.close(code=closing["code"], reason=closing["reason"])
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        receiver.cancel()
        app.state.batcher.forget(slot)
        app.state.ws_open -= 1
        METRICS.gauge("deepviz_websocket_sessions", -1)


async def receive(socket: WebSocket, slot: Slot, closing: dict, batcher: Batcher, settings: Settings) -> None:
    """Read frames, enforce the size and rate limits, hand frames to the batcher."""
    rate = settings.max_ws_rate
    tokens, last = rate, time.monotonic()
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                slot.answer = json.dumps({"error": {"msg": "frames are JSON text messages"}})
                slot.ready.set()
                continue
            if len(text) > settings.max_ws_message_bytes:
                slot.answer = json.dumps(
                    {"error": {"msg": f"a frame is at most {settings.max_ws_message_bytes} bytes"}}
                )
                slot.ready.set()
                continue
            now = time.monotonic()
            tokens = min(rate, tokens + (now - last) * rate) - 1  # a token bucket: rate per second, bursts of rate
            last = now
            if tokens < -rate:  # far over the limit for a second or more: not a person drawing
                METRICS.count("deepviz_websocket_rejected_total", reason="rate")
                closing.update(code=1008, reason=f"more than {rate:g} frames a second")
                break
            if tokens < 0:  # over the rate: skipped, and said so, so that the client sends its next one
                METRICS.count("deepviz_frames_dropped_total")
                slot.answer = json.dumps({"error": {"msg": f"more than {rate:g} frames a second: frame skipped"}})
                slot.ready.set()
                continue
            batcher.submit(slot, text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    closing.setdefault("done", True)
    slot.ready.set()
