"""One student's session of /api/v1/train/stream (docs/training.md): a run on the server,
played, paused, stepped, reset and changed by the page's messages, and its frames sent back.

Lecture-hall fairness: the steps and frames of every session of a worker are computed on one
small pool of threads (``train_threads``), off the event loop, in the order they are asked
for; each turn of a session is bounded by ``max_train_steps_per_frame`` steps and
``train_frame_cpu`` seconds of CPU, so a student with a big model gets fewer steps a frame,
and no one else waits longer for it. A session asks for its next turn only once the page has
acknowledged all but two of its frames, and stops asking when its socket closes."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from concurrent.futures import Executor

import numpy as np
from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from deepviz.app.errors import InputError
from deepviz.app.mathml import tex
from deepviz.app.messages import friendly
from deepviz.app.metrics import METRICS
from deepviz.app.schemas.training import RunConfigIn, TrainIn, TrainPatch, check_config, check_newton
from deepviz.app.settings import Settings
from deepviz.lessons.playground.frame import frame, model_message
from deepviz.lessons.playground.model import formula
from deepviz.lessons.playground.program import program
from deepviz.lessons.playground.run import Diverged, Run

LOG = logging.getLogger("deepviz.training")
UNACKNOWLEDGED = 2  # frames the page may have in hand before the server waits for an ack
MESSAGE_CPU = 0.001  # seconds of CPU a message's answer took that count as one more message against the rate
# (a configure of 1000 points and a 4×16 model, ~20 ms, counts as ~20: a few a second, not 60)


class BadMessage(Exception):
    def __init__(self, loc: list, msg: str):
        self.loc, self.msg = loc, msg


def _base64(value):
    """json.dumps's ``default``: a frame's uint8 arrays as base64 text (json's own encoder, in C,
    walks the rest: a Python walk over every weight cost a third of a frame)."""
    if isinstance(value, np.ndarray):
        return base64.b64encode(value.tobytes()).decode()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _frame_json(run: Run) -> str:
    return json.dumps(frame(run), default=_base64, allow_nan=False)  # NaN is not JSON: the page could not read it


def validated(model: type, value, loc: list):
    """``value`` read by the pydantic ``model``; else a BadMessage naming where, under ``loc``."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        raise BadMessage([*loc, *first["loc"]], friendly({**first, "loc": [*loc, *first["loc"]]})) from None


def advance(run: Run, settings: Settings, steps: int | None = None, frame_cpu: float = 0.0) -> tuple[str, float, float]:
    """Train for one turn (``steps`` exactly, or as many as the step budget allows and the
    CPU budget leaves room for, the frame's own cost ``frame_cpu`` included; at least one),
    then (the frame as JSON text, the CPU seconds the frame took, those of the whole turn).
    On a training thread."""
    start, done = time.thread_time(), 0
    limit = settings.max_train_steps_per_frame if steps is None else steps
    while done < limit:
        try:
            run.step()
        except Diverged:
            break
        done += 1
        if steps is None and time.thread_time() - start + frame_cpu > settings.train_frame_cpu:
            break
    drawn = time.thread_time()
    text = _frame_json(run)
    end = time.thread_time()
    return text, end - drawn, end - start


def configure(config: RunConfigIn, settings: Settings | None = None) -> tuple[Run, list[str], float]:
    """A new run, its messages as JSON text (its model, then its first frame), and the CPU
    seconds they took (``settings``: unused, Session.start's signature). On a training thread."""
    start = time.thread_time()
    run = Run(config.to_run())
    message = model_message(run)
    message["formula"] = str(tex(formula(run.sizes, run.model.activation, run.task, run.config.train.l2), True))
    message["program"] = program(run.config, run=run)
    first = _frame_json(run)
    return run, [json.dumps(message, allow_nan=False), first], time.thread_time() - start


def read_patch(config: RunConfigIn, train: dict, settings: Settings) -> tuple[RunConfigIn, dict]:
    """A ``set`` message's ``train`` read and checked against the run's config: (the config
    after it, the changes to make to the run)."""
    patch = validated(TrainPatch, train, ["train"])
    merged = validated(TrainIn, {**config.train.model_dump(), **patch.changes()}, ["train"])
    config = config.model_copy(update={"train": merged})
    check_newton(config, settings, ["train"])
    return config, patch.changes()


