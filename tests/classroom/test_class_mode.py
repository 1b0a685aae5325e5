"""Pace, lock, release: a class's mode is one more event, in seq order with the others, kept
for the snapshot as the latest state is (on both brokers, Redis a real one), set by the
instructor alone (POST /classes/{code}/mode), shown on the dashboard (GET /classes/{code})."""

from __future__ import annotations

import json

import pytest

from tests.classroom.conftest import Class, Collector, bearer
from tests.classroom.test_broker import opened


@pytest.mark.anyio
async def test_modes_reach_every_follower_in_seq_order_with_the_states(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        early = Collector()
        await b.subscribe("AAAAAA", early)
        seqs = [
            await a.state("AAAAAA", "id1", {"page": "/backprop", "state": {"step": "1"}}),
            await a.mode("AAAAAA", "id1", {"mode": "released"}),
            await b.state("AAAAAA", "id1", {"page": "/backprop", "state": {"step": "2"}}),
            await b.mode("AAAAAA", "id1", {"mode": "locked"}),
        ]
        assert seqs == [1, 2, 3, 4]
        events = await early.wait_for(4)
        assert [(seq, kind) for seq, kind, _ in events] == [(1, "state"), (2, "mode"), (3, "state"), (4, "mode")]
        assert json.loads(events[1][2]) == {"type": "mode", "seq": 2, "mode": "released"}
        assert (await b.info("AAAAAA", "id1"))["mode"] == events[3][2]


@pytest.mark.anyio
async def test_a_newcomer_gets_the_latest_mode_at_once_in_its_snapshot(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        snapshot = await b.subscribe("AAAAAA", Collector())
        assert snapshot.events == [] and (await a.info("AAAAAA", "id1"))["mode"] is None  # never set: paced
        await a.mode("AAAAAA", "id1", {"mode": "released"})
        await a.state("AAAAAA", "id1", {"page": "/pooling", "state": {}})
        await a.mode("AAAAAA", "id1", {"mode": "locked"})
        await a.add_poll("AAAAAA", "id1", {"question": "?", "kind": "number", "options": []}, 5)
        snapshot = await b.subscribe("AAAAAA", Collector())
        assert snapshot.seq == 4
        assert [(seq, kind) for seq, kind, _ in snapshot.events] == [(2, "state"), (3, "mode"), (4, "poll")]
        assert json.loads(snapshot.events[1][2])["mode"] == "locked"


@pytest.mark.anyio
async def test_a_mode_for_another_class_or_none_changes_nothing(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        assert await b.mode("AAAAAA", "id2", {"mode": "released"}) is None  # the code now names another class
        assert await b.mode("BBBBBB", "id1", {"mode": "released"}) is None
        info = await a.info("AAAAAA", "id1")
        assert (info["seq"], info["mode"]) == (0, None)
        await a.end("AAAAAA", "id1")
        assert await a.mode("AAAAAA", "id1", {"mode": "locked"}) is None  # ended: not restored by a mode


def test_the_instructor_sets_the_mode_followers_get_it_and_the_dashboard_shows_it(make_client):
    with make_client() as client:
        lesson = Class(client)
        student = lesson.join()
        assert client.get(lesson.url, headers=lesson.instructor).json()["mode"] == "paced"
        lesson.state(step="3")
        with lesson.follow(student) as ws:
            assert ws.receive_json()["type"] == "state"
            answer = client.post(f"{lesson.url}/mode", json={"mode": "released"}, headers=lesson.instructor)
            assert answer.status_code == 200 and answer.json() == {"seq": 2}
            assert ws.receive_json() == {"type": "mode", "seq": 2, "mode": "released"}
            assert client.get(lesson.url, headers=lesson.instructor).json()["mode"] == "released"
        with lesson.follow(student) as ws:  # a reconnecting page gets the state, then the mode
            assert [ws.receive_json()["type"] for _ in range(2)] == ["state", "mode"]
        client.post(f"{lesson.url}/mode", json={"mode": "locked"}, headers=lesson.instructor)
        assert client.get(lesson.url, headers=lesson.instructor).json()["mode"] == "locked"


def test_only_the_instructor_sets_the_mode_and_only_a_mode_it_knows(make_client):
    with make_client() as client:
        lesson, other = Class(client), Class(client)
        student = lesson.join()
        body = {"json": {"mode": "released"}}
        refused = [
            client.post(f"{lesson.url}/mode", headers=bearer(student), **body),  # a student's token
            client.post(f"{lesson.url}/mode", headers=other.instructor, **body),  # another class's
            client.post("/api/v1/classes/ZZZZZZ/mode", headers=lesson.instructor, **body),  # no such code
        ]
        assert {r.status_code for r in refused} == {404}
        same = client.post(f"{lesson.url}/state", json={"page": "/", "state": {}}, headers=bearer(student))
        assert {r.text for r in refused} == {same.text}  # the same answer as every other route's
        assert client.post(f"{lesson.url}/mode", **body).status_code == 401
        for bad in [{"mode": "free"}, {"mode": ""}, {}, {"mode": "paced", "extra": 1}, {"mode": 1}]:
            answer = client.post(f"{lesson.url}/mode", json=bad, headers=lesson.instructor)
            assert answer.status_code == 422, bad
            assert answer.json()["detail"][0]["loc"][:1] == ["body"]
        bad = client.post(f"{lesson.url}/mode", json={"mode": "free"}, headers=lesson.instructor).json()
        assert "paced" in bad["detail"][0]["msg"] and bad["detail"][0]["loc"] == ["body", "mode"]
        assert client.get(lesson.url, headers=lesson.instructor).json()["mode"] == "paced"  # nothing changed
