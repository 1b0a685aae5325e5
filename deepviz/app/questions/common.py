"""What every page's questions share: reading a URL parameter as its page reads it, checking a
request body with the page's own schema (an error names the URL parameter), and the shape of a
question."""

from __future__ import annotations

import re

from pydantic import BaseModel, ValidationError

from deepviz.app.errors import InputError

MAX_QUESTIONS = 12  # per page and state: the dashboard lists them all


def bad(key: str, msg: str) -> InputError:
    """A 422 naming the URL parameter ``key``: loc ["body", "state", key]."""
    return InputError(["body", "state", key], msg)


def validated(model: type[BaseModel], body: dict, keys: dict[str, str]) -> BaseModel:
    """The request ``body`` checked by ``model``; an error names the URL parameter (``keys``:
    the body's field, or its path joined by dots, → the parameter it came from; the longest
    path of the error's loc found in ``keys`` wins)."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        loc = [str(part) for part in error.errors()[0]["loc"]]
        paths = [".".join(loc[:n]) for n in range(len(loc), 0, -1)]
        key = next((keys[p] for p in paths if p in keys), loc[0] if loc else "state")
        raise bad(key, error.errors()[0]["msg"].removeprefix("Value error, ")) from None


def integer(state: dict, key: str, default: int, low: int, high: int) -> int:
    """The whole number ``state[key]`` (``default`` when absent) from ``low`` to ``high``."""
    text = state.get(key, str(default)).strip()
    if not re.fullmatch(r"-?\d{1,9}", text) or not low <= int(text) <= high:
        raise bad(key, f"expected a whole number from {low} to {high}, not “{text[:20]}”")
    return int(text)


def question(text: str, kind: str, answer: float, page: str, state: dict, options: list[str] | None = None) -> dict:
    """A ready-made question: its poll (text, kind, options), its answer, and the page state
    that shows the answer (``show``: the reveal moves the class there)."""
    return {"question": text, "kind": kind, "options": options or [], "answer": answer,
            "show": {"page": page, "state": state}}  # fmt: skip
