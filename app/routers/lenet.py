"""LeNet-5: predict one image over HTTP, or stream frames over a WebSocket while drawing."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from app import frames
from app.errors import InputError
from app.images import decode_data_url
from app.preprocess import mnist_style, to_ink
from app.schemas import ErrorOut, MistakeOut, ModelOut, PredictOut, PredictRequest
from app.settings import Settings, get_settings
from engine import lenet

router = APIRouter(prefix="/api/v1/lenet", tags=["lenet"])
SettingsDep = Annotated[Settings, Depends(get_settings)]
BAD_INPUT = {422: {"model": ErrorOut, "description": "what is wrong, and where"}}
EMPTY = {"prediction": None, "probabilities": [0.1] * 10, "layers": []}


def network_input(request: PredictRequest, settings: Settings) -> np.ndarray | None:
    """The 28×28 image the network sees: pixels as sent, or a drawing made MNIST-like."""
    if request.pixels is not None:
        return np.asarray(request.pixels, dtype=np.float32)
    img = decode_data_url(request.image, settings.max_drawing_bytes, settings.max_drawing_side, ["body", "image"])
    return mnist_style(to_ink(img))


def predict_frame(request: PredictRequest, settings: Settings) -> dict:
    image = network_input(request, settings)
    if image is None:
        return dict(EMPTY)
    targets = None if request.target is None else np.array([request.target])
    result = lenet.infer(lenet.load_pretrained(), image[None], targets)
    return frames.frame(result, 0, image)


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
    (plus an optional "id", echoed back). Only the latest waiting frame is computed: frames
    that arrive while one is being computed replace each other, so nothing queues without
    bound and the answer is always about the newest drawing. Bad frames get
    {"error": …} and the stream goes on."""
    settings: Settings = socket.app.state.settings
    await socket.accept()
    latest: dict = {}
    ready = asyncio.Event()
    closed = False

    async def receive() -> None:
        nonlocal closed
        try:
            while True:
                text = await socket.receive_text()
                latest["text"] = text  # replaces any frame not yet computed
                ready.set()
        except (WebSocketDisconnect, RuntimeError):
            closed = True
            ready.set()

    receiver = asyncio.create_task(receive())
    try:
        while True:
            await ready.wait()
            ready.clear()
            if closed:
                break
            text = latest.pop("text", None)
            if text is not None:
                await socket.send_text(json.dumps(answer(text, settings)))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        receiver.cancel()


def answer(text: str, settings: Settings) -> dict:
    """One WebSocket frame's reply: the prediction, or what was wrong with the frame."""
    if len(text) > settings.max_ws_message_bytes:
        return {"error": {"msg": f"a frame is at most {settings.max_ws_message_bytes} bytes"}}
    frame_id = None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a frame is a JSON object")
        frame_id = data.pop("id", None)
        request = PredictRequest.model_validate(data)
        out = predict_frame(request, settings)
    except ValidationError as error:
        first = error.errors()[0]
        out = {"error": {"loc": list(first["loc"]), "msg": first["msg"]}}
    except InputError as error:
        out = {"error": {"loc": error.loc, "msg": error.msg}}
    except ValueError as error:
        out = {"error": {"msg": f"not a valid frame: {error}"}}
    if isinstance(frame_id, int | str):
        out["id"] = frame_id
    return out
