"""/optimizers' question: which optimizer of the race reaches the minimum first; the reveal
moves the class to the race's end."""

from __future__ import annotations

from collections.abc import Callable

from deepviz.app.errors import InputError
from deepviz.app.questions.common import bad, integer, question, validated
from deepviz.app.routers import optimize as optimize_router
from deepviz.app.schemas import OptimizeRequest
from deepviz.app.settings import Settings
from deepviz.lessons import race, surfaces

DEFAULT_RACERS = "gd,momentum,adam,newton,newton_safeguarded"  # static/js/optimizers.js's


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    def number(key: str, default: str) -> float:
        try:
            value = float(state.get(key, default) or default)
        except ValueError:
            raise bad(key, "expected a number") from None
        return value

    surface_name = state.get("surface", "quadratic")
    names = [n for n in state.get("racers", DEFAULT_RACERS).split(",") if n]
    start = [number("x", "nan"), number("y", "nan")] if state.get("x") and state.get("y") else None
    body = {
        "surface": surface_name, "start": start, "steps": integer(state, "steps", 100, 1, 10**6),
        "condition": number("k", "10"),
        "optimizers": [{"name": n, "learning_rate": number(f"lr_{n}", "nan") if state.get(f"lr_{n}") else None,
                        "momentum": number("mu", "0.9"), "batch_size": integer(state, "batch", 10, 1, 10**6),
                        "damping": number("damping", "0")} for n in names],
        "dataset": {"name": state.get("data", "blobs"), "points": integer(state, "n", 100, 2, 10**6),
                    "noise": number("noise", "0.1"), "seed": integer(state, "seed", 0, 0, 2**31 - 1)},
        "seed": integer(state, "seed", 0, 0, 2**31 - 1),
    }  # fmt: skip
    keys = {"surface": "surface", "start": "x", "steps": "steps", "condition": "k", "optimizers": "racers",
            "dataset": "data", "seed": "seed"}  # fmt: skip
    request = validated(OptimizeRequest, body, keys)
    try:
        optimize_router._check_sizes(request, settings)
        if request.surface == "logistic":
            d = request.dataset
            surface = surfaces.make("logistic", dataset=d.name, points=d.points, noise=d.noise, seed=d.seed)
        else:
            surface = surfaces.make(request.surface, request.condition)
        request.optimizers = [r for r in request.optimizers if r.name in surface.optimizers]  # as the page does
        if not request.optimizers:
            raise bad("racers", "no optimizer of this list applies to this surface")
        optimize_router._check(request, surface, settings)
    except InputError as error:
        raise bad(keys.get(str(error.loc[1]), "state") if len(error.loc) > 1 else "state", error.msg) from None
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
    return [question(text, "choice", float(answer), "/optimizers", {**state, "t": ""}, options)]
