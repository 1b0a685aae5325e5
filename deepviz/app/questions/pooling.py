"""/pooling's questions, on the page's grid of numbers: what one output of the pooling is, and
(max pooling) which input of its window gets its gradient in the backward pass. The reveal
marks that output's window on the page (its ``cell``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from deepviz.app.questions.common import bad, integer, question
from deepviz.app.settings import Settings
from deepviz.engine.arithmetic import conv_output_size
from deepviz.lessons import convlab

SIZE = 6  # static/js/pooling.js's SIZE: the page's grid of numbers is SIZE × SIZE
KINDS = {"max": "Max", "avg": "Average"}
MOST_KERNEL, MOST_STRIDE, MOST_SEED = 4, 4, 999_999_999  # pooling.js's TABLE


def numbers(seed: int) -> np.ndarray:
    """static/js/pooling.js's ``numbers(seed)``: whole numbers 0..9 from a linear congruential
    generator, computed in doubles as JavaScript does (the first product is rounded there)."""
    x = float(seed) * 2654435761.0 % 4294967296.0
    grid = np.empty((SIZE, SIZE))
    for i in range(SIZE):
        for j in range(SIZE):
            x = (1664525.0 * x + 1013904223.0) % 4294967296.0
            grid[i, j] = math.floor(x / 4294967296.0 * 10)
    return grid


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    kind = state.get("kind", "max")
    if kind not in KINDS:
        raise bad("kind", f"expected one of {', '.join(KINDS)}")
    k = integer(state, "k", 2, 1, MOST_KERNEL)
    s = integer(state, "s", 2, 1, MOST_STRIDE)
    grid = numbers(integer(state, "seed", 1, 0, MOST_SEED))
    h = w = conv_output_size(SIZE, k, 0, s)
    i, j = h // 2, w // 2  # the output asked about: the middle one
    output = convlab.pool(grid, kind, k, s).output  # (h, w)
    show = {**state, "cell": f"{i}.{j}"}
    where = f"{KINDS[kind]} pooling, window {k}×{k}, stride {s}, of the numbers on the page"
    found = [question(f"{where}: what is output row {i}, column {j} (counting from 0)?", "number",
                      float(output[i, j]), "/pooling", show)]  # fmt: skip
    if kind == "max" and k > 1:
        upstream = np.zeros((h, w))
        upstream[i, j] = 1.0  # the backward pass of this output alone
        gradient = convlab.pool(grid, kind, k, s, upstream).gradient
        window = [(r, c) for r in range(i * s, i * s + k) for c in range(j * s, j * s + k)]
        (receives,) = [n for n, (r, c) in enumerate(window) if gradient[r, c] != 0]
        text = f"{where}: which input of output ({i}, {j})'s window receives its gradient in the backward pass?"
        found.append(question(text, "choice", float(receives), "/pooling", show,
                              [f"row {r}, column {c}" for r, c in window]))  # fmt: skip
    return found
