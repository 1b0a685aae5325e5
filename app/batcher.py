"""Micro-batching of LeNet-5 frames, for a lecture hall: frames that arrive together from
many WebSocket clients go through the engine as one batch, and each client keeps only its
latest frame. One batcher per worker process runs in the event loop (a thread pool is
slower here: the GIL), so nothing queues without bound: at most one frame per connection
waits, and a newer frame replaces it."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import numpy as np
from pydantic import ValidationError

from app import frames
from app.errors import InputError
from app.metrics import METRICS
from app.preprocess import network_input
from app.schemas import PredictRequest
from app.settings import Settings
from engine import lenet


@dataclass(eq=False)
class Slot:
    """One connection's mailbox: the frame waiting to be computed, the answer waiting to be sent."""

    text: str | None = None  # the latest frame not yet taken by the batcher
    answer: str | None = None  # the latest answer not yet sent
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class Batcher:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.waiting: set[Slot] = set()
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None

    def submit(self, slot: Slot, text: str) -> None:
        if slot.text is not None:
            METRICS.count("deepviz_frames_dropped_total")  # replaced before it was computed
        slot.text = text
        self.waiting.add(slot)
        self.wake.set()
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    def forget(self, slot: Slot) -> None:
        self.waiting.discard(slot)

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.waiting:
                batch = [self.waiting.pop() for _ in range(min(len(self.waiting), self.settings.max_batch))]
                jobs = [(slot, slot.text) for slot in batch]
                for slot in batch:
                    slot.text = None
                started = time.perf_counter()
                for slot, answer in zip(batch, compute([text for _, text in jobs], self.settings)):
                    slot.answer = answer
                    slot.ready.set()
                METRICS.observe("deepviz_batch_seconds", time.perf_counter() - started)
                METRICS.count("deepviz_frames_total", len(batch))
                await asyncio.sleep(0)  # let receivers and senders run between batches


def compute(texts: list[str], settings: Settings) -> list[str]:
    """Answers for a batch of frames: parse each, preprocess each, one engine pass for all."""
    answers: list[dict | None] = [None] * len(texts)
    images, targets, where, ids = [], [], [], []
    for i, text in enumerate(texts):
        frame_id = None
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("a frame is a JSON object")
            frame_id = data.pop("id", None)
            request = PredictRequest.model_validate(data)
            image = network_input(request, settings)
            if image is None:
                answers[i] = {"prediction": None, "probabilities": [0.1] * 10, "layers": []}
            else:
                images.append(image)
                targets.append(-1 if request.target is None else request.target)
                where.append(i)
        except ValidationError as error:
            first = error.errors()[0]
            answers[i] = {"error": {"loc": list(first["loc"]), "msg": first["msg"]}}
        except InputError as error:
            answers[i] = {"error": {"loc": error.loc, "msg": error.msg}}
        except ValueError as error:
            answers[i] = {"error": {"msg": f"not a valid frame: {error}"}}
        ids.append(frame_id)
    if images:
        stack = np.stack(images)
        result = lenet.infer(lenet.load_pretrained(), stack, np.array(targets))
        for k, i in enumerate(where):
            answers[i] = frames.frame(result, k, stack[k])
    out = []
    for answer, frame_id in zip(answers, ids):
        if isinstance(frame_id, int | str):
            answer["id"] = frame_id
        out.append(json.dumps(answer))
    return out
