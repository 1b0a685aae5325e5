"""A computation's budget: a deadline, and whether its client is still there.

The engine's loops (gradient descent steps, central differences) call ``budget.check``
between steps; it raises once the request has run past its deadline, or once its client has
gone away (app/middleware.py's Work sets that when the connection closes), so that no CPU is
spent on an answer nobody will read.
"""

from __future__ import annotations

import threading
import time

from deepviz.app.errors import InputError


class Abandoned(Exception):
    """The client went away: stop computing (nothing will be sent)."""


class Budget:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.gone = threading.Event()  # set from the event loop, read from the worker thread

    def check(self) -> None:
        if self.gone.is_set():
            raise Abandoned
        if time.monotonic() > self.deadline:
            raise InputError(
                ["body"],
                f"the computation took longer than {self.seconds:g} s, the limit for one request: "
                "make the input smaller",
                kind="too_expensive",
            )


UNLIMITED = Budget(float("inf"))  # for callers outside a request (tests, notebooks)
