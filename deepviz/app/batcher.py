"""Micro-batching of LeNet-5 frames, for a lecture hall: frames that arrive together from
many WebSocket clients go through the engine as one batch, and each client keeps only its
latest frame. One batcher per worker process computes one batch at a time in a thread of
its own, so that the event loop stays free to take frames and serve HTTP meanwhile. Nothing
queues without bound: at most one frame per connection waits, and a newer one replaces it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import ValidationError

from deepviz.app import frames
from deepviz.app.errors import InputError
from deepviz.app.messages import friendly
from deepviz.app.metrics import METRICS
from deepviz.app.preprocess import network_input
from deepviz.app.schemas import PredictRequest
from deepviz.app.settings import Settings

LOG = logging.getLogger("deepviz.batcher")
EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deepviz-batcher")  # batches run one at a time


@dataclass(eq=False)
class Slot:
    """One connection's mailbox: the frame waiting to be computed, the answer waiting to be sent."""

    text: str | None = None  # the latest frame not yet taken by the batcher
    answer: str | None = None  # the latest answer not yet sent
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    cost: float = 0.0  # seconds of preprocessing its frames took, charged to its rate limit


class Batcher:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.waiting: set[Slot] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None
        self.task: asyncio.Task | None = None

    def submit(self, slot: Slot, text: str) -> None:
        if slot.text is not None:
            METRICS.count("deepviz_frames_dropped_total")  # replaced before it was computed
        slot.text = text
        self.waiting.add(slot)
        loop = asyncio.get_running_loop()
        if loop is not self.loop or self.task is None or self.task.done():
            # started on first use, in the loop that serves the connections (one per worker)
            self.loop, self.wake = loop, asyncio.Event()
            self.task = loop.create_task(self.run())
        self.wake.set()

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
                try:
                    # in the batcher's own thread: the event loop keeps accepting frames and
                    # serving HTTP while a batch computes (numpy and Pillow release the GIL)
                    answers, costs = await self.loop.run_in_executor(
                        EXECUTOR, compute_with_costs, [t for _, t in jobs], self.settings
                    )
                except Exception:  # a bug must not leave a batch of clients waiting forever
                    LOG.exception("a batch of %d frames failed", len(jobs))
                    answers = [json.dumps({"error": {"msg": "the server failed on this frame"}})] * len(jobs)
                    costs = [0.0] * len(jobs)
                for slot, answer, cost in zip(batch, answers, costs):
                    slot.answer = answer
                    slot.cost += cost
                    slot.ready.set()
                METRICS.observe("deepviz_batch_seconds", time.perf_counter() - started)
                METRICS.count("deepviz_frames_total", len(batch))


def compute(texts: list[str], settings: Settings) -> list[str]:
    """Answers for a batch of frames: parse each, preprocess each, one engine pass for all."""
    return compute_with_costs(texts, settings)[0]


def compute_with_costs(texts: list[str], settings: Settings) -> tuple[list[str], list[float]]:
    """The answers, and the seconds each frame's parsing and preprocessing took. Whatever
    one frame holds, it answers for itself only: no frame can fail the others in its batch."""
    answers: list[dict | None] = [None] * len(texts)
    costs = [0.0] * len(texts)
    images, targets, where, ids, notes = [], [], [], [], {}
    for i, text in enumerate(texts):
        frame_id = None
        started = time.thread_time()  # CPU time, not wall time: a busy machine must not charge honest frames
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("a frame is a JSON object")
            frame_id = data.pop("id", None)
            request = PredictRequest.model_validate(data)
            image, note = network_input(request, settings)
            if note:
                notes[i] = note
            if image is None:
                answers[i] = frames.empty()
            else:
                images.append(image)
                targets.append(request.target)
                where.append(i)
        except ValidationError as error:
            first = error.errors()[0]
            answers[i] = {"error": {"loc": list(first["loc"]), "msg": friendly(first)}}
        except InputError as error:
            answers[i] = {"error": {"loc": error.loc, "msg": error.msg}}
        except RecursionError:
            answers[i] = {"error": {"msg": "not a valid frame: nested too deeply"}}
        except ValueError as error:
            answers[i] = {"error": {"msg": f"not a valid frame: {error}"}}
        except Exception as error:  # a defect this frame found: one line in the log, not a traceback per frame
            _log_once_a_second(f"a frame failed: {type(error).__name__}: {error}")
            answers[i] = {"error": {"msg": "the server failed on this frame"}}
        costs[i] = time.thread_time() - started
        ids.append(frame_id)
    if images:
        for i, answer in zip(where, frames.classify(images, targets)):
            answers[i] = {**answer, "note": notes[i]} if i in notes else answer
    out = []
    for answer, frame_id in zip(answers, ids):
        if isinstance(frame_id, int | str):
            answer["id"] = frame_id
        out.append(json.dumps(answer))
    return out, costs


_last_logged = [0.0]


def _log_once_a_second(line: str) -> None:
    """A flood of bad frames must not flood the log."""
    now = time.monotonic()
    if now - _last_logged[0] >= 1.0:
        _last_logged[0] = now
        LOG.warning(line[:300])
