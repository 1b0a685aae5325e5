"""/adversarial's questions, on the gallery digit the page attacks (its ``digit``, else the
first; a drawing is not in the URL): which digit the network reads after the attack, the
smallest ε that fools it, and (on the standard LeNet-5) whether the adversarially trained one
is fooled by the same attack. The reveal moves the class to the attack that shows it."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable

import numpy as np

from deepviz.app import frames
from deepviz.app.errors import InputError
from deepviz.app.questions.common import bad, integer, question, validated
from deepviz.app.routers import robustness as robustness_router
from deepviz.app.schemas.robustness import AdversarialRequest
from deepviz.app.settings import Settings
from deepviz.lessons import adversarial

MODELS = {"standard": "the standard LeNet-5", "robust": "the adversarially trained LeNet-5"}  # adversarial.js's
DIGITS = [str(d) for d in range(10)]
FOOLED = ["yes: it is fooled", "no: it still reads the digit"]
KEYS = {"pixels": "digit", "target": "target", "steps": "steps", "model": "model", "epsilon": "eps"}


def gallery_digit(index: int) -> tuple[list[list[float]], int]:
    """Gallery digit ``index`` as the page sends it, and its label: the route's quantized bytes
    decoded as render/maps.js's ``decode`` does (min + b · (max − min) / 255, in doubles),
    clipped to [0, 1]."""
    found = adversarial.digits()
    where = np.flatnonzero(found["index"] == index)
    if not len(where):
        raise bad("digit", "not one of the gallery's digits")
    m = frames.quantized("pixels", found["images"][int(where[0])] / 255.0)
    scale = (m["max"] - m["min"]) / 255
    levels = np.frombuffer(base64.b64decode(m["data"]), np.uint8).reshape(28, 28)
    rows = [[min(1.0, max(0.0, m["min"] + int(b) * scale)) for b in row] for row in levels]
    return rows, int(found["labels"][int(where[0])])


def _number(state: dict, key: str, default: str, low: float, high: float) -> float:
    text = state.get(key, default).strip()
    try:
        value = float(text)
    except ValueError:
        raise bad(key, f"expected a number from {low:g} to {high:g}") from None
    if not low <= value <= high:  # NaN too
        raise bad(key, f"expected a number from {low:g} to {high:g}")
    return value


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    digit = state.get("digit", "")
    index = integer(state, "digit", 0, 0, 99_999) if digit else int(adversarial.digits()["index"][0])
    target = state.get("target", "")
    if target not in ("", *DIGITS):
        raise bad("target", "expected a digit 0–9, or nothing (untargeted)")
    pixels, label = gallery_digit(index)
    body = {"pixels": pixels, "target": int(target) if target else None, "model": state.get("model", "standard"),
            "steps": integer(state, "steps", 10, 1, settings.max_adversarial_steps),
            "epsilon": _number(state, "eps", "0.1", 0, 0.5)}  # fmt: skip
    request = validated(AdversarialRequest, body, KEYS)
    try:
        image = robustness_router._digit(request, settings)  # the route's own limits
    except InputError as error:
        raise bad(KEYS.get(str(error.loc[1]), "digit"), error.msg) from None
    how = "FGSM" if request.steps == 1 else f"the {request.steps}-step attack"
    wanted = "another digit" if request.target is None else f"a {request.target}"
    aim = "" if request.target is None else f" towards a {request.target}"
    where = f"Test digit {index}, a handwritten {label}, attacked by {how}{aim}"
    model = adversarial.load(request.model)
    found = adversarial.attack_one(model, image, request.epsilon, request.steps, request.target, between)
    text = f"{where} at ε = {request.epsilon:g} on {MODELS[request.model]}: which digit does it read after the attack?"
    asked = [question(text, "choice", float(found.prediction), "/adversarial", dict(state), DIGITS)]
    grid = adversarial.grid(settings.adversarial_search_max_epsilon, settings.adversarial_search_resolution)
    search = adversarial.smallest_epsilon(model, image, request.steps, request.target, grid, between, math.inf)
    if search.epsilon:  # None: not even the largest ε; 0: it reads the target already
        text = (f"{where}, on {MODELS[request.model]}: what is the smallest ε that makes it read {wanted}? "
                f"(to {settings.adversarial_search_resolution:g})")  # fmt: skip
        show = {**state, "eps": f"{search.epsilon:g}"}
        asked.append(question(text, "number", search.epsilon, "/adversarial", show))
    if request.model == "standard":
        robust = adversarial.attack_one(adversarial.load("robust"), image, request.epsilon, request.steps,
                                        request.target, between)  # fmt: skip
        text = f"{where} at ε = {request.epsilon:g}: is the adversarially trained LeNet-5 fooled too?"
        asked.append(question(text, "choice", 0.0 if robust.flipped else 1.0, "/adversarial",
                              {**state, "model": "robust"}, FOOLED))  # fmt: skip
    return asked
