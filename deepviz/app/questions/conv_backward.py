"""/convolution-backward's questions, on the page's numbers (its input and kernel from the
seed, its upstream gradient): the value of one cell of the gradient the page builds (the
middle one: of the input for ∂L/∂X, of the kernel for ∂L/∂W, or ∂L/∂b), and, for ∂L/∂X, how
many output windows cover that input pixel (the paths its gradient comes back along). The
reveal moves the page to that cell, where it shows the sum that makes it."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from deepviz.app.errors import InputError
from deepviz.app.questions.common import bad, integer, question, validated
from deepviz.app.routers import cnn as cnn_router
from deepviz.app.schemas.cnn import ConvBackwardRequest
from deepviz.app.settings import Settings
from deepviz.engine.arithmetic import conv_output_size

GRADIENTS = {"dW": "∂L/∂W", "dX": "∂L/∂X", "db": "∂L/∂b"}
UPSTREAM = {"ones": "all ones", "count": "1, 2, 3, … in reading order", "random": "whole numbers from −3 to 3"}
KEYS = {"input": "n", "kernel": "k", "upstream": "up", "seed": "seed", "padding": "p", "stride": "s",
        "dilation": "d", "cell": "grad"}  # fmt: skip


def numbers(seed: int, n: int, k: int) -> tuple[list[list[float]], list[list[float]]]:
    """static/js/conv_backward.js's ``numbers(seed, n, k)``: the input's whole numbers 0..9,
    then the kernel's −2..2, from a linear congruential generator computed in doubles as
    JavaScript does (the first product is rounded there)."""
    x = float(seed) * 2654435761.0 % 4294967296.0

    def following() -> float:
        nonlocal x
        x = (1664525.0 * x + 1013904223.0) % 4294967296.0
        return x / 4294967296.0

    image = [[float(math.floor(following() * 10)) for _ in range(n)] for _ in range(n)]
    kernel = [[float(math.floor(following() * 5) - 2) for _ in range(k)] for _ in range(k)]
    return image, kernel


def backward(body: dict, settings: Settings) -> dict:
    """The page's own API (POST /api/v1/conv/backward), its errors on the URL's parameters."""
    request = validated(ConvBackwardRequest, body, KEYS)
    try:
        return cnn_router.conv_backward(request, settings)
    except InputError as error:
        raise bad(KEYS.get(str(error.loc[1]), "n"), error.msg) from None


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    grad = state.get("grad", "dX")
    if grad not in GRADIENTS:
        raise bad("grad", f"expected one of {', '.join(GRADIENTS)}")
    up = state.get("up", "count")
    if up not in UPSTREAM:
        raise bad("up", f"expected one of {', '.join(UPSTREAM)}")
    n, k = integer(state, "n", 4, 3, 7), integer(state, "k", 2, 1, 3)  # conv_backward.js's TABLE
    s, p, d = integer(state, "s", 1, 1, 3), integer(state, "p", 0, 0, 2), integer(state, "d", 1, 1, 2)
    seed = integer(state, "seed", 1, 0, 999_999_999)
    if conv_output_size(n, k, p, s, d) < 1:
        return []  # the kernel does not fit: the page says so, there is nothing to ask
    image, kernel = numbers(seed, n, k)
    body = {"input": image, "kernel": kernel, "upstream": up, "seed": seed, "stride": s, "padding": p, "dilation": d}
    found = backward(body, settings)
    # the cell asked about: the middle of the input (∂L/∂X) or of the kernel (∂L/∂W), and the
    # page's position there (it walks the padded input for ∂L/∂X)
    row = col = (n if grad == "dX" else k if grad == "dW" else 1) // 2
    width = {"dX": n + 2 * p, "dW": k, "db": 1}[grad]
    at = (row + p) * width + col + p if grad == "dX" else row * width + col
    show = {**state, "pos": str(at)}
    where = (f"Input {n}×{n}, kernel {k}×{k}, stride {s}, padding {p}, dilation {d}, the numbers on the page, "
             f"upstream gradient {UPSTREAM[up]}")  # fmt: skip
    value = found["db"] if grad == "db" else found[grad][row][col]
    cell = "" if grad == "db" else f" at row {row}, column {col}"
    asked = [question(f"{where}: what is {GRADIENTS[grad]}{cell}?", "number", float(value), "/convolution-backward",
                      show)]  # fmt: skip
    if grad == "dX":
        ones = np.ones((k, k)).tolist()
        paths = backward({**body, "kernel": ones, "upstream": "ones"}, settings)["dX"][row][col]
        text = (f"Input {n}×{n}, kernel {k}×{k}, stride {s}, padding {p}, dilation {d}: how many output "
                f"positions' windows cover input pixel ({row}, {col}), sending its gradient back?")  # fmt: skip
        asked.append(question(text, "number", float(round(paths)), "/convolution-backward", show))
    return asked
