"""Ready-made questions for classroom polls (issue 12's "predict, then reveal"): for a page and
its URL state, the questions that page offers, each with its answer computed here by the
engine and the page state that shows the answer (the reveal moves the class there). One module
a page, each with its ``ask(state, settings, between)``.

A page's URL state is read as its page does (static/js/*.js's TABLE), turned into the body of
that page's own API request, and checked by that request's schema and its router's limits: a
question costs no more than the page itself. A value that is wrong answers 422 with
loc ["body", "state", <the URL parameter>]."""

from __future__ import annotations

import json
from collections.abc import Callable

from deepviz.app.errors import InputError
from deepviz.app.questions import (
    adversarial,
    backprop,
    conv_backward,
    convolution,
    lenet,
    optimizers,
    pooling,
    receptive_field,
    training,
)
from deepviz.app.questions.backprop import BACKPROP_PRESETS
from deepviz.app.questions.optimizers import DEFAULT_RACERS
from deepviz.app.settings import Settings

__all__ = ["BACKPROP_PRESETS", "DEFAULT_RACERS", "PAGES", "questions"]

PAGES: dict[str, Callable[[dict, Settings, Callable[[], None]], list[dict]]] = {
    "/adversarial": adversarial.ask,
    "/backprop": backprop.ask,
    "/convolution": convolution.ask,
    "/convolution-backward": conv_backward.ask,
    "/lenet": lenet.ask,
    "/optimizers": optimizers.ask,
    "/pooling": pooling.ask,
    "/receptive-field": receptive_field.ask,
    "/training": training.ask,
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
