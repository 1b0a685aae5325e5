"""LeNet-5's draw-to-activation loop, measured:

- the server's time per frame, by stage: preprocessing a 280×280 drawing, forward with all
  activations, the saliency backward pass, serialization (p50 and p99);
- the WebSocket round trip on loopback against a real server (p50 and p99), and bytes per frame;
- engine/torch ratios in the same run: batch-1 inference, batch-1 forward + saliency,
  batch-64 forward + backward.

    .venv/bin/python bench/bench_lenet.py [--frames 300]

Goal: the whole loop within one animation frame (16.7 ms) at p99.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import struct
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import interleaved_us, percentile_ms, server, settle  # noqa: E402
from deepviz.app import frames  # noqa: E402
from deepviz.app.batcher import compute  # noqa: E402
from deepviz.app.images import decode_data_url  # noqa: E402
from deepviz.app.preprocess import mnist_style, to_ink  # noqa: E402
from deepviz.app.settings import Settings  # noqa: E402
from deepviz.engine import Tensor, no_grad
from deepviz.engine import functional as F
from deepviz.lessons import lenet  # noqa: E402
from deepviz.lessons.mnist import load  # noqa: E402
from tests.engine.oracle import torch_lenet  # noqa: E402


def drawing_url(digit: np.ndarray) -> str:
    """A digit as the page sends a drawing: its 280×280 pad, transparent, scaled to 84×84."""
    big = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((60, 60), Image.BILINEAR))
    rgba = np.zeros((84, 84, 4), dtype=np.uint8)
    rgba[12:72, 12:72, 3] = big
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def percentiles(samples: list[float]) -> str:
    return f"p50 {percentile_ms(samples, 50):6.2f} ms   p99 {percentile_ms(samples, 99):6.2f} ms"


def stages(urls: list[str], model) -> None:
    pre, fwd, sal, ser, total = [], [], [], [], []
    for url in urls:
        t0 = time.perf_counter()
        image = mnist_style(to_ink(decode_data_url(url, 10**7, 4096, ["image"])))
        t1 = time.perf_counter()
        model.frozen.activations(image[None, None])  # the served model's path, as lenet.infer takes it
        t2 = time.perf_counter()
        result = lenet.infer(model, image[None])  # forward + saliency backward
        t3 = time.perf_counter()
        payload = json.dumps(frames.frame(result, 0, image))
        t4 = time.perf_counter()
        pre.append(t1 - t0)
        fwd.append(t2 - t1)
        sal.append((t3 - t2) - (t2 - t1))  # what the backward pass adds to a forward
        ser.append(t4 - t3)
        total.append((t1 - t0) + (t4 - t2))  # what the server does for one frame
    print(f"server time per frame ({len(urls)} frames of a drawing, sent as an 84×84 PNG):")
    print(f"  preprocess (decode PNG, crop, scale, centre)   {percentiles(pre)}")
    print(f"  forward, all activations (frozen path)        {percentiles(fwd)}")
    print(f"  + saliency backward (infer − forward)          {percentiles(sal)}")
    print(f"  serialize (quantize + json.dumps)              {percentiles(ser)}")
    print(f"  whole frame (preprocess + infer + serialize)   {percentiles(total)}")
    print(f"  bytes per frame: {len(payload)} (JSON with uint8 base64 maps)")


def batcher_paths(urls: list[str]) -> list[bytes]:
    """The server's work for one frame as the batcher does it (parse, preprocess, infer,
    encode), JSON with a drawing against binary with the page's own 28×28
    (docs/lenet-stream.md). Returns the binary frames, for the round trips."""
    settings = Settings()
    texts = [json.dumps({"id": i, "image": u}) for i, u in enumerate(urls)]
    images = [mnist_style(to_ink(decode_data_url(u, 10**7, 4096, ["image"]))) for u in urls]
    binaries = [
        struct.pack("<BBH", 1, 255, i) + np.round(x * 255).astype(np.uint8).tobytes() for i, x in enumerate(images)
    ]
    print(f"server time per frame in the batcher (compute(), {len(urls)} frames, batch 1):")
    for name, messages, binary in [("JSON: an 84×84 PNG in, JSON out", texts, False),
                                   ("binary: the page's 28×28 in, binary out", binaries, True)]:  # fmt: skip
        times, size = [], 0
        for message in messages:
            start = time.perf_counter()
            (answer,) = compute([message], settings, [binary])
            times.append(time.perf_counter() - start)
            size = len(answer)
        print(f"  {name:42} {percentiles(times)}   {len(message)} B in, {size} B out")
    return binaries


async def round_trips(url: str, messages: list[str | bytes], subprotocols=None) -> tuple[list[float], int]:
    import websockets

    times, size = [], 0
    async with websockets.connect(url, max_size=2**22, compression=None, subprotocols=subprotocols) as ws:
        for message in messages:
            start = time.perf_counter()
            await ws.send(message)
            reply = await ws.recv()
            times.append(time.perf_counter() - start)
            size = len(reply)
    return times, size


def websocket(urls: list[str], binaries: list[bytes]) -> None:
    with server(env={"DEEPVIZ_MAX_WS_RATE": "1000000"}) as (port, _):  # one client, as fast as it can
        messages = [json.dumps({"id": i, "image": u}) for i, u in enumerate(urls)]
        url = f"ws://127.0.0.1:{port}/api/v1/lenet/stream"
        asyncio.run(round_trips(url, messages[:20]))  # warm up
        times, size = asyncio.run(round_trips(url, messages))
        binary_times, binary_size = asyncio.run(round_trips(url, binaries, ["deepviz.lenet.bin1"]))
    print(f"WebSocket round trip on loopback, one client, {len(times)} frames:")
    print(f"  JSON   {percentiles(times)}   {len(messages[0])} B sent (PNG data URL), {size} B received")
    print(f"  binary {percentiles(binary_times)}   {len(binaries[0])} B sent (28×28), {binary_size} B received")


def ratio_timings(model, images: np.ndarray, repeat: int = 200) -> list[tuple[str, float, float]]:
    """(what, engine µs, torch µs), medians, for the LeNet-5 rows of the ratio table. The
    served model (``load_pretrained``) infers on its frozen path (lessons/frozen_lenet.py),
    as the server does; the engine's general path is timed too, for comparison."""
    frozen, _ = torch_lenet(model, trainable=False)  # inference and saliency: input gradients only
    forward, params = torch_lenet(model, trainable=True)
    x1, x64 = images[:1], images[:64]
    labels = np.arange(64) % 10
    t1, t64, tl = torch.tensor(x1), torch.tensor(x64), torch.tensor(labels)

    def engine_infer():  # the served model's path (every layer's activations, as the server needs)
        model.frozen.activations(x1)

    def torch_infer():
        with torch.no_grad():
            frozen(t1)

    def engine_graph():  # the same through the engine's general path: a graph of Tensors, not recorded
        with no_grad():
            model(Tensor(x1))

    def engine_saliency():  # the server's call: on the frozen path (lessons/frozen_lenet.py)
        lenet.infer(model, x1[:, 0])

    def torch_saliency():
        x = t1.clone().requires_grad_()
        out = frozen(x)
        out[0, out[0].argmax()].backward()

    trainable = lenet.LeNet5()  # the served model is frozen; training needs weight gradients
    trainable.load_state_dict(model.state_dict())

    def engine_train():
        trainable.zero_grad()
        F.cross_entropy(trainable(Tensor(x64)), labels).backward()

    def torch_train():
        for p in params:
            p.grad = None
        TF.cross_entropy(forward(t64), tl).backward()

    pairs = [("batch-1 inference", engine_infer, torch_infer),
             ("batch-1 inference, the engine's graph", engine_graph, torch_infer),
             ("batch-1 forward + saliency", engine_saliency, torch_saliency),
             ("batch-64 forward + backward", engine_train, torch_train)]  # fmt: skip
    return [(name, *interleaved_us([ours, theirs], repeat, 10)) for name, ours, theirs in pairs]


def ratios(model, images: np.ndarray) -> None:
    print("engine/torch, both on one thread (median µs):")
    for name, a, b in ratio_timings(model, images):
        print(f"  {name:38} engine {a:8.0f}   torch {b:8.0f}   ratio {a / b:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = lenet.load_pretrained()
    test = load().test
    urls = [drawing_url(test.images[i % 1000, 0]) for i in range(args.frames)]
    settle()
    stages(urls, model)
    binaries = batcher_paths(urls)
    websocket(urls, binaries)
    ratios(model, test.images)


if __name__ == "__main__":
    main()
