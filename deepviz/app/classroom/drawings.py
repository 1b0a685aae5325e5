"""The hall's drawings: a drawing poll ("Draw a 7") is answered from /lenet with the 28×28
image the network saw (784 grey levels, nothing else). The router reads it with the served
LeNet-5; here the reading is counted as the student's answer (one per student, a new drawing
replacing the old) and the drawing kept beside it, bounded by `max_drawings_per_class`. The
instructor gets the gallery, the poll's accuracy, and the class's confusion matrix (digit
asked × digit read, over all its drawing polls). Students never see others' drawings."""

from __future__ import annotations

import numpy as np

from deepviz.app.classroom.classes import Classroom
from deepviz.app.classroom.tokens import Token
from deepviz.app.errors import InputError

DIGITS = 10


def image_of(levels: list[list[int]]) -> np.ndarray:
    """28×28 grey levels 0..255 (bounded by the schema) as the network's input in [0, 1]."""
    return np.asarray(levels, dtype=np.float32) / 255.0


async def drawing_poll(classroom: Classroom, code: str, token: Token, poll_id: str) -> dict:
    """The poll, if it takes drawings (checked before LeNet-5 reads one); else 404 or 409."""
    poll = await classroom._poll(code, token, poll_id)
    if poll["kind"] != "drawing":
        msg = f"this poll is not a drawing poll: it takes a {poll['kind']} (POST …/answers)"
        raise InputError(["path", "poll_id"], msg, "wrong_kind", status=409)
    return poll


async def draw(classroom: Classroom, code: str, token: Token, poll_id: str, reading: int, ink: str) -> dict:
    """Keep a student's drawing and count its reading: {"poll_id", "reading"}."""
    limit = classroom.settings.max_drawings_per_class
    done = await classroom.broker.draw(code, token.class_id, poll_id, token.student_id, str(reading), ink, limit)
    if done == "gone":
        raise classroom.not_found()
    if done == "missing":
        raise InputError(["path", "poll_id"], "no poll with this id in this class", "not_found", status=404)
    if done == "closed":
        raise InputError(["path", "poll_id"], "this poll is closed: its answer was revealed", "closed", status=409)
    if done == "full":
        msg = f"the class keeps at most {limit} drawings: ask your instructor"
        raise InputError(["path", "code"], msg, "drawings_full", status=409)
    return {"poll_id": poll_id, "reading": reading}


def _accuracy(correct: int, total: int) -> float | None:
    return correct / total if total else None


async def gallery(classroom: Classroom, code: str, token: Token, poll_id: str) -> dict:
    """For the instructor: a drawing poll's drawings with LeNet-5's readings and the students'
    names, its accuracy, and the class's confusion matrix."""
    poll = await drawing_poll(classroom, code, token, poll_id)
    found = await classroom.broker.drawings(code, token.class_id, poll_id)
    tallies = await classroom.broker.tallies(code, token.class_id)
    info = await classroom.broker.info(code, token.class_id)
    if isinstance(found, str) or tallies is None or info is None:
        raise classroom.not_found()  # ended meanwhile
    drawings = [{"student_id": s, "name": info["names"].get(s, ""), "reading": int(key), "ink": ink}
                for s, (key, ink) in sorted(found.items())]  # fmt: skip
    correct = sum(d["reading"] == poll["target"] for d in drawings)
    matrix = [[0] * DIGITS for _ in range(DIGITS)]  # rows: the digit asked; columns: the digit read
    for asked, counts in tallies:
        if asked["kind"] == "drawing":
            for key, n in counts.items():
                matrix[asked["target"]][int(key)] += n
    total, right = sum(map(sum, matrix)), sum(matrix[d][d] for d in range(DIGITS))
    return {
        "poll_id": poll_id,
        "question": poll["question"],
        "target": poll["target"],
        "total": len(drawings),
        "correct": correct,
        "accuracy": _accuracy(correct, len(drawings)),
        "drawings": drawings,
        "confusion": {"matrix": matrix, "total": total, "correct": right, "accuracy": _accuracy(right, total)},
    }
