"""/lenet's question: which digit LeNet-5 reads, for a digit of the mistakes gallery."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from deepviz.app import frames
from deepviz.app.questions.common import bad, integer, question
from deepviz.app.settings import Settings
from deepviz.lessons import lenet

DIGITS = [str(d) for d in range(10)]


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    if not state.get("mistake"):
        return []  # a digit the state does not identify (the student's own drawing)
    index = integer(state, "mistake", 0, 0, 10**6)
    found = lenet.mistakes()
    where = np.flatnonzero(found["index"] == index)
    if not len(where):
        raise bad("mistake", "not one of the mistakes gallery's digits")
    k = int(where[0])
    reading = frames.classify([found["images"][k] / 255.0], [None])[0]["prediction"]
    text = f"Test digit {index} is a handwritten {int(found['labels'][k])}: which digit will LeNet-5 read?"
    return [question(text, "choice", float(reading), "/lenet", dict(state), DIGITS)]
