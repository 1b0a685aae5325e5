"""/backprop's questions: the downstream gradient a backward step sends to each input of its
node; the reveal moves the class to that step."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import numpy as np

from deepviz.app.errors import InputError
from deepviz.app.questions.common import MAX_QUESTIONS, bad, question, validated
from deepviz.app.routers import backprop as backprop_router
from deepviz.app.schemas import GraphRequest
from deepviz.app.settings import Settings
from deepviz.lessons.expr import ExprError, evaluate

BACKPROP_PRESETS = {  # static/js/backprop.js's PRESETS
    "notes": ("(x + y) * z", "x = -2, y = 5, z = -4"),
    "neuron": ("sigmoid(w0*x0 + w1*x1 + w2)", "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3"),
    "fanout": ("x * y + x", "x = 3, y = -4"),
    "softmax": (
        "z = W @ x + b; p = softmax(z); L = -log(p[y])",
        "W = [[0.2, -0.5], [1.5, 1.3], [0, 0.25]], x = [1, -2], b = [1.1, 3.2, -1.2], y = 2",
    ),
}


def _values(text: str) -> dict:
    """static/js/backprop.js's parseValues: "x = -2, W = [[1, 2], [3, 4]]" → {x: -2, W: …}."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text + "\0"):
        depth += (c == "[") - (c == "]")
        if c == "\0" or (c in ",;" and depth == 0):  # the end takes what is left, closed or not
            if text[start:i].strip():
                parts.append(text[start:i])
            start = i + 1
    values = {}
    for part in parts:
        match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*=\s*(.+?)\s*", part, re.S)
        try:
            values[match[1]] = json.loads(match[2])
        except (TypeError, ValueError):
            raise bad("values", f"“{part.strip()[:40]}” is not name = number or name = [list]") from None
    return values


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    expr, text = state.get("expr", BACKPROP_PRESETS["notes"][0]), state.get("values", BACKPROP_PRESETS["notes"][1])
    if "preset" in state and "expr" not in state and state["preset"] in BACKPROP_PRESETS:  # as the page reads it
        expr, text = BACKPROP_PRESETS[state["preset"]]
    request = validated(GraphRequest, {"expression": expr, "values": _values(text), "check": False},
                         {"expression": "expr", "values": "values"})  # fmt: skip
    if len(request.expression) > settings.max_expression_length:
        raise bad("expr", f"at most {settings.max_expression_length} characters")
    try:
        backprop_router._check_sizes(request.values, settings)
        run = evaluate(request.expression, request.values, max_values=settings.max_graph_values,
                       **backprop_router._limits(settings))  # fmt: skip
    except ExprError as error:
        raise bad("values" if error.field[0] == "values" else "expr", error.reason) from None
    except InputError as error:
        raise bad("values", error.msg) from None
    trace, out = run.trace, run.trace.nodes[run.trace.output].label
    shown = {k: v for k, v in state.items() if k != "phase"}
    found = []
    for b, step in enumerate(trace.backward):
        node = trace.nodes[step.node]
        for s in step.inputs:
            source = trace.nodes[s.node]
            if s.downstream is None or np.size(s.downstream) != 1 or source.kind == "constant":
                continue
            at = {**shown, "step": str(1 + len(trace.nodes) + b)}  # the timeline: start, forward nodes, backward
            text = (f"Backward pass at {node.label} = {node.formula}: what downstream gradient "
                    f"∂{out}/∂{source.label} flows to {source.label}?")  # fmt: skip
            found.append(question(text, "number", float(np.asarray(s.downstream).reshape(())), "/backprop", at))
    return found[:MAX_QUESTIONS]