class Session:
    """The protocol of a training stream (docs/training.md). What is trained is the class's:
    a subclass with another run (app/lenet_live_stream.py) names its own config, its checks,
    how a run starts, how a turn goes and how a live change is read."""

    TYPES = "configure, play, pause, step, reset, set, ack"  # the messages it answers (an _on_<type> each)
    Config: type = RunConfigIn  # a configure message's "config"
    check = staticmethod(check_config)  # (config, settings, loc): its limits beyond the schema's
    start = staticmethod(configure)  # (config, settings) -> (run, [messages], CPU s); the last message a frame
    turn = staticmethod(advance)  # (run, settings, steps, frame_cpu) -> (frame, its CPU s, the turn's CPU s)
    patched = staticmethod(read_patch)  # (config, a set message's "train", settings) -> (config, the run's changes)

    def __init__(self, socket: WebSocket, settings: Settings, pool: Executor):
        self.socket, self.settings, self.pool = socket, settings, pool
        self.run: Run | None = None
        self.config: RunConfigIn | None = None
        self.playing, self.unacknowledged = False, 0
        self.tokens, self.last = float(settings.max_ws_rate), time.monotonic()
        self.bad, self.bad_since = 0.0, time.monotonic()
        self.inbox: asyncio.Queue = asyncio.Queue(maxsize=16)  # full: the socket is not read (back-pressure)
        self.closing: tuple[int, str] | None = None
        self.gone = asyncio.Event()  # the socket closed
        self.frame_cpu = 0.0  # what the last frame cost: the next turn leaves room for it

    async def _compute(self, fn, *args):
        """``fn(*args)`` on a training thread. If the socket closes while it waits for its
        turn, it is cancelled and never runs: a session that has ended costs nothing."""
        work = asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        gone = asyncio.ensure_future(self.gone.wait())
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not work.done():
            work.cancel()  # not started yet: dropped from the queue; started: its result is ignored
            raise WebSocketDisconnect(1001)
        return work.result()

    async def _send_frame(self, steps: int | None = None, train: bool = True, asked: bool = True) -> None:
        """Train (a turn, or ``steps``), then send the frame. A frame a message ``asked`` for
        is charged to the message rate by its CPU; the frames of playing are paced already."""
        text, self.frame_cpu, cpu = await self._compute(
            self.turn, self.run, self.settings, steps if train else 0, self.frame_cpu
        )
        if asked:
            self.tokens -= cpu / MESSAGE_CPU
        self.unacknowledged += 1
        if self.run.diverged:
            self.playing = False
        await self.socket.send_text(text)

    async def _receive(self) -> None:
        """Read the socket into the inbox until it closes."""
        try:
            while (message := await self.socket.receive())["type"] != "websocket.disconnect":
                await self.inbox.put(message)
        except Exception:  # the socket went away: the session ends
            pass
        self.gone.set()

    async def serve(self) -> tuple[int, str] | None:
        """Answer messages and play until the socket closes; returns the close code and reason
        when the server ends the session."""
        receiver = asyncio.create_task(self._receive())
        loop = asyncio.get_running_loop()
        period = 1 / self.settings.train_frame_rate
        next_frame = loop.time()
        try:
            while self.closing is None:
                ready = self.playing and self.unacknowledged < UNACKNOWLEDGED and self.run is not None
                timeout = max(0.0, next_frame - loop.time()) if ready else self.settings.ws_idle_timeout
                try:
                    message = await self._next_message(timeout)
                except TimeoutError:
                    if not ready:
                        idle = self.settings.ws_idle_timeout
                        return 1000, f"no message for {idle:g} s: reload the page to train again"
                    next_frame = max(next_frame + period, loop.time())
                    await self._send_frame(asked=False)
                    continue
                if message["type"] == "websocket.disconnect":
                    return None
                await self._handle(message)
            return self.closing
        finally:
            receiver.cancel()

    async def _next_message(self, timeout: float) -> dict:
        """The next message read, or a disconnect once the socket has closed and every message
        read before is handled; TimeoutError after ``timeout`` seconds without either."""
        if not self.inbox.empty() or not self.gone.is_set():
            get, gone = asyncio.ensure_future(self.inbox.get()), asyncio.ensure_future(self.gone.wait())
            await asyncio.wait({get, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            gone.cancel()
            if get.done():
                return get.result()
            get.cancel()
            if not self.gone.is_set():
                raise TimeoutError
        return {"type": "websocket.disconnect"}

    def _charge(self) -> bool:
        """A token of the message rate (max_ws_rate a second, bursts of as many)."""
        now, rate = time.monotonic(), self.settings.max_ws_rate
        self.tokens = min(rate, self.tokens + (now - self.last) * rate) - 1
        self.last = now
        return self.tokens >= 0

    async def _error(self, loc: list, msg: str) -> None:
        """Tell the page what was wrong; past max_ws_bad_messages (one forgiven a second), close 1008."""
        now = time.monotonic()
        self.bad = max(0.0, self.bad - (now - self.bad_since)) + 1
        self.bad_since = now
        if self.bad > self.settings.max_ws_bad_messages:
            self.closing = (1008, "too many bad messages: reload the page")
            return
        await self.socket.send_text(json.dumps({"type": "error", "msg": msg, "loc": loc}))

    async def _handle(self, message: dict) -> None:
        text = message.get("text")
        try:
            if not self._charge():
                raise BadMessage([], f"more than {self.settings.max_ws_rate:g} messages a second: message skipped")
            if text is None:
                raise BadMessage([], "messages are JSON text")
            if len(text) > self.settings.max_train_message_bytes:
                raise BadMessage([], f"a message is at most {self.settings.max_train_message_bytes} bytes")
            try:
                body = json.loads(text)
            except ValueError:
                raise BadMessage([], 'a message is a JSON object, e.g. {"type": "play"}') from None
            kind = body.get("type") if isinstance(body, dict) else None
            handler = getattr(self, f"_on_{kind}", None) if isinstance(kind, str) and kind.isidentifier() else None
            if handler is None:
                raise BadMessage(["type"], f"type is one of {self.TYPES}")
            if kind not in ("configure", "ack") and self.run is None:
                raise BadMessage(["type"], "configure a run first")
            await handler(body)
        except BadMessage as bad:
            await self._error(bad.loc, bad.msg)
        except InputError as bad:
            await self._error(bad.loc, bad.msg)
        except (WebSocketDisconnect, RuntimeError):
            raise
        except Exception:  # a defect: said in the log, and to the page, which goes on
            LOG.exception("training stream: a %s message failed", message.get("type"))
            await self._error([], "the server could not do that (a defect, logged): try another setting")

    async def _on_configure(self, body: dict) -> None:
        config = validated(self.Config, body.get("config", {}), ["config"])
        self.check(config, self.settings, ["config"])
        self.run, messages, cpu = await self._compute(self.start, config, self.settings)
        self.tokens -= cpu / MESSAGE_CPU
        self.config, self.playing = config, False
        for text in messages[:-1]:
            await self.socket.send_text(text)
        self.unacknowledged += 1
        await self.socket.send_text(messages[-1])

    async def _on_play(self, body: dict) -> None:
        self.playing = not self.run.diverged

    async def _on_pause(self, body: dict) -> None:
        self.playing = False

    async def _on_step(self, body: dict) -> None:
        self.playing = False
        await self._send_frame(steps=1)

    async def _on_reset(self, body: dict) -> None:
        self.run.reset()
        await self._send_frame(train=False)

    async def _on_set(self, body: dict) -> None:
        config, changes = self.patched(self.config, body.get("train", {}), self.settings)
        self.run.set(**changes)
        self.config = config
        if not self.playing:
            await self._send_frame(train=False)

    async def _on_ack(self, body: dict) -> None:
        self.unacknowledged = max(0, self.unacknowledged - 1)


async def serve_session(session: Session) -> None:
    """A stream's session, served until it ends; the server's reason for ending it, if any,
    in the close (a close for bad messages counted)."""
    try:
        closing = await session.serve()
        if closing:
            if closing[0] == 1008:
                METRICS.count("deepviz_websocket_rejected_total", reason="bad_messages")
            await session.socket.close(code=closing[0], reason=closing[1])
    except (WebSocketDisconnect, RuntimeError):
        pass
