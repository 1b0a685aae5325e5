"""What a classroom broker does: keep each class's current state and polls, count answers,
and publish every change, in order, to the followers of the class. Two implementations
keep to this one contract (tests/classroom/test_broker.py runs it against both):

- `InProcessBroker` (memory.py): dictionaries in this process; the default for one worker.
- `RedisBroker` (redis_broker.py): Redis keys with a TTL, Lua scripts for every change, one
  pub/sub channel per class; any number of workers and instances serve one class.

Every change is an *event*, a JSON object {"type", "seq", ...}: "state", "poll", "reveal",
"mode" (paced, locked or released: whether the pages follow), "ended". `seq` counts the
class's events from 1, assigned atomically with the change, and events reach every follower
in seq order. A follower subscribes, then reads the snapshot (the latest state and mode, the
latest poll and its reveal, with their seqs) and is sent it at once; of the events that
arrive afterwards it drops those the snapshot already holds (seq ≤ snapshot.seq).
Followers need the current state, not the history, which is why the Redis broker uses pub/sub
and a snapshot key rather than streams (see redis_broker.py).

Each class expires `ttl` seconds after its last change (creation, join, state, poll, answer,
reveal); ending it deletes everything at once and leaves only a tombstone (its class id),
which forbids restoring it. A class lost without an end (a Redis restart) may be restored by
its instructor (`create(..., restore=True)`), empty but for its code and id.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Protocol


class Unavailable(Exception):
    """The broker cannot be reached (Redis is down or restarting): try again later."""


class Listener(Protocol):
    """A follower's end of a subscription. Called from the event loop, in seq order."""

    def deliver(self, seq: int, kind: str, text: str) -> None:
        """One event: its seq, its type and its JSON text, as sent to the page."""

    def lost(self) -> None:
        """The broker lost its feed (Redis restarted): events may be missing; reconnect."""


@dataclass
class Snapshot:
    """What a follower is sent at once: the class's events that still hold, in seq order."""

    class_id: str
    seq: int  # the class's latest seq: later events are new to this follower
    events: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, type, JSON text)


@dataclass
class PollResult:
    poll: dict  # the poll's event: poll_id, question, kind, options
    revealed: bool
    counts: dict[str, int]  # answer (its key: an option's index, or a number's repr) -> students
    answers: dict[str, str]  # student_id -> answer key


def event_text(kind: str, seq: int, body: dict) -> str:
    """An event's JSON text: {"type", "seq", **body}, compact."""
    return json.dumps({"type": kind, "seq": seq, **body}, separators=(",", ":"), ensure_ascii=False)


def body_text(body: dict) -> str:
    """`body` as JSON, without its opening brace: what follows "seq" in an event's text (the
    Redis scripts put the seq there, so that the text is made once, by the caller)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)[1:]


class Broker(ABC):
    """Operations on classes, each atomic. `class_id` guards every change: a change aimed at
    a class that is gone, or whose code now belongs to another class, changes nothing."""

    ttl: float

    @abstractmethod
    async def create(self, code: str, class_id: str, max_classes: int, restore: bool = False) -> str:
        """Open a class: "ok", "taken" (the code is in use), "full" (max_classes are open) or,
        with restore, "ended" (the class was ended: it stays so)."""

    @abstractmethod
    async def join(self, code: str, student_id: str, name: str, max_students: int) -> str | None:
        """Count a student in (and keep their name, if any, for the instructor): the class id,
        "full", or None if there is no such class."""

    @abstractmethod
    async def state(self, code: str, class_id: str, body: dict) -> int | None:
        """Publish the instructor's state {"page", "state"}: its seq, or None (no such class)."""

    @abstractmethod
    async def mode(self, code: str, class_id: str, body: dict) -> int | None:
        """Publish the class's mode {"mode": "paced" | "locked" | "released"}, kept for the
        snapshot as the latest state is: its seq, or None (no such class)."""

    @abstractmethod
    async def add_poll(self, code: str, class_id: str, body: dict, max_polls: int) -> tuple[str, int] | str | None:
        """Publish a new poll: (poll_id, seq), "full" (max_polls asked), or None."""

    @abstractmethod
    async def answer(self, code: str, class_id: str, poll_id: str, student_id: str, key: str) -> str:
        """Count one student's answer, replacing their earlier one: "ok", "closed" (revealed),
        "missing" (no such poll) or "gone" (no such class)."""

    @abstractmethod
    async def draw(
        self, code: str, class_id: str, poll_id: str, student_id: str, key: str, ink: str, max_drawings: int
    ) -> str:
        """A student's drawing for a drawing poll: its reading (`key`) counted as an answer is,
        one per student, and the drawing (`ink`) kept beside it, both replacing the student's
        earlier ones. "ok", "full" (the class keeps `max_drawings`, over all its polls), or as
        `answer`: "closed", "missing", "gone"."""

    @abstractmethod
    async def drawings(self, code: str, class_id: str, poll_id: str) -> dict[str, tuple[str, str]] | str:
        """A poll's drawings: student_id -> (reading key, ink); or "missing" or "gone"."""

    @abstractmethod
    async def tallies(self, code: str, class_id: str) -> list[tuple[dict, dict[str, int]]] | None:
        """Every poll of the class as asked, with its counts (answer key -> students), or None."""

    @abstractmethod
    async def reveal(self, code: str, class_id: str, poll_id: str, body: dict) -> int | str:
        """Close a poll and publish its answer: the seq, "closed", "missing" or "gone"."""

    @abstractmethod
    async def end(self, code: str, class_id: str) -> int | None:
        """Publish "ended", delete the class, leave its tombstone: the seq, or None."""

    @abstractmethod
    async def poll(self, code: str, class_id: str, poll_id: str) -> dict | str:
        """A poll as asked (poll_id, question, kind, options), or "missing" or "gone"."""

    @abstractmethod
    async def poll_result(self, code: str, class_id: str, poll_id: str) -> PollResult | str:
        """A poll with its counts and who answered what, or "missing" or "gone"."""

    @abstractmethod
    async def info(self, code: str, class_id: str) -> dict | None:
        """{"seq", "students", "polls", "state" and "mode" (the latest such events or None), "names"
        (student_id -> name), "connected" (follower connections present)} for the
        instructor, or None."""

    @abstractmethod
    async def presence(self, code: str, follower: str, seconds: float | None) -> None:
        """A follower connection (`follower`, an id of its own) counts as connected for
        `seconds` more (renewed while it lasts, so that a worker that dies stops counting), or
        no longer (None)."""

    @abstractmethod
    async def subscribe(self, code: str, listener: Listener) -> Snapshot | None:
        """Deliver the class's events to `listener` from now on, and return the snapshot
        (None, and no subscription, if there is no such class)."""

    @abstractmethod
    async def unsubscribe(self, code: str, listener: Listener) -> None: ...

    @abstractmethod
    async def hit(self, name: str, window: float, amount: int = 1) -> int:
        """Count `amount` events named `name` in a fixed window of `window` seconds (rate
        limits shared by every worker): how many so far in this window, these included
        (amount=0 only reads the count)."""

    async def close(self) -> None:
        """Release connections (at shutdown)."""
        return None
