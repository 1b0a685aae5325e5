"""LeNet-5: predict one image over HTTP, or stream frames over a WebSocket while drawing."""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from deepviz.app import frames
from deepviz.app.batcher import Batcher, Slot
from deepviz.app.dependencies import SettingsDep
from deepviz.app.metrics import METRICS
from deepviz.app.preprocess import network_input
from deepviz.app.schemas import BAD_INPUT, MistakeOut, ModelOut, PredictOut, PredictRequest
from deepviz.app.settings import Settings
from deepviz.app.streams import admitted
from deepviz.lessons import lenet

router = APIRouter(prefix="/api/v1/lenet", tags=["lenet"])
BINARY = "deepviz.lenet.bin1"  # the stream's subprotocol for binary frames, both ways


def predict_frame(request: PredictRequest, settings: Settings) -> dict:
    image, note = network_input(request, settings)
    frame = frames.empty() if image is None else frames.classify([image], [request.target])[0]
    return {**frame, "note": note} if note else frame


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
        "layers": [
            {
                "name": x.name,
                "title": x.title,
                "type": x.kind,
                "kernel": x.kernel,
                "stride": x.stride,
                "padding": x.padding,
            }
            for x in lenet.layers()
        ],
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
    (plus an optional "id", echoed back). A client that offers the subprotocol
    "deepviz.lenet.bin1" may also send binary frames (the 28×28 input it made itself: 788
    bytes) and gets binary answers (frames.py's layout, docs/lenet-stream.md); errors stay
    JSON. Frames from all connections are computed together in micro-batches; a
    connection's frame that is still waiting is replaced by its newer one, so nothing
    queues without bound. A bad frame gets {"error": …} and the stream goes on.
    Limits: sessions per worker and per client address (else close 1013, "try again later"),
    message size (1009), frame rate (over it a frame is skipped; far over it, close 1008),
    and idleness (close 1000 after ws_idle_timeout seconds without a frame)."""
    binary = BINARY in socket.scope.get("subprotocols", [])
    app, settings = socket.app, socket.app.state.settings
    async with admitted(socket, subprotocol=BINARY if binary else None) as admit:
        if not admit:
            return
        slot, closing = Slot(binary=binary), {}
        receiver = asyncio.create_task(receive(socket, slot, closing, app.state.batcher, settings))
        try:
            while True:
                await slot.ready.wait()
                slot.ready.clear()
                if slot.answer is not None:
                    answer, slot.answer = slot.answer, None
                    await (socket.send_bytes(answer) if isinstance(answer, bytes) else socket.send_text(answer))
                if closing:
                    if closing.get("code"):
                        await socket.close(code=closing["code"], reason=closing["reason"])
                    break
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            receiver.cancel()
            app.state.batcher.forget(slot)


def _error(slot: Slot, msg: str) -> None:
    slot.answer = json.dumps({"error": {"msg": msg}})
    slot.ready.set()


async def receive(socket: WebSocket, slot: Slot, closing: dict, batcher: Batcher, settings: Settings) -> None:
    """Read frames, enforce the idle timeout and the size and rate limits, hand frames to the
    batcher. The rate is a token bucket (``max_ws_rate`` a second, bursts of as many) that
    every message draws on, text or binary, and that a frame's preprocessing time draws on
    too: a frame that cost the server 5 ms counts as 1 + 5 frames, so large drawings cannot
    buy more CPU than small ones."""
    rate = settings.max_ws_rate
    tokens, last = rate, time.monotonic()
    idle = Idle(settings.ws_idle_timeout)
    try:
        while True:
            try:
                message = await socket.receive()
            except asyncio.CancelledError:
                if not idle.expired:
                    raise
                idle.task.uncancel()  # the stream's own timeout, handled here: the task goes on to its end
                closing.update(code=1000, reason=f"no frame for {settings.ws_idle_timeout:g} s: draw to reconnect")
                break
            idle.seen()
            if message["type"] == "websocket.disconnect":
                break
            now = time.monotonic()
            spent, slot.cost = slot.cost, 0.0
            tokens = min(rate, tokens + (now - last) * rate) - 1 - spent / FRAME_CPU
            last = now
            if tokens < -rate:  # far over the limit for a second or more: not a person drawing
                METRICS.count("deepviz_websocket_rejected_total", reason="rate")
                closing.update(code=1008, reason=f"more than {rate:g} frames a second")
                break
            frame = message["text"] if message.get("text") is not None else message.get("bytes") or b""
            refused = _refused(frame, slot.binary, settings)
            if refused:
                _error(slot, refused)
            elif tokens < 0:  # over the rate: skipped, and said so, so that the client sends its next one
                METRICS.count("deepviz_frames_dropped_total")
                _error(slot, f"more than {rate:g} frames a second: frame skipped")
            else:
                batcher.submit(slot, frame)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        idle.stop()
    closing.setdefault("done", True)
    slot.ready.set()


class Idle:
    """The idle timeout of the task that creates it: cancelled once ``seconds`` pass with no
    call to ``seen()`` (then ``expired`` is True). One timer a stream, re-armed when it goes
    off early, rather than a timeout around every receive: in Python 3.11 ``wait_for`` made a
    task for each message, and the timeouts ~15 µs of the ~100 µs a frame costs the event loop."""

    def __init__(self, seconds: float):
        self.loop, self.task, self.seconds = asyncio.get_running_loop(), asyncio.current_task(), seconds
        self.last, self.expired = self.loop.time(), False
        self.timer = self.loop.call_at(self.last + seconds, self._check)

    def seen(self) -> None:
        self.last = self.loop.time()

    def stop(self) -> None:
        self.timer.cancel()

    def _check(self) -> None:
        if self.loop.time() - self.last >= self.seconds:
            self.expired = True
            self.task.cancel()
        else:
            self.timer = self.loop.call_at(self.last + self.seconds, self._check)


def _refused(frame: str | bytes, binary: bool, settings: Settings) -> str | None:
    """Why a frame is refused before it is parsed, if it is."""
    if isinstance(frame, str):
        too_long = len(frame) > settings.max_ws_message_bytes
        return f"a frame is at most {settings.max_ws_message_bytes} bytes" if too_long else None
    if not binary:
        return f"frames are JSON text messages (binary ones need the subprotocol {BINARY})"
    if len(frame) != frames.INPUT_BYTES:
        return f"a binary frame is {frames.INPUT_BYTES} bytes (4 of header, then 28×28), not {len(frame)}"
    return None


FRAME_CPU = 0.001  # seconds of preprocessing that count as one more frame against the rate
