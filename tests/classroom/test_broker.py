"""The broker contract, run against the in-process broker and against a real Redis (two
brokers on it, as two workers or two instances would be): classes, seqs in order, the
snapshot a follower gets at once, answers counted exactly with replacement, bounds, the end
of a class, expiry after the last activity, rate-limit counters."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepviz.app.classroom.tokens import new_code
from tests.classroom.conftest import Collector

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def opened(brokers, ttl: float = 60.0):
    a, b = brokers(ttl)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_a_code_is_taken_once_and_classes_are_bounded(brokers):
    async with opened(brokers) as (a, b):
        assert await a.create("AAAAAA", "id1", max_classes=2) == "ok"
        assert await b.create("AAAAAA", "id2", max_classes=2) == "taken"
        assert await b.create("BBBBBB", "id2", max_classes=2) == "ok"
        assert await a.create("CCCCCC", "id3", max_classes=2) == "full"
        assert await a.end("BBBBBB", "id2") is not None
        assert await a.create("CCCCCC", "id3", max_classes=2) == "ok"  # an ended class frees its place


async def test_states_reach_every_follower_in_order_and_a_newcomer_gets_the_latest_at_once(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        early = Collector()
        snapshot = await b.subscribe("AAAAAA", early)
        assert (snapshot.class_id, snapshot.seq, snapshot.events) == ("id1", 0, [])
        seqs = [await a.state("AAAAAA", "id1", {"page": "/backprop", "state": {"step": str(i)}}) for i in range(20)]
        assert seqs == list(range(1, 21))
        events = await early.wait_for(20)
        assert [seq for seq, _, _ in events] == seqs
        assert [json.loads(text)["state"]["step"] for _, _, text in events] == [str(i) for i in range(20)]
        late = Collector()
        snapshot = await b.subscribe("AAAAAA", late)
        assert snapshot.seq == 20 and len(snapshot.events) == 1
        seq, kind, text = snapshot.events[0]
        assert (seq, kind, json.loads(text)) == (20, "state", {"type": "state", "seq": 20, "page": "/backprop",
                                                             "state": {"step": "19"}})  # fmt: skip
        await b.unsubscribe("AAAAAA", early)
        await a.state("AAAAAA", "id1", {"page": "/cnn", "state": {}})
        assert [s for s, _, _ in await late.wait_for(1)] == [21]
        await asyncio.sleep(0.05)
        assert len(early.events) == 20  # unsubscribed: nothing more


async def test_answers_are_counted_exactly_one_per_student_the_last_one_counting(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        poll_id, seq = await a.add_poll("AAAAAA", "id1", {"question": "2 + 2?", "kind": "choice",
                                                          "options": ["3", "4"]}, max_polls=5)  # fmt: skip
        assert (poll_id, seq) == ("p1", 1)
        students = [f"s{i}" for i in range(200)]
        first = await asyncio.gather(*[(a if i % 2 else b).answer("AAAAAA", "id1", "p1", s, str(i % 2))
                                       for i, s in enumerate(students)])  # fmt: skip
        assert set(first) == {"ok"}
        # the first 50 change their minds, twice, concurrently: only their last answer counts
        await asyncio.gather(*[b.answer("AAAAAA", "id1", "p1", s, "0") for s in students[:50]])
        await asyncio.gather(*[a.answer("AAAAAA", "id1", "p1", s, "1") for s in students[:50]])
        result = await b.poll_result("AAAAAA", "id1", "p1")
        assert result.counts == {"1": 125, "0": 75}
        assert len(result.answers) == 200 and result.answers["s0"] == "1" and result.answers["s52"] == "0"
        assert result.poll == {"poll_id": "p1", "question": "2 + 2?", "kind": "choice", "options": ["3", "4"]}
        assert await a.poll("AAAAAA", "id1", "p1") == result.poll
        assert await a.poll("AAAAAA", "id1", "p2") == "missing" and await a.poll("AAAAAA", "id2", "p1") == "gone"
        assert not result.revealed


async def test_a_reveal_closes_the_poll_and_followers_get_poll_and_reveal_in_order(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        follower = Collector()
        await b.subscribe("AAAAAA", follower)
        await a.state("AAAAAA", "id1", {"page": "/backprop", "state": {}})
        await a.add_poll("AAAAAA", "id1", {"question": "x?", "kind": "number", "options": []}, 5)
        assert await a.answer("AAAAAA", "id1", "p1", "s1", "2.5") == "ok"
        assert await a.reveal("AAAAAA", "id1", "p1", {"poll_id": "p1", "answer": 2.5}) == 3
        assert await a.reveal("AAAAAA", "id1", "p1", {"poll_id": "p1", "answer": 2.5}) == "closed"
        assert await b.answer("AAAAAA", "id1", "p1", "s2", "1.0") == "closed"
        assert await b.answer("AAAAAA", "id1", "p9", "s2", "1.0") == "missing"
        assert await b.reveal("AAAAAA", "id1", "p9", {}) == "missing"
        assert [(s, k) for s, k, _ in await follower.wait_for(3)] == [(1, "state"), (2, "poll"), (3, "reveal")]
        snapshot = await b.subscribe("AAAAAA", Collector())
        assert [(s, k) for s, k, _ in snapshot.events] == [(1, "state"), (2, "poll"), (3, "reveal")]
        assert json.loads(snapshot.events[2][2]) == {"type": "reveal", "seq": 3, "poll_id": "p1", "answer": 2.5}
        result = await a.poll_result("AAAAAA", "id1", "p1")
        assert result.revealed and result.counts == {"2.5": 1}
        await a.add_poll("AAAAAA", "id1", {"question": "y?", "kind": "number", "options": []}, 5)
        snapshot = await b.subscribe("AAAAAA", Collector())  # a new poll: the old reveal is no longer current
        assert [(s, k) for s, k, _ in snapshot.events] == [(1, "state"), (4, "poll")]


async def test_polls_and_students_are_bounded_and_names_kept_for_the_instructor(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        assert [await a.add_poll("AAAAAA", "id1", {"question": "?"}, 2) for _ in range(3)] == [("p1", 1), ("p2", 2),
                                                                                                 "full"]  # fmt: skip
        assert await b.join("AAAAAA", "s1", "Ada", max_students=2) == "id1"
        assert await a.join("AAAAAA", "s2", "", max_students=2) == "id1"
        assert await a.join("AAAAAA", "s3", "Bob", max_students=2) == "full"
        assert await a.join("ZZZZZZ", "s3", "Bob", max_students=2) is None
        info = await b.info("AAAAAA", "id1")
        assert info == {"seq": 2, "students": 2, "polls": 2, "state": None, "mode": None, "names": {"s1": "Ada"},
                        "connected": 0}  # fmt: skip


async def test_another_class_id_changes_nothing(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        assert await b.state("AAAAAA", "other", {"page": "/", "state": {}}) is None
        assert await b.add_poll("AAAAAA", "other", {"question": "?"}, 5) is None
        assert await b.answer("AAAAAA", "other", "p1", "s1", "1") == "gone"
        assert await b.reveal("AAAAAA", "other", "p1", {}) == "gone"
        assert await b.poll_result("AAAAAA", "other", "p1") == "gone"
        assert await b.info("AAAAAA", "other") is None
        assert await b.end("AAAAAA", "other") is None
        assert (await a.info("AAAAAA", "id1"))["seq"] == 0


async def test_ending_a_class_tells_its_followers_and_deletes_it_for_good(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        await a.join("AAAAAA", "s1", "Ada", 10)
        follower = Collector()
        await b.subscribe("AAAAAA", follower)
        await a.state("AAAAAA", "id1", {"page": "/", "state": {}})
        assert await a.end("AAAAAA", "id1") == 2
        assert [(s, k) for s, k, _ in await follower.wait_for(2)] == [(1, "state"), (2, "ended")]
        assert json.loads(follower.events[1][2]) == {"type": "ended", "seq": 2}
        assert await b.info("AAAAAA", "id1") is None and await b.join("AAAAAA", "s2", "", 10) is None
        assert await b.subscribe("AAAAAA", Collector()) is None
        assert await a.create("AAAAAA", "id1", 10, restore=True) == "ended"  # the instructor cannot bring it back
        assert await a.create("AAAAAA", "id2", 10) == "ok"  # but the code may serve a new class


async def test_a_class_expires_after_its_last_activity_and_activity_renews_it(brokers):
    async with opened(brokers, ttl=1.0) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        await asyncio.sleep(0.6)
        assert await a.state("AAAAAA", "id1", {"page": "/", "state": {}}) == 1  # renews the TTL
        await asyncio.sleep(0.6)  # 1.2 s after creation, 0.6 s after the last activity
        assert (await b.info("AAAAAA", "id1"))["seq"] == 1
        await asyncio.sleep(1.2)
        assert await b.info("AAAAAA", "id1") is None
        assert await a.create("BBBBBB", "id2", max_classes=1) == "ok"  # the expired class freed its place
        assert await a.create("AAAAAA", "id1", 10, restore=True) == "ok"  # not ended: its instructor may restore it


async def test_hits_are_counted_per_window_and_shared(brokers):
    async with opened(brokers) as (a, b):
        assert [await (a, b)[i % 2].hit("join:1.2.3.4", window=0.5) for i in range(5)] == [1, 2, 3, 4, 5]
        assert await a.hit("join:5.6.7.8", window=0.5) == 1
        await asyncio.sleep(0.7)
        assert await b.hit("join:1.2.3.4", window=0.5) == 1


@pytest.mark.parametrize("anyio_backend", [("asyncio", {"use_uvloop": True})])  # the servers' loop
async def test_a_subscription_made_again_at_once_still_delivers(brokers, anyio_backend):
    # Regression: under uvloop the Redis reader saw SUBSCRIBE confirmed before the subscribing
    # coroutine had put its listener in, took the subscription for abandoned, and dropped it:
    # the follower got its snapshot, then nothing.
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        for i in range(20):
            follower = Collector()
            await b.subscribe("AAAAAA", follower)
            seq = await a.state("AAAAAA", "id1", {"page": "/", "state": {"i": str(i)}})
            assert (await follower.wait_for(1))[0][0] == seq
            await b.unsubscribe("AAAAAA", follower)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    answers=st.lists(st.tuples(st.integers(0, 7), st.sampled_from(["0", "1", "2", "2.5", "-1.0"])), max_size=60),
    reveal_after=st.integers(0, 60),
)
def test_counts_are_every_students_last_answer_until_the_reveal(brokers, answers, reveal_after):
    """Any sequence of answers from 8 students, some answering again, some after the reveal:
    the counts are those of each student's last answer before the reveal, nothing else."""

    async def scenario():
        async with opened(brokers) as (a, b):
            code = new_code()  # a class of its own for each example (Redis is not emptied between them)
            assert await a.create(code, "id", 10_000) == "ok"
            await a.add_poll(code, "id", {"question": "?", "kind": "number", "options": []}, 5)
            last = {}
            for i, (student, key) in enumerate(answers):
                if i == reveal_after:
                    assert isinstance(await b.reveal(code, "id", "p1", {"poll_id": "p1"}), int)
                done = await (a, b)[i % 2].answer(code, "id", "p1", f"s{student}", key)
                assert done == ("ok" if i < reveal_after else "closed")
                if done == "ok":
                    last[f"s{student}"] = key
            result = await a.poll_result(code, "id", "p1")
            assert result.answers == last
            assert result.counts == dict(Counter(last.values()))

    asyncio.run(scenario())


async def test_followers_connected_are_counted_on_every_instance_until_they_leave_or_lapse(brokers):
    async with opened(brokers) as (a, b):
        await a.create("AAAAAA", "id1", 10)
        assert (await b.info("AAAAAA", "id1"))["connected"] == 0
        await a.presence("AAAAAA", "f1", 60)
        await b.presence("AAAAAA", "f2", 60)
        await b.presence("AAAAAA", "f2", 60)  # a renewal is not another follower
        assert (await a.info("AAAAAA", "id1"))["connected"] == 2
        await b.presence("AAAAAA", "f1", None)  # left (through another worker than it came by)
        assert (await a.info("AAAAAA", "id1"))["connected"] == 1
        await a.presence("AAAAAA", "f3", 0.2)  # its worker died: it was not renewed
        assert (await a.info("AAAAAA", "id1"))["connected"] == 2
        await asyncio.sleep(0.3)
        assert (await b.info("AAAAAA", "id1"))["connected"] == 1
        await a.end("AAAAAA", "id1")
        await a.create("AAAAAA", "id2", 10)  # the code again, another class: nobody from before
        assert (await a.info("AAAAAA", "id2"))["connected"] == 0
