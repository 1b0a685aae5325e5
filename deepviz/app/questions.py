"""Ready-made questions for classroom polls (issue 12's "predict, then reveal"): for a page and
its URL state, the questions that page offers, each with its answer computed here by the
engine and the page state that shows the answer (the reveal moves the class there).

A page's URL state is read as its page does (static/js/*.js's TABLE), turned into the body of
that page's own API request, and checked by that request's schema and its router's limits: a
question costs no more than the page itself. A value that is wrong answers 422 with
loc ["body", "state", <the URL parameter>]."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ValidationError

from deepviz.app import frames
from deepviz.app.errors import InputError
from deepviz.app.routers import backprop as backprop_router
from deepviz.app.routers import optimize as optimize_router
from deepviz.app.schemas import GraphRequest, OptimizeRequest
from deepviz.app.settings import Settings
from deepviz.engine.arithmetic import conv_output_size
from deepviz.lessons import kernels, lenet, race, surfaces
from deepviz.lessons.expr import ExprError, evaluate

MAX_QUESTIONS = 12  # per page and state: the dashboard lists them all
BACKPROP_PRESETS = {  # static/js/backprop.js's PRESETS
    "notes": ("(x + y) * z", "x = -2, y = 5, z = -4"),
    "neuron": ("sigmoid(w0*x0 + w1*x1 + w2)", "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3"),
    "fanout": ("x * y + x", "x = 3, y = -4"),
    "softmax": (
        "z = W @ x + b; p = softmax(z); L = -log(p[y])",
        "W = [[0.2, -0.5], [1.5, 1.3], [0, 0.25]], x = [1, -2], b = [1.1, 3.2, -1.2], y = 2",
    ),
}
DEFAULT_RACERS = "gd,momentum,adam,newton,newton_safeguarded"  # static/js/optimizers.js's
DIGITS = [str(d) for d in range(10)]


def _bad(key: str, msg: str) -> InputError:
    return InputError(["body", "state", key], msg)


def _validated(model: type[BaseModel], body: dict, keys: dict[str, str]) -> BaseModel:
    """The request ``body`` checked by ``model``; an error names the URL parameter (``keys``:
    the body's first field → the parameter it came from)."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        key = keys.get(str(first["loc"][0]), str(first["loc"][0])) if first["loc"] else "state"
        raise _bad(key, first["msg"]) from None


def _integer(state: dict, key: str, default: int, low: int, high: int) -> int:
    text = state.get(key, str(default)).strip()
    if not re.fullmatch(r"-?\d{1,7}", text) or not low <= int(text) <= high:
        raise _bad(key, f"expected a whole number from {low} to {high}, not “{text[:20]}”")
    return int(text)


def _question(text: str, kind: str, answer: float, page: str, state: dict, options: list[str] | None = None) -> dict:
    return {"question": text, "kind": kind, "options": options or [], "answer": answer,
            "show": {"page": page, "state": state}}  # fmt: skip


# -- /backprop: the downstream gradient of a backward step --------------------------------
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
            raise _bad("values", f"“{part.strip()[:40]}” is not name = number or name = [list]") from None
    return values


def backprop(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    expr, text = state.get("expr", BACKPROP_PRESETS["notes"][0]), state.get("values", BACKPROP_PRESETS["notes"][1])
    if "preset" in state and "expr" not in state and state["preset"] in BACKPROP_PRESETS:  # as the page reads it
        expr, text = BACKPROP_PRESETS[state["preset"]]
    request = _validated(GraphRequest, {"expression": expr, "values": _values(text), "check": False},
                         {"expression": "expr", "values": "values"})  # fmt: skip
    if len(request.expression) > settings.max_expression_length:
        raise _bad("expr", f"at most {settings.max_expression_length} characters")
    try:
        backprop_router._check_sizes(request.values, settings)
        run = evaluate(request.expression, request.values, max_values=settings.max_graph_values,
                       **backprop_router._limits(settings))  # fmt: skip
    except ExprError as error:
        raise _bad("values" if error.field[0] == "values" else "expr", error.reason) from None
    except InputError as error:
        raise _bad("values", error.msg) from None
    trace, out = run.trace, run.trace.nodes[run.trace.output].label
    shown = {k: v for k, v in state.items() if k != "phase"}
    questions = []
    for b, step in enumerate(trace.backward):
        node = trace.nodes[step.node]
        for s in step.inputs:
            source = trace.nodes[s.node]
            if s.downstream is None or np.size(s.downstream) != 1 or source.kind == "constant":
                continue
            at = {**shown, "step": str(1 + len(trace.nodes) + b)}  # the timeline: start, forward nodes, backward
            text = (f"Backward pass at {node.label} = {node.formula}: what downstream gradient "
                    f"∂{out}/∂{source.label} flows to {source.label}?")  # fmt: skip
            questions.append(_question(text, "number", float(np.asarray(s.downstream).reshape(())), "/backprop", at))
    return questions[:MAX_QUESTIONS]


# -- /convolution: the output size ------------------------------------------------------
def convolution(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    n = _integer(state, "n", 8, 4, 16)
    p = _integer(state, "p", 1, 0, 4)
    s = _integer(state, "s", 1, 1, 4)
    name = state.get("k", "sobel_x")
    if name == "custom":
        rows = [r for r in state.get("w", "").split(";") if r.strip()]
        if not rows or len(rows) > 11 or any(len(r.split(",")) != len(rows[0].split(",")) for r in rows):
            raise _bad("w", "expected a rectangle of at most 11×11 weights: numbers by commas, rows by semicolons")
        k = len(rows)
    elif name in kernels.KERNELS:
        k = kernels.kernel(name).shape[0]
    else:
        raise _bad("k", f"expected one of {', '.join(kernels.KERNELS)} or custom")
    if k > n + 2 * p:
        return []
    size = conv_output_size(n, k, p, s)
    text = f"Input {n}×{n}, kernel {k}×{k}, padding {p}, stride {s}: how many pixels wide is the output?"
    return [_question(text, "number", float(size), "/convolution", {**state, "pos": "0"})]


# -- /lenet: the digit LeNet-5 reads --------------------------------------------------
def lenet_page(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    if not state.get("mistake"):
        return []  # a digit the state does not identify (the student's own drawing)
    index = _integer(state, "mistake", 0, 0, 10**6)
    found = lenet.mistakes()
    where = np.flatnonzero(found["index"] == index)
    if not len(where):
        raise _bad("mistake", "not one of the mistakes gallery's digits")
    k = int(where[0])
    reading = frames.classify([found["images"][k] / 255.0], [None])[0]["prediction"]
    text = f"Test digit {index} is a handwritten {int(found['labels'][k])}: which digit will LeNet-5 read?"
    return [_question(text, "choice", float(reading), "/lenet", dict(state), DIGITS)]


# -- /optimizers: who reaches the minimum first ------------------------------------------
def optimizers(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    def number(key: str, default: str) -> float:
        try:
            value = float(state.get(key, default) or default)
        except ValueError:
            raise _bad(key, "expected a number") from None
        return value

    surface_name = state.get("surface", "quadratic")
    names = [n for n in state.get("racers", DEFAULT_RACERS).split(",") if n]
    start = [number("x", "nan"), number("y", "nan")] if state.get("x") and state.get("y") else None
    body = {
        "surface": surface_name, "start": start, "steps": _integer(state, "steps", 100, 1, 10**6),
        "condition": number("k", "10"),
        "optimizers": [{"name": n, "learning_rate": number(f"lr_{n}", "nan") if state.get(f"lr_{n}") else None,
                        "momentum": number("mu", "0.9"), "batch_size": _integer(state, "batch", 10, 1, 10**6),
                        "damping": number("damping", "0")} for n in names],
        "dataset": {"name": state.get("data", "blobs"), "points": _integer(state, "n", 100, 2, 10**6),
                    "noise": number("noise", "0.1"), "seed": _integer(state, "seed", 0, 0, 2**31 - 1)},
        "seed": _integer(state, "seed", 0, 0, 2**31 - 1),
    }  # fmt: skip
    keys = {"surface": "surface", "start": "x", "steps": "steps", "condition": "k", "optimizers": "racers",
            "dataset": "data", "seed": "seed"}  # fmt: skip
    request = _validated(OptimizeRequest, body, keys)
    try:
        optimize_router._check_sizes(request, settings)
        if request.surface == "logistic":
            d = request.dataset
            surface = surfaces.make("logistic", dataset=d.name, points=d.points, noise=d.noise, seed=d.seed)
        else:
            surface = surfaces.make(request.surface, request.condition)
        request.optimizers = [r for r in request.optimizers if r.name in surface.optimizers]  # as the page does
        if not request.optimizers:
            raise _bad("racers", "no optimizer of this list applies to this surface")
        optimize_router._check(request, surface, settings)
    except InputError as error:
        raise _bad(keys.get(str(error.loc[1]), "state") if len(error.loc) > 1 else "state", error.msg) from None
    if len(request.optimizers) < 2:
        return []
    racers = [race.Racer(r.name, r.learning_rate, r.momentum, r.batch_size, r.damping) for r in request.optimizers]
    start_point = tuple(request.start) if request.start is not None else surface.start
    runs = race.race(surface, start_point, racers, request.steps, request.seed, between)
    titles = [surfaces.OPTIMIZER_TITLES[t.name] for t in runs]
    reached = [(t.reached, i) for i, t in enumerate(runs) if t.reached is not None]
    options = [*titles, f"none within {request.steps} steps"]
    answer = min(reached)[1] if reached else len(titles)  # a tie: the first listed
    text = f"{surface.title}: which optimizer reaches the minimum first?"
    return [_question(text, "choice", float(answer), "/optimizers", {**state, "t": ""}, options)]


PAGES: dict[str, Callable[[dict, Settings, Callable[[], None]], list[dict]]] = {
    "/backprop": backprop,
    "/convolution": convolution,
    "/lenet": lenet_page,
    "/optimizers": optimizers,
}


def questions(page: str, state: dict, settings: Settings, between: Callable[[], None] = lambda: None) -> list[dict]:
    """The ready-made questions of ``page`` for its URL ``state`` (none for a page that has none),
    only those a poll can ask (max_question_length, max_poll_options); ``between()`` is called
    between the race's steps (the request's deadline)."""
    size = len(json.dumps({"page": page, "state": state}, ensure_ascii=False).encode())
    if size > settings.max_class_state_bytes:  # as a state the instructor posts: the answer's state is one
        raise InputError(["body", "state"], f"the page and its state are {size} bytes as JSON; the limit is "
                         f"{settings.max_class_state_bytes}")  # fmt: skip
    ask = PAGES.get(page)
    found = ask(state, settings, between) if ask else []
    return [q for q in found if len(q["options"]) <= settings.max_poll_options
            and max(map(len, [q["question"], *q["options"]])) <= settings.max_question_length]  # fmt: skip
