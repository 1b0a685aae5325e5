"""The rules of a class, between the routers and the broker: who may do what (tokens), the
bounds of every input (settings), the rate limits, and the errors a client gets.

Errors say what is wrong without telling an outsider anything: a code that names no class,
a token that is not the class's, a class that ended or expired: all get the same 404, so that
neither a code nor a token can be probed apart. Joins are the only way to test a code without
a token: each address may fail `max_join_failures` of them a minute (then 429, right code or
not)."""

from __future__ import annotations

import json
import math
import re

from deepviz.app.classroom.broker import Broker, PollResult, Unavailable
from deepviz.app.classroom.tokens import Signer, Token, new_class_id, new_code, new_student_id, normal_code
from deepviz.app.errors import InputError
from deepviz.app.settings import Settings

PACED = "paced"  # a class's mode until its instructor changes it: the pages follow
POLL_ID = re.compile(r"^p[0-9]{1,6}$")
JOIN_WINDOW = 60.0  # seconds: max_join_failures are counted per minute
CREATE_WINDOW = 3600.0  # seconds: max_classes_per_address are counted per hour


class Classroom:
    """One per worker: the broker, the token signer and the settings."""

    def __init__(self, settings: Settings, broker: Broker):
        self.settings, self.broker = settings, broker
        self.signer = Signer(settings.classroom_secret)

    # --- errors --------------------------------------------------------------------------------

    def not_found(self) -> InputError:
        hours = self.settings.class_ttl / 3600
        msg = (
            "no class with this code, or this token is not one of its own: check the code "
            f"(a class ends when its instructor ends it, or {hours:g} h after its last activity)"
        )
        return InputError(["path", "code"], msg, "not_found", status=404)

    # --- who is asking -------------------------------------------------------------------------

    def _token(self, code_text: str, token: str | None, role: str) -> tuple[str, Token]:
        if not token:
            who = "the instructor's" if role == "i" else "a student's"
            raise InputError(["headers", "authorization"], f"this needs {who} token: Authorization: Bearer <token>",
                             "unauthorized", status=401, headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        code = normal_code(code_text)
        found = self.signer.check(code, token, role) if code else None
        if found is None:
            raise self.not_found()
        return code, found

    def instructor(self, code_text: str, token: str | None) -> tuple[str, Token]:
        return self._token(code_text, token, "i")

    def student(self, code_text: str, token: str | None) -> tuple[str, Token]:
        return self._token(code_text, token, "s")

    # --- the class -----------------------------------------------------------------------------

    async def create(self, address: str, base_url: str) -> dict:
        limit = self.settings.max_classes_per_address
        if await self.broker.hit(f"create:{address}", CREATE_WINDOW, 0) >= limit:
            msg = f"at most {limit} classes an hour from one address: try again later"
            raise InputError(["server"], msg, "rate_limited", status=429, headers={"Retry-After": "600"})
        class_id = new_class_id()
        for _ in range(5):  # a code in use is drawn again (rare: 200 of 10⁹)
            code = new_code()
            created = await self.broker.create(code, class_id, self.settings.max_classes)
            if created == "full":
                raise InputError(["server"], f"{self.settings.max_classes} classes are open, the most this server "
                                 "holds: try again when one ends", "classes_full", status=503)  # fmt: skip
            if created == "ok":
                await self.broker.hit(f"create:{address}", CREATE_WINDOW)  # only classes made count
                return {
                    "code": code,
                    "instructor_token": self.signer.instructor(code, class_id),
                    "join_url": f"{base_url.rstrip('/')}/join?code={code}",
                }
        raise Unavailable("no free code found")

    async def join(self, code_text: str, name: str, address: str) -> dict:
        limit, key = self.settings.max_join_failures, f"join:{address}"
        if await self.broker.hit(key, JOIN_WINDOW, 0) >= limit:
            raise self._too_many_joins()
        name = " ".join(name.split())
        if len(name) > self.settings.max_name_length:
            raise InputError(["body", "name"], f"a name is at most {self.settings.max_name_length} characters")
        code, student_id = normal_code(code_text), new_student_id()
        found = await self.broker.join(code, student_id, name, self.settings.max_students_per_class) if code else None
        if found is None:
            await self.broker.hit(key, JOIN_WINDOW)
            raise self.not_found()
        if found == "full":
            raise InputError(["path", "code"], f"the class is full ({self.settings.max_students_per_class} students)",
                             "class_full", status=409)  # fmt: skip
        return {"student_id": student_id, "student_token": self.signer.student(code, found, student_id)}

    def _too_many_joins(self) -> InputError:
        msg = f"more than {self.settings.max_join_failures} joins with a wrong code in a minute: wait a minute"
        return InputError(["path", "code"], msg, "rate_limited", status=429, headers={"Retry-After": "60"})

    async def state(self, code: str, token: Token, page: str, state: dict) -> int:
        body = {"page": page, "state": state}
        size = len(json.dumps(body, ensure_ascii=False).encode())
        if size > self.settings.max_class_state_bytes:
            raise InputError(["body", "state"], f"the page and its state are {size} bytes as JSON; the limit is "
                             f"{self.settings.max_class_state_bytes}")  # fmt: skip
        seq = await self.broker.state(code, token.class_id, body)
        if seq is None:  # lost (a Redis restart) or expired: its instructor's state brings it back, empty
            restored = await self.broker.create(code, token.class_id, self.settings.max_classes, restore=True)
            if restored == "full":
                msg = "too many classes are open to restore this one"
                raise InputError(["server"], msg, "classes_full", status=503)
            seq = await self.broker.state(code, token.class_id, body) if restored == "ok" else None
        if seq is None:
            raise self.not_found()
        return seq

    async def mode(self, code: str, token: Token, mode: str) -> int:
        """Pace ("paced": the pages follow, a student may explore alone), lock ("locked": every
        page follows) or release ("released": every page explores freely) the class."""
        seq = await self.broker.mode(code, token.class_id, {"mode": mode})
        if seq is None:
            raise self.not_found()
        return seq

    async def end(self, code: str, token: Token) -> int:
        seq = await self.broker.end(code, token.class_id)
        if seq is None:
            raise self.not_found()
        return seq

    async def info(self, code: str, token: Token) -> dict:
        found = await self.broker.info(code, token.class_id)
        if found is None:
            raise self.not_found()
        state = json.loads(found["state"]) if found["state"] else {}
        mode = json.loads(found["mode"])["mode"] if found.get("mode") else PACED
        names = [{"student_id": s, "name": n} for s, n in sorted(found["names"].items(), key=lambda x: x[1])]
        return {"code": code, "seq": found["seq"], "students": found["students"], "connected": found["connected"],
                "polls": found["polls"], "mode": mode,
                "page": state.get("page"), "state": state.get("state"), "names": names}  # fmt: skip

    # --- polls ---------------------------------------------------------------------------------

    async def add_poll(
        self, code: str, token: Token, question: str, kind: str, options: list[str], target: int | None = None
    ) -> dict:
        s = self.settings
        if len(question) > s.max_question_length:
            raise InputError(["body", "question"], f"a question is at most {s.max_question_length} characters")
        if kind == "choice" and not 2 <= len(options) <= s.max_poll_options:
            raise InputError(["body", "options"], f"a choice has 2 to {s.max_poll_options} options, not {len(options)}")
        if kind != "choice" and options:
            raise InputError(["body", "options"], f"a {kind} question has no options")
        if (kind == "drawing") != (target is not None):
            drawing = kind == "drawing"
            raise InputError(["body", "target"], "a drawing names the digit to draw (0 to 9)" if drawing
                             else "only a drawing question has a target")  # fmt: skip
        for i, option in enumerate(options):
            if not option.strip() or len(option) > s.max_question_length or not option.isprintable():
                raise InputError(["body", "options", i], f"an option is 1 to {s.max_question_length} printable "
                                 "characters")  # fmt: skip
        body = {"question": question, "kind": kind, "options": options}
        if kind == "drawing":
            body["target"] = target  # the digit asked: LeNet-5's readings are compared with it
        added = await self.broker.add_poll(code, token.class_id, body, s.max_polls_per_class)
        if added is None:
            raise self.not_found()
        if added == "full":
            raise InputError(["body"], f"a class asks at most {s.max_polls_per_class} polls", "polls_full", status=409)
        return {"poll_id": added[0], "seq": added[1]}

    async def _poll(self, code: str, token: Token, poll_id: str, result: bool = False) -> PollResult | dict:
        """The poll as asked, or with its counts and answers (`result`); else the error."""
        found = "missing"
        if POLL_ID.match(poll_id):
            read = self.broker.poll_result if result else self.broker.poll
            found = await read(code, token.class_id, poll_id)
        if found == "gone":
            raise self.not_found()
        if found == "missing":
            raise InputError(["path", "poll_id"], "no poll with this id in this class", "not_found", status=404)
        return found

    @staticmethod
    def _key(poll: dict, value: float, loc: list) -> str:
        """An answer as it is counted: an option's index, or a number's shortest repr."""
        if poll["kind"] == "choice":
            if value != math.floor(value) or not 0 <= value < len(poll["options"]):
                raise InputError(loc, f"the index of an option: a whole number from 0 to {len(poll['options']) - 1}")
            return str(int(value))
        if poll["kind"] == "drawing":  # a digit: LeNet-5's reading, or the digit asked
            if value != math.floor(value) or not 0 <= value <= 9:
                raise InputError(loc, "a digit: a whole number from 0 to 9")
            return str(int(value))
        return repr(float(value) + 0.0)  # -0.0 counts as 0.0

    async def answer(self, code: str, token: Token, poll_id: str, value: float) -> dict:
        poll = await self._poll(code, token, poll_id)
        if poll["kind"] == "drawing":
            msg = "this poll takes a drawing: POST it to …/drawings (the /lenet page's Send my drawing)"
            raise InputError(["path", "poll_id"], msg, "wrong_kind", status=409)
        key = self._key(poll, value, ["body", "value"])
        done = await self.broker.answer(code, token.class_id, poll_id, token.student_id, key)
        if done == "gone":
            raise self.not_found()
        if done == "closed":
            raise InputError(["path", "poll_id"], "this poll is closed: its answer was revealed", "closed", status=409)
        return {"poll_id": poll_id, "value": float(key)}

    async def reveal(self, code: str, token: Token, poll_id: str, answer: float | None) -> int:
        poll = await self._poll(code, token, poll_id)
        shown = None if answer is None else float(self._key(poll, answer, ["body", "answer"]))
        seq = await self.broker.reveal(code, token.class_id, poll_id, {"poll_id": poll_id, "answer": shown})
        if seq == "gone":
            raise self.not_found()
        if seq == "closed":
            raise InputError(["path", "poll_id"], "this poll's answer was revealed already", "closed", status=409)
        return seq

    async def poll_result(self, code: str, token: Token, poll_id: str) -> dict:
        found = await self._poll(code, token, poll_id, result=True)
        poll, counts = found.poll, found.counts
        if poll["kind"] == "choice":
            counted = [{"value": i, "count": counts.get(str(i), 0)} for i in range(len(poll["options"]))]
        else:
            counted = sorted(({"value": float(k), "count": n} for k, n in counts.items()), key=lambda c: c["value"])
        info = await self.broker.info(code, token.class_id) or {"names": {}}
        answers = [{"student_id": s, "name": info["names"].get(s, ""), "value": float(k)}
                   for s, k in sorted(found.answers.items())]  # fmt: skip
        return {**poll, "revealed": found.revealed, "total": len(found.answers), "counts": counted,
                "answers": answers}  # fmt: skip
