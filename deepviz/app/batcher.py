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

    frame: str | bytes | None = None  # the latest frame not yet taken by the batcher (JSON text, or binary)
    answer: str | bytes | None = None  # the latest answer not yet sent
    binary: bool = False  # the connection asked for binary answers (the "deepviz.lenet.bin1" subprotocol)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    cost: float = 0.0  # seconds of preprocessing its frames took, charged to its rate limit


class Batcher:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.waiting: set[Slot] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None
        self.task: asyncio.Task | None = None

    def submit(self, slot: Slot, frame: str | bytes) -> None:
        if slot.frame is not None:
            METRICS.count("deepviz_frames_dropped_total")  # replaced before it was computed
        slot.frame = frame
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
                jobs = [slot.frame for slot in batch]
                for slot in batch:
                    slot.frame = None
                started = time.perf_counter()
                try:
                    # in the batcher's own thread: the event loop keeps accepting frames and
                    # serving HTTP while a batch computes (numpy and Pillow release the GIL)
                    answers, costs = await self.loop.run_in_executor(
                        EXECUTOR, compute_with_costs, jobs, self.settings, [slot.binary for slot in batch]
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


def compute(messages: list[str | bytes], settings: Settings, binary: list[bool] | None = None) -> list[str | bytes]:
    """Answers for a batch of frames: parse each, preprocess each, one engine pass for all."""
    return compute_with_costs(messages, settings, binary)[0]


def _json_frame(text: str) -> dict:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a frame is a JSON object")
    return data


def compute_with_costs(messages: list[str | bytes], settings: Settings,
                       binary: list[bool] | None = None) -> tuple[list[str | bytes], list[float]]:  # fmt: skip
    """The answers (JSON text, or binary frames where ``binary`` says so; errors are always
    JSON), and the seconds each frame's parsing and preprocessing took. Whatever one frame
    holds, it answers for itself only: no frame can fail the others in its batch."""
    binary = binary or [False] * len(messages)
    answers: list[dict | bytes | None] = [None] * len(messages)
    costs = [0.0] * len(messages)
    images, targets, where, ids, notes = [], [], [], [], {}
    for i, message in enumerate(messages):
        frame_id = None
        started = time.thread_time()  # CPU time, not wall time: a busy machine must not charge honest frames
        try:
            if isinstance(message, bytes):  # the 28×28 input the page made itself
                image, target, frame_id = frames.read_binary(message)
                note = ""
            else:  # a JSON predict request (plus an "id")
                data = _json_frame(message)
                frame_id = data.pop("id", None)
                request = PredictRequest.model_validate(data)
                image, note = network_input(request, settings)
                target = request.target
            if note:
                notes[i] = note
            if image is None:
                answers[i] = frames.binary_empty(_u16(frame_id)) if binary[i] else frames.empty()
            else:
                images.append(image)
                targets.append(target)
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
        result, stack = frames.infer(images, targets)
        rows = frames.binaries(result, stack, [_u16(ids[i]) for i in where]) if any(binary[i] for i in where) else []
        for k, i in enumerate(where):
            if binary[i]:
                answers[i] = rows[k]
            else:
                answer = frames.frame(result, k, stack[k])
                answers[i] = {**answer, "note": notes[i]} if i in notes else answer
    out = []
    for answer, frame_id in zip(answers, ids):
        if isinstance(answer, bytes):
            out.append(answer)
            continue
        if isinstance(frame_id, int | str):
            answer["id"] = frame_id
        out.append(json.dumps(answer))
    return out, costs


def _u16(frame_id: object) -> int:
    """A frame's id as a binary answer carries it: an integer 0–65535, else 0."""
    return frame_id if isinstance(frame_id, int) and 0 <= frame_id <= 0xFFFF else 0


_last_logged = [0.0]


def _log_once_a_second(line: str) -> None:
    """A flood of bad frames must not flood the log."""
    now = time.monotonic()
    if now - _last_logged[0] >= 1.0:
        _last_logged[0] = now
        LOG.warning(line[:300])
