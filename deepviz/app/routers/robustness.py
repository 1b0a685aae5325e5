"""Adversarial digits (chapter 8): attack a digit with the network's own input gradient, find
the smallest ε that changes its reading, and compare the standard LeNet-5 with the
adversarially trained one."""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np
from fastapi import APIRouter

from deepviz.app import frames
from deepviz.app.dependencies import BudgetDep, SettingsDep
from deepviz.app.errors import InputError
from deepviz.app.preprocess import network_input
from deepviz.app.schemas import BAD_INPUT
from deepviz.app.schemas.robustness import (
    AdversarialOut,
    AdversarialRequest,
    AttackSource,
    DigitOut,
    RobustnessOut,
    SmallestEpsilonOut,
    SmallestEpsilonRequest,
)
from deepviz.app.settings import Settings
from deepviz.lessons import adversarial

router = APIRouter(prefix="/api/v1/lenet", tags=["robustness"])


def _digit(request: AttackSource, settings: Settings) -> np.ndarray:
    """The 28×28 image to attack, once the request is within the limits."""
    if request.steps > settings.max_adversarial_steps:
        raise InputError(["body", "steps"], f"at most {settings.max_adversarial_steps} steps")
    image, _ = network_input(request, settings)
    if image is None:
        raise InputError(["body", "image"], "the drawing is empty: draw a digit to attack it")
    return image


def _rows(a: np.ndarray) -> list[list[float]]:
    return a.astype(float).tolist()


@router.post("/adversarial", response_model=AdversarialOut, responses=BAD_INPUT)
def attack(request: AdversarialRequest, settings: SettingsDep, budget: BudgetDep) -> dict:
    """FGSM (steps = 1) or the iterated attack on one digit, within ε of it (L∞): the perturbed
    image, what the network reads in it, and whether the attack succeeded."""
    image = _digit(request, settings)
    model = adversarial.load(request.model)
    found = adversarial.attack_one(model, image, request.epsilon, request.steps, request.target, budget.check)
    return {
        "model": request.model,
        "pixels": _rows(found.pixels),
        "prediction": found.prediction,
        "probabilities": found.after.astype(float).tolist(),
        "perturbation": np.round(found.perturbation.astype(float), 5).tolist(),
        "perturbation_linf": found.linf,
        "flipped": found.flipped,
        "target": request.target,
        "original": _rows(found.original),
        "original_prediction": found.prediction_before,
        "original_probabilities": found.before.astype(float).tolist(),
    }


@router.post("/adversarial/smallest-epsilon", response_model=SmallestEpsilonOut, responses=BAD_INPUT)
def smallest_epsilon(request: SmallestEpsilonRequest, settings: SettingsDep, budget: BudgetDep) -> dict:
    """The smallest ε (on a grid of adversarial_search_resolution up to
    adversarial_search_max_epsilon) at which the attack succeeds, by bisection; when the
    request's time runs short, the bracket found so far (``exact`` false)."""
    image = _digit(request, settings)
    model = adversarial.load(request.model)
    top, resolution = settings.adversarial_search_max_epsilon, settings.adversarial_search_resolution
    grid = adversarial.grid(top, resolution)
    time_left = max(0.0, 0.9 * budget.seconds - (time.monotonic() - budget.deadline + budget.seconds))
    # 0.9: a tenth of the request's time is kept for the answer (as /train/race keeps it)
    found = adversarial.smallest_epsilon(model, image, request.steps, request.target, grid, budget.check, time_left)
    return {
        "model": request.model,
        "epsilon": found.epsilon,
        "below": found.below,
        "exact": found.exact,
        "grid": [resolution, float(grid[-1])],
        "steps": request.steps,
        "target": request.target,
        "original_prediction": int(adversarial.probabilities(model, image.reshape(1, 1, 28, 28))[0].argmax()),
    }


@router.get("/adversarial/digits", response_model=list[DigitOut])
def digits() -> list[dict]:
    """Test digits both models read right: the page's gallery of digits to attack."""
    found = adversarial.digits()
    return [
        {"index": int(i), "label": int(y), "pixels": frames.quantized("pixels", x / 255.0)}
        for i, x, y in zip(found["index"], found["images"], found["labels"])
    ]


@router.get("/robustness", response_model=RobustnessOut)
def robustness() -> dict:
    """Both models' test accuracy against ε (measured by bench/robustness.py, not here) and
    how each was trained."""
    return _robustness()


@lru_cache(maxsize=1)
def _robustness() -> dict:
    models = {}
    for name in adversarial.WEIGHTS:
        m = adversarial.manifest(name)
        models[name] = {
            "test_accuracy": m["test_accuracy"],
            "adversarial_epsilon": m["config"].get("adversarial_epsilon", 0.0),
            "adversarial": m.get("adversarial"),
            "epochs": m["config"]["epochs"],
            "seconds": m["seconds"],
        }
    return {"curves": adversarial.curves(), "models": models}
