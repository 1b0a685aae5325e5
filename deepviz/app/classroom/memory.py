"""The in-process broker: classes in this process's memory, for `deepviz serve` with one
worker and no Redis. Each operation runs without awaiting anything, so that, in one event
loop, it is atomic as the Redis broker's scripts are. Expired classes are swept lazily, at
the next operation."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from deepviz.app.classroom.broker import Broker, Listener, PollResult, Snapshot, event_text


@dataclass
class Room:
    class_id: str
    expires: float
    seq: int = 0
    students: int = 0
    names: dict[str, str] = field(default_factory=dict)
    polls: dict[str, dict] = field(default_factory=dict)  # poll_id -> its event (as a dict)
    revealed: set[str] = field(default_factory=set)
    answers: dict[tuple[str, str], str] = field(default_factory=dict)  # (poll_id, student_id) -> key
    counts: Counter = field(default_factory=Counter)  # (poll_id, key) -> students
    drawings: dict[tuple[str, str], str] = field(default_factory=dict)  # (poll_id, student_id) -> ink
    latest: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # "state"/"mode"/"poll"/"reveal" -> event
    poll_id: str | None = None  # the latest poll's


class InProcessBroker(Broker):
    def __init__(self, ttl: float, clock=time.monotonic):
        self.ttl, self.clock = ttl, clock
        self.rooms: dict[str, Room] = {}
        self.tombstones: dict[str, tuple[str, float]] = {}  # code -> (class_id, expires)
        self.listeners: dict[str, set[Listener]] = {}
        self.hits: dict[str, tuple[int, float]] = {}  # name -> (count, window's end)
        self.online: dict[str, dict[str, float]] = {}  # code -> follower connection -> until when

    def _sweep(self) -> None:
        now = self.clock()
        for code in [c for c, room in self.rooms.items() if room.expires <= now]:
            del self.rooms[code]
            self.listeners.pop(code, None)  # their sessions find the class gone at their next check
            self.online.pop(code, None)
        for code in [c for c, (_, expires) in self.tombstones.items() if expires <= now]:
            del self.tombstones[code]
        for name in [n for n, (_, end) in self.hits.items() if end <= now]:
            del self.hits[name]

    def _room(self, code: str, class_id: str | None = None) -> Room | None:
        self._sweep()
        room = self.rooms.get(code)
        if room is None or (class_id is not None and room.class_id != class_id):
            return None
        return room

    def _emit(self, code: str, room: Room, kind: str, body: dict) -> tuple[int, str]:
        room.seq += 1
        text = event_text(kind, room.seq, body)
        room.expires = self.clock() + self.ttl
        for listener in list(self.listeners.get(code, ())):
            listener.deliver(room.seq, kind, text)
        return room.seq, text

    async def create(self, code: str, class_id: str, max_classes: int, restore: bool = False) -> str:
        self._sweep()
        if code in self.rooms:
            return "taken"
        if restore and code in self.tombstones:
            return "ended"
        if len(self.rooms) >= max_classes:
            return "full"
        self.tombstones.pop(code, None)
        self.online.pop(code, None)
        self.rooms[code] = Room(class_id, self.clock() + self.ttl)
        return "ok"

    async def join(self, code: str, student_id: str, name: str, max_students: int) -> str | None:
        room = self._room(code)
        if room is None:
            return None
        if room.students >= max_students:
            return "full"
        room.students += 1
        if name:
            room.names[student_id] = name
        room.expires = self.clock() + self.ttl
        return room.class_id

    async def state(self, code: str, class_id: str, body: dict) -> int | None:
        room = self._room(code, class_id)
        if room is None:
            return None
        seq, text = self._emit(code, room, "state", body)
        room.latest["state"] = (seq, "state", text)
        return seq

    async def mode(self, code: str, class_id: str, body: dict) -> int | None:
        room = self._room(code, class_id)
        if room is None:
            return None
        seq, text = self._emit(code, room, "mode", body)
        room.latest["mode"] = (seq, "mode", text)
        return seq

    async def add_poll(self, code: str, class_id: str, body: dict, max_polls: int) -> tuple[str, int] | str | None:
        room = self._room(code, class_id)
        if room is None:
            return None
        if len(room.polls) >= max_polls:
            return "full"
        poll_id = f"p{len(room.polls) + 1}"
        event = {"poll_id": poll_id, **body}
        seq, text = self._emit(code, room, "poll", event)
        room.polls[poll_id], room.poll_id = event, poll_id
        room.latest["poll"] = (seq, "poll", text)
        room.latest.pop("reveal", None)
        return poll_id, seq

    def _open_poll(self, code: str, class_id: str, poll_id: str) -> Room | str:
        room = self._room(code, class_id)
        if room is None:
            return "gone"
        if poll_id not in room.polls:
            return "missing"
        return "closed" if poll_id in room.revealed else room

    @staticmethod
    def _count(room: Room, poll_id: str, student_id: str, key: str) -> None:
        """One answer per student: the new one replaces the old."""
        old = room.answers.get((poll_id, student_id))
        if old is not None:
            room.counts[poll_id, old] -= 1
        room.answers[poll_id, student_id] = key
        room.counts[poll_id, key] += 1

    async def answer(self, code: str, class_id: str, poll_id: str, student_id: str, key: str) -> str:
        room = self._open_poll(code, class_id, poll_id)
        if isinstance(room, str):
            return room
        self._count(room, poll_id, student_id, key)
        room.expires = self.clock() + self.ttl
        return "ok"

    async def draw(
        self, code: str, class_id: str, poll_id: str, student_id: str, key: str, ink: str, max_drawings: int
    ) -> str:
        room = self._open_poll(code, class_id, poll_id)
        if isinstance(room, str):
            return room
        if (poll_id, student_id) not in room.drawings and len(room.drawings) >= max_drawings:
            return "full"
        self._count(room, poll_id, student_id, key)
        room.drawings[poll_id, student_id] = ink
        room.expires = self.clock() + self.ttl
        return "ok"

    async def drawings(self, code: str, class_id: str, poll_id: str) -> dict[str, tuple[str, str]] | str:
        room = self._room(code, class_id)
        if room is None:
            return "gone"
        if poll_id not in room.polls:
            return "missing"
        return {s: (room.answers[p, s], ink) for (p, s), ink in room.drawings.items() if p == poll_id}

    async def tallies(self, code: str, class_id: str) -> list[tuple[dict, dict[str, int]]] | None:
        room = self._room(code, class_id)
        if room is None:
            return None
        counts: dict[str, dict[str, int]] = {poll_id: {} for poll_id in room.polls}
        for (poll_id, key), n in room.counts.items():
            if n > 0:
                counts[poll_id][key] = n
        return [(poll, counts[poll_id]) for poll_id, poll in room.polls.items()]

    async def reveal(self, code: str, class_id: str, poll_id: str, body: dict) -> int | str:
        room = self._room(code, class_id)
        if room is None:
            return "gone"
        if poll_id not in room.polls:
            return "missing"
        if poll_id in room.revealed:
            return "closed"
        room.revealed.add(poll_id)
        seq, text = self._emit(code, room, "reveal", body)
        if room.poll_id == poll_id:
            room.latest["reveal"] = (seq, "reveal", text)
        return seq

    async def end(self, code: str, class_id: str) -> int | None:
        room = self._room(code, class_id)
        if room is None:
            return None
        seq, _ = self._emit(code, room, "ended", {})
        del self.rooms[code]
        self.listeners.pop(code, None)
        self.online.pop(code, None)
        self.tombstones[code] = (class_id, self.clock() + self.ttl)
        return seq

    async def poll(self, code: str, class_id: str, poll_id: str) -> dict | str:
        room = self._room(code, class_id)
        if room is None:
            return "gone"
        return room.polls.get(poll_id, "missing")

    async def poll_result(self, code: str, class_id: str, poll_id: str) -> PollResult | str:
        room = self._room(code, class_id)
        if room is None:
            return "gone"
        if poll_id not in room.polls:
            return "missing"
        counts = {key: n for (p, key), n in room.counts.items() if p == poll_id and n > 0}
        answers = {student: key for (p, student), key in room.answers.items() if p == poll_id}
        return PollResult(room.polls[poll_id], poll_id in room.revealed, counts, answers)

    async def info(self, code: str, class_id: str) -> dict | None:
        room = self._room(code, class_id)
        if room is None:
            return None
        state, mode = room.latest.get("state"), room.latest.get("mode")
        now = self.clock()
        return {
            "connected": sum(until > now for until in self.online.get(code, {}).values()),
            "seq": room.seq,
            "students": room.students,
            "polls": len(room.polls),
            "state": state[2] if state else None,
            "mode": mode[2] if mode else None,
            "names": dict(room.names),
        }

    async def presence(self, code: str, follower: str, seconds: float | None) -> None:
        online = self.online.setdefault(code, {})
        now = self.clock()
        for gone in [f for f, until in online.items() if until <= now]:
            del online[gone]
        if seconds is None:
            online.pop(follower, None)
        else:
            online[follower] = now + seconds
        if not online:
            del self.online[code]

    async def subscribe(self, code: str, listener: Listener) -> Snapshot | None:
        room = self._room(code)
        if room is None:
            return None
        self.listeners.setdefault(code, set()).add(listener)
        return Snapshot(room.class_id, room.seq, sorted(room.latest.values()))

    async def unsubscribe(self, code: str, listener: Listener) -> None:
        found = self.listeners.get(code)
        if found is not None:
            found.discard(listener)
            if not found:
                del self.listeners[code]

    async def hit(self, name: str, window: float, amount: int = 1) -> int:
        self._sweep()
        count, end = self.hits.get(name, (0, self.clock() + window))
        if amount:
            self.hits[name] = (count + amount, end)
        return count + amount
