"""Attacks on classroom mode (docs/classroom.md): guessing join codes, hoarding a class's
follow streams, an instructor flooding the class with the largest states, and creating
classes flat out. Each is an async function (target, seconds) -> Outcome, as in attacks.py,
which lists them all.

The attacker's own class is made from an address of its own (ACCOMPLICE_IP), so that the
attacks that flood class creation from ATTACKER_IP leave the others able to run after them."""

from __future__ import annotations

import asyncio
import json
import random
import time

from tests.hostile.wire import Outcome, Target, fetch, json_body, loop_requests
from tests.hostile.ws_wire import hold_idle, ws_connect, ws_failed

ACCOMPLICE_IP = "127.0.0.4"
CODE_SYMBOLS = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # the codes' alphabet: no 0/O, 1/I


async def own_class(target: Target, students: int = 1) -> tuple[str, str, list[str]]:
    """A class of the attacker's: (code, instructor token, student tokens)."""
    body, headers = json_body({})
    created = await fetch(target, "POST", "/api/v1/classes", body, headers, local=ACCOMPLICE_IP, timeout=10)
    if created.status != 201:
        raise RuntimeError(f"could not create the attacker's class: {created.status} {created.body[:200]!r}")
    answer = json.loads(created.body)
    tokens = []
    for _ in range(students):
        joined = await fetch(target, "POST", f"/api/v1/classes/{answer['code']}/join", body, headers,
                             local=ACCOMPLICE_IP, timeout=10)  # fmt: skip
        if joined.status != 201:
            raise RuntimeError(f"could not join the attacker's class: {joined.status} {joined.body[:200]!r}")
        tokens.append(json.loads(joined.body)["student_token"])
    return answer["code"], answer["instructor_token"], tokens


def follow_path(code: str, token: str) -> str:
    return f"/api/v1/classes/{code}/follow?student_token={token}"


async def class_join_guess(target: Target, seconds: float) -> Outcome:
    """4 loops guessing join codes as fast as they are answered: 404, then 429 for the address."""
    body, headers = json_body({"name": "guess"})

    def guess(i: int) -> tuple:
        code = "".join(random.choices(CODE_SYMBOLS, k=6))
        return "POST", f"/api/v1/classes/{code}/join", body, headers

    return await loop_requests(target, seconds, 4, guess)


async def class_create_flood(target: Target, seconds: float) -> Outcome:
    """4 loops creating classes as fast as they are answered: 201 up to the address's hourly
    allowance, then 429 (and never more than max_classes open in all)."""
    body, headers = json_body({})
    return await loop_requests(target, seconds, 4, lambda i: ("POST", "/api/v1/classes", body, headers))


async def class_follow_hoard(target: Target, seconds: float) -> Outcome:
    """One student token opening 1,500 follow streams from one address, held open."""
    code, _, (token,) = await own_class(target)
    return await hold_idle(target, seconds, 1500, path=follow_path(code, token))


async def class_state_flood(target: Target, seconds: float) -> Outcome:
    """An instructor sending the largest states a class takes (just under max_class_state_bytes),
    4 at a time as fast as answered, to a class of 40 followers of the attacker's own that read
    everything: the fan-out costs the server per state and per follower."""
    code, instructor, tokens = await own_class(target, students=40)
    state = {f"p{i}": "x" * 4_000 for i in range(4)}  # with the page and the JSON around it: under 16 KB
    body, headers = json_body({"page": "/backprop", "state": state})
    headers = (*headers, ("Authorization", f"Bearer {instructor}"))
    followers = Outcome()
    deadline = time.monotonic() + seconds

    async def follower(token: str) -> None:
        try:
            async with ws_connect(target, path=follow_path(code, token)) as ws:
                while time.monotonic() < deadline:
                    try:
                        await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
                    except TimeoutError:
                        break
                    followers.answers["event"] += 1
        except Exception as error:  # noqa: BLE001 - every way it ends is noted
            ws_failed(followers, error)

    reading = [asyncio.ensure_future(follower(t)) for t in tokens]
    await asyncio.sleep(0.5)  # connected
    outcome = await loop_requests(target, seconds - 0.5, 4, lambda i: ("POST", f"/api/v1/classes/{code}/state", body,
                                                                        headers))  # fmt: skip
    await asyncio.gather(*reading, return_exceptions=True)
    outcome.answers.update(followers.answers)
    outcome.closes.update(followers.closes)
    return outcome
