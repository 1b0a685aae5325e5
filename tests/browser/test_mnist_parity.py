"""The browser's MNIST-style preprocessing (static/js/mnist.js) against the server's
(deepviz/app/preprocess.py) on 300 drawings: MNIST test digits drawn at random sizes, places
and stroke widths on the page's 112×112 canvas, plus dots and an empty canvas. Both read the
same ink (a canvas's alpha channel). What must hold: a mean absolute difference of at most
2/255 per pixel, and LeNet-5 reading the same digit from both on at least 99.5% of them.
(The page sends the browser's 28×28 when the stream speaks binary: docs/lenet-stream.md.)"""

from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image, ImageFilter

from deepviz.app.preprocess import mnist_style, small_drawing
from deepviz.lessons import lenet
from deepviz.lessons.mnist import load

pytestmark = pytest.mark.browser

SIDE = 112  # the canvas the page preprocesses (as it sends to the server today)


def drawings(count: int, seed: int = 5) -> list[np.ndarray]:
    """Alpha channels (uint8, SIDE × SIDE) of digits drawn as a student might."""
    rng = np.random.default_rng(seed)
    test = load().test
    found = [np.zeros((SIDE, SIDE), np.uint8)]  # nothing drawn
    for i in range(count - 4):
        digit = Image.fromarray((test.images[i, 0] * 255).astype(np.uint8))
        width = int(rng.integers(24, SIDE))
        height = min(SIDE, int(width * rng.uniform(0.7, 1.2)))
        glyph = digit.resize((width, height), Image.BILINEAR)
        if rng.random() < 0.4:  # a thicker pen
            glyph = glyph.filter(ImageFilter.MaxFilter(3))
        canvas = Image.new("L", (SIDE, SIDE))
        canvas.paste(glyph, (int(rng.integers(0, SIDE - width + 1)), int(rng.integers(0, SIDE - height + 1))))
        found.append(np.asarray(canvas))
    for at in (5, 50, 100):  # dots: "too small to be a digit"
        dot = np.zeros((SIDE, SIDE), np.uint8)
        dot[at : at + 5, at : at + 4] = 255
        found.append(dot)
    return found


def server_side(alpha: np.ndarray) -> tuple[np.ndarray | None, bool]:
    ink = alpha.astype(np.float32) / 255.0  # as preprocess.to_ink reads a transparent canvas
    return mnist_style(ink), bool(small_drawing(ink))


def test_the_browser_preprocesses_drawings_as_the_server_does(page):
    alphas = drawings(300)
    page.goto("/lenet")
    answers = page.evaluate(
        """async ([encoded, side]) => {
          const { mnistStyle } = await import("/static/js/mnist.js");
          return encoded.map((text) => {
            const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
            const { pixels, small } = mnistStyle(bytes, side, side);
            return { pixels: pixels && Array.from(pixels), small };
          });
        }""",
        [[base64.b64encode(a.tobytes()).decode() for a in alphas], SIDE],
    )
    browser = [None if a["pixels"] is None else np.array(a["pixels"], np.float32).reshape(28, 28) for a in answers]
    server = [server_side(a) for a in alphas]
    assert [b is None for b in browser] == [s is None for s, _ in server]
    assert [a["small"] for a in answers] == [small for _, small in server]
    pairs = [(b, s) for b, (s, _) in zip(browser, server) if b is not None]
    differences = np.array([np.abs(b - s).mean() for b, s in pairs])
    model = lenet.load_pretrained()
    read_b = lenet.infer(model, np.stack([b for b, _ in pairs])).probabilities.argmax(1)
    read_s = lenet.infer(model, np.stack([s for _, s in pairs])).probabilities.argmax(1)
    agree = float((read_b == read_s).mean())
    print(f"\n{len(pairs)} drawings: mean |browser − server| per pixel {differences.mean() * 255:.3f}/255 "
          f"(worst drawing {differences.max() * 255:.3f}/255), same reading on {agree:.1%}")  # fmt: skip
    assert differences.mean() <= 2 / 255
    assert agree >= 0.995
