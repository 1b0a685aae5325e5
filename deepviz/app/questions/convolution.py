"""/convolution's question: the output's size, by the formula."""

from __future__ import annotations

from collections.abc import Callable

from deepviz.app.questions.common import bad, integer, question
from deepviz.app.settings import Settings
from deepviz.engine.arithmetic import conv_output_size
from deepviz.lessons import kernels


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    n = integer(state, "n", 8, 4, 16)
    p = integer(state, "p", 1, 0, 4)
    s = integer(state, "s", 1, 1, 4)
    name = state.get("k", "sobel_x")
    if name == "custom":
        rows = [r for r in state.get("w", "").split(";") if r.strip()]
        if not rows or len(rows) > 11 or any(len(r.split(",")) != len(rows[0].split(",")) for r in rows):
            raise bad("w", "expected a rectangle of at most 11×11 weights: numbers by commas, rows by semicolons")
        k = len(rows)
    elif name in kernels.KERNELS:
        k = kernels.kernel(name).shape[0]
    else:
        raise bad("k", f"expected one of {', '.join(kernels.KERNELS)} or custom")
    if k > n + 2 * p:
        return []
    size = conv_output_size(n, k, p, s)
    text = f"Input {n}×{n}, kernel {k}×{k}, padding {p}, stride {s}: how many pixels wide is the output?"
    return [question(text, "number", float(size), "/convolution", {**state, "pos": "0"})]
