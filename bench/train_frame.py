"""The training lab's cost for one session: the time of one turn (the steps between two
frames, then the frame, as JSON) for the default XOR 2-8-8-1 run and a 4×16 model, and the
frames a second one session gets while playing from a real server (acknowledging each frame
as the page does). Prints medians; no thresholds (the machine is noisy).

    .venv/bin/python bench/train_frame.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import websockets  # noqa: E402

from bench.common import median_us, server  # noqa: E402
from deepviz.app.schemas.training import RunConfigIn  # noqa: E402
from deepviz.app.settings import Settings  # noqa: E402
from deepviz.app.training_stream import advance  # noqa: E402
from deepviz.lessons.playground.frame import frame  # noqa: E402
from deepviz.lessons.playground.run import Run  # noqa: E402

RUNS = {
    "xor 2-8-8-1 tanh, adam": {},
    "xor 2-16-16-16-16-1 relu, adam": {"model": {"hidden": [16] * 4, "activation": ["relu"] * 4}},
}


def turns() -> None:
    settings = Settings()
    for name, config in RUNS.items():
        run = Run(RunConfigIn.model_validate(config).to_run())
        step = median_us(run.step, repeat=200)
        only_frame = median_us(lambda run=run: frame(run), repeat=50)
        turn = median_us(lambda run=run: advance(run, settings, settings.max_train_steps_per_frame), repeat=20)
        size = len(advance(run, settings, 1)[0]) / 1e3
        steps = settings.max_train_steps_per_frame
        print(f"{name}: step {step:.0f} µs, frame {only_frame / 1e3:.2f} ms, "
              f"turn of {steps} steps + frame as JSON {turn / 1e3:.1f} ms, {size:.0f} kB")  # fmt: skip


async def play(port: int, config: dict, seconds: float) -> tuple[float, int]:
    async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/train/stream", max_size=2**24) as ws:
        await ws.send(json.dumps({"type": "configure", "config": config}))
        await ws.recv(), await ws.recv()
        await ws.send(json.dumps({"type": "ack", "step": 0}))
        await ws.send(json.dumps({"type": "play"}))
        frames, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            message = json.loads(await ws.recv())
            frames += 1
            await ws.send(json.dumps({"type": "ack", "step": message["step"]}))
        return frames / (time.perf_counter() - start), message["step"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    turns()
    with server() as (port, _):
        for name, config in RUNS.items():
            rate, steps = asyncio.run(play(port, config, args.seconds))
            print(f"{name}: one session playing gets {rate:.1f} frames/s, {steps} steps in {args.seconds:g} s")


if __name__ == "__main__":
    main()
