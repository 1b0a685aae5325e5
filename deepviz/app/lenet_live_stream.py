"""One student's session of /api/v1/lenet/train/stream (docs/lenet-live.md): a fresh LeNet-5
trained on the server, played, paused, stepped, reset and changed by the page's messages, its
frames sent back, and the student's drawings read by it and by the LeNet-5 that ships.

It is the training lab's session (app/training_stream.py: the protocol's messages, turns on the
worker's training threads bounded in CPU, acks, message rate, bad messages, idleness) with
another run, named by the class's hooks: a turn here also measures the validation accuracy, a
chunk at a time, when it is due."""

from __future__ import annotations

import base64
import binascii
import json
import time

import numpy as np

from deepviz.app.frames import LAYER_NAMES, quantized
from deepviz.app.schemas.lenet_live import LiveConfigIn, LivePatch, TestIn, check_batch, check_live
from deepviz.app.settings import Settings
from deepviz.app.training_stream import MESSAGE_CPU, BadMessage, Session, validated
from deepviz.lessons.live_lenet import Diverged, LiveLeNet
from deepviz.lessons.mnist import load

INK = 0.1  # below this everywhere: no ink (as frames.INK)


class Live:
    """A run and what its frames have sent of its curves (they send only what is new)."""

    def __init__(self, run: LiveLeNet):
        self.run = run
        self.restart()

    def restart(self) -> None:
        self.losses, self.accuracies, self.clear = 0, 0, True

    @property
    def diverged(self) -> bool:
        return self.run.diverged

    def reset(self) -> None:
        self.run.reset()
        self.restart()

    def set(self, **changes) -> None:
        self.run.set(**changes)


def _rounded(x: float) -> float:
    return float(f"{x:.5g}")


def _reading(p: np.ndarray) -> dict:
    return {"prediction": int(p.argmax()), "probabilities": [_rounded(v) for v in p]}


def live_frame(live: Live) -> dict:
    """What the page draws: the new points of the curves, the kernels, the probe digit."""
    run = live.run
    result, image = run.probe()
    kernels = run.kernels()
    frame = {
        "type": "frame",
        "step": run.steps,
        "epoch": round(run.epoch, 4),
        "lr": run.config.lr,
        "schedule": run.config.schedule,
        "lr_now": _rounded(run.lr_now),  # the next step's: the schedule's at this step
        "batch_size": run.config.batch_size,
        "optimizer": run.config.optimizer,
        "clear": live.clear,  # the curves start again (a new run, or a reset)
        "losses": [[live.losses + 1 + i, _rounded(v)] for i, v in enumerate(run.losses[live.losses :])],
        "accuracies": [[s, _rounded(a)] for s, a in run.accuracies[live.accuracies :]],
        "kernels": {
            "conv1": quantized("conv1", kernels["conv1"][:, 0]),  # 6 kernels of 5×5
            "conv2": quantized("conv2", kernels["conv2"].reshape(-1, 5, 5)),  # 16 × 6 kernels of 5×5, row by row
        },
        "probe": {
            "label": run.probe_label(),
            "input": quantized("input", image),
            **_reading(result.probabilities[0]),
            "layers": [quantized(name, result.activations[name][0]) for name in LAYER_NAMES],
        },
        "stopped": "diverged" if run.diverged else None,
    }
    live.losses, live.accuracies, live.clear = len(run.losses), len(run.accuracies), False
    return frame


def live_turn(
    live: Live, settings: Settings, steps: int | None = None, frame_cpu: float = 0.0
) -> tuple[str, float, float]:
    """A turn: ``steps`` exactly (an evaluation that is due done whole first), or as many steps
    and evaluation chunks as the CPU budget leaves room for, the frame's cost included (at least
    one); then (the frame as JSON text, its CPU seconds, the turn's but the measuring's: a
    measure is due every evaluate_every steps whoever asks, so it is not charged to the message
    rate). On a training thread."""
    run, start, done, measuring = live.run, time.thread_time(), 0, 0.0
    limit = settings.max_train_steps_per_frame if steps is None else steps
    while done < limit and not run.diverged:
        if run.evaluating:
            began = time.thread_time()
            run.evaluate(None if steps is not None else settings.lenet_live_eval_chunk)
            measuring += time.thread_time() - began
        else:
            try:
                run.step()
            except Diverged:
                break
            done += 1
        if steps is None and time.thread_time() - start + frame_cpu > settings.lenet_live_frame_cpu:
            break
    if steps and run.evaluating and not run.diverged:
        began = time.thread_time()
        run.evaluate()  # a frame asked for shows its accuracy
        measuring += time.thread_time() - began
    drawn = time.thread_time()
    text = json.dumps(live_frame(live), allow_nan=False)
    end = time.thread_time()
    return text, end - drawn, end - start - measuring


def start_live(config: LiveConfigIn, settings: Settings) -> tuple[Live, list[str], float]:
    """A new run and its first frame (its first turn measures the initial weights). On a training thread."""
    data = load()  # read once per process (~1 s), before the clock: not the student's doing
    began = time.thread_time()
    live = Live(LiveLeNet(config.to_live(settings), data))
    return live, [json.dumps(live_frame(live), allow_nan=False)], time.thread_time() - began


def test(live: Live, image: np.ndarray) -> str:
    """A drawing read by the run as it is now and by the LeNet-5 that ships."""
    readings = live.run.read(image)
    return json.dumps({"type": "test", "step": live.run.steps, **{k: _reading(p) for k, p in readings.items()}})


def decode_ink(text: str) -> np.ndarray:
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise BadMessage(["ink"], "ink is base64url text (frames.ink's format)") from None
    if len(data) != 28 * 28:
        raise BadMessage(["ink"], f"ink holds 28×28 = 784 bytes, not {len(data)}")
    image = np.frombuffer(data, np.uint8).reshape(28, 28).astype(np.float32) / 255.0
    if image.max() <= INK:
        raise BadMessage(["ink"], "there is no ink: draw a digit first")
    return image


def read_live_patch(config: LiveConfigIn, train: dict, settings: Settings) -> tuple[LiveConfigIn, dict]:
    """A ``set`` message's ``train``: (the config after it, the changes to make to the run)."""
    patch = validated(LivePatch, train, ["train"])
    check_batch(patch.batch_size, settings, ["train"])
    return config.model_copy(update=patch.changes()), patch.changes()


class LiveSession(Session):
    """The training lab's session (its protocol, in one place) with a live LeNet-5 for its run,
    and one more message: a drawing to test."""

    TYPES = "configure, play, pause, step, reset, set, test, ack"
    Config = LiveConfigIn
    check = staticmethod(check_live)
    start = staticmethod(start_live)
    turn = staticmethod(live_turn)
    patched = staticmethod(read_live_patch)

    async def _on_test(self, body: dict) -> None:
        image = decode_ink(validated(TestIn, {"ink": body.get("ink")}, []).ink)
        began = time.monotonic()
        text = await self._compute(test, self.run, image)
        self.tokens -= (time.monotonic() - began) / MESSAGE_CPU / 4  # two small forward passes: a light charge
        await self.socket.send_text(text)
