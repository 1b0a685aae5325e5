"""/training's questions, exact and cheap (no training): how many parameters the network has,
its mean training loss with its initial weights (before the first step, what the page's first
frame shows: about ln 2 for two classes), and (minibatch optimizers) how many steps make one
epoch. The reveal shows the run as it starts."""

from __future__ import annotations

import re
from collections.abc import Callable

from deepviz.app.errors import InputError
from deepviz.app.questions.common import bad, integer, question, validated
from deepviz.app.schemas.training import RunConfigIn, check_config
from deepviz.app.settings import Settings
from deepviz.lessons.playground.config import FULL_BATCH
from deepviz.lessons.playground.model import evaluate
from deepviz.lessons.playground.run import Run

# static/js/training.js's TABLE: its defaults, and the bounds it reads the URL with
DEFAULTS = {"data": "xor", "noise": "0.1", "points": "200", "test": "0.3", "seed": "0", "hidden": "8,8",
            "act": "tanh,tanh", "dropout": "0", "opt": "adam", "lr": "0.03", "batch": "10", "l2": "0",
            "schedule": "constant", "pts": ""}  # fmt: skip
DROPOUTS = ("0", "0.1", "0.2", "0.3", "0.4", "0.5")
MOST_SEED = 999_999
MOMENTUM, DAMPING = 0.9, 0.001  # training.js's trainConfig sends these
# the config's fields (paths) → the URL's parameters
KEYS = {"data": "pts", "data.name": "data", "data.points": "points", "data.noise": "noise",
        "data.test_fraction": "test", "data.seed": "seed", "data.custom": "pts", "model": "act",
        "model.hidden": "hidden", "model.activation": "act", "model.dropout": "dropout", "train": "opt",
        "train.optimizer": "opt", "train.lr": "lr", "train.batch_size": "batch", "train.l2": "l2",
        "train.schedule": "schedule", "seed": "seed"}  # fmt: skip
LOSSES = {"binary": "logistic loss", "multiclass": "cross-entropy", "regression": "squared error"}


def _number(state: dict, key: str, low: float, high: float) -> float:
    text = state.get(key, DEFAULTS[key]).strip()
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails too
        raise bad(key, f"expected a number from {low:g} to {high:g}, not “{text[:20]}”")
    return value


def _points(text: str) -> list[list[float]]:
    """training_data.js's readPoints: "x,y,label;…" → [[x, y, label], …] (the schema checks them)."""
    rows = []
    for n, part in enumerate(text.split(";") if text else []):
        m = re.fullmatch(r"([^,]+),([^,]+),([012])", part)
        try:
            rows.append([float(m[1]), float(m[2]), float(m[3])])
        except (TypeError, ValueError):
            raise bad("pts", f"point {n + 1} is not x,y,label") from None
    return rows


def config_of(state: dict, settings: Settings) -> RunConfigIn:
    """The run the page configures for its URL ``state`` (training.js's ``config()``), checked
    by the stream's schema and limits."""
    get = lambda key: state.get(key, DEFAULTS[key])  # noqa: E731
    units = [u for u in get("hidden").split(",") if u != ""]
    if not all(re.fullmatch(r"\d{1,4}", u) for u in units):
        raise bad("hidden", "expected the units of each hidden layer, by commas: 8,8")
    if get("dropout") not in DROPOUTS:
        raise bad("dropout", f"expected one of {', '.join(DROPOUTS)}")
    activations = [a for a in get("act").split(",") if a]
    if len(activations) != len(units):  # the page refuses them and takes tanh for each layer
        activations = ["tanh"] * len(units)
    seed = integer(state, "seed", 0, 0, MOST_SEED)
    most = settings.max_train_points
    body = {
        "data": {"name": get("data"), "points": integer(state, "points", 200, 20, most),
                 "noise": _number(state, "noise", 0, 0.5), "test_fraction": _number(state, "test", 0.1, 0.5),
                 "seed": seed, "custom": _points(get("pts")) if get("data") == "custom" else None},
        "model": {"hidden": [int(u) for u in units], "activation": activations,
                  "dropout": float(get("dropout"))},
        "train": {"optimizer": get("opt"), "lr": _number(state, "lr", 0.00001, 10), "momentum": MOMENTUM,
                  "batch_size": integer(state, "batch", 10, 1, most), "l2": _number(state, "l2", 0, 1),
                  "schedule": get("schedule"), "damping": DAMPING},
        "seed": seed,
    }  # fmt: skip
    config = validated(RunConfigIn, body, KEYS)
    try:
        check_config(config, settings, ["body", "config"])
    except InputError as error:
        path = [str(part) for part in error.loc[2:]]
        found = [KEYS[p] for p in (".".join(path[:n]) for n in range(len(path), 0, -1)) if p in KEYS]
        raise bad(found[0] if found else "data", error.msg) from None
    return config


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    config = config_of(state, settings)
    run = Run(config.to_run())  # the data, its split and the initial weights: no step taken
    network = " → ".join(map(str, run.sizes))
    n_train, n_test = len(run.train_set), len(run.test_set)
    train_loss, _ = evaluate(run.model, run.x, run.train_set.y, run.task)
    show = dict(state)
    found = [
        question(f"The network {network}: how many parameters (weights and biases) does it have?", "number",
                 float(run.model.parameter_count()), "/training", show),
        question(f"{config.data.name}, {n_train} training points, the network {network} with its initial weights: "
                 f"what is the mean training loss ({LOSSES[run.task]}) before the first step? (3 decimals)",
                 "number", round(train_loss, 3), "/training", show),
    ]  # fmt: skip
    if config.train.optimizer not in FULL_BATCH:
        text = (f"{n_train + n_test} points, {n_test} of them held out for the test, minibatches of "
                f"{config.train.batch_size}: how many steps make one epoch?")  # fmt: skip
        found.append(question(text, "number", float(len(run.loader)), "/training", show))
    return found
