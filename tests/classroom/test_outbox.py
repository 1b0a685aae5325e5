"""A follower's outbox: the snapshot first, nothing sent twice, every event in seq order;
and a follower that falls behind is never an unbounded queue: past its backlog it keeps only
the latest state, with every poll, reveal and end."""

from __future__ import annotations

import pytest

from deepviz.app.classroom.broker import Snapshot
from deepviz.app.classroom.follow import NO_STATE, Outbox

pytestmark = pytest.mark.anyio
KINDS = ["state", "poll", "state", "reveal", "state", "state", "ended"]


async def test_a_follower_within_its_backlog_gets_every_event_in_order():
    box = Outbox(backlog=10)
    box.start(Snapshot("id", 0, []))
    assert box.take() == [(0, "state", NO_STATE)]
    for seq, kind in enumerate(KINDS, start=1):
        box.deliver(seq, kind, f"event {seq}")
    assert box.take() == [(seq, kind, f"event {seq}") for seq, kind in enumerate(KINDS, start=1)]
    assert box.take() == [] and not box.ready.is_set()


async def test_a_follower_behind_keeps_the_latest_state_and_every_other_event_in_order():
    box = Outbox(backlog=3)
    box.start(Snapshot("id", 0, [(0, "state", "s")]))
    box.take()
    for seq, kind in enumerate(KINDS, start=1):
        box.deliver(seq, kind, f"event {seq}")
        assert len(box.items) <= 3 + 3  # the backlog, plus the polls, reveals and end kept
    assert box.take() == [(2, "poll", "event 2"), (4, "reveal", "event 4"), (6, "state", "event 6"),
                          (7, "ended", "event 7")]  # fmt: skip


async def test_the_snapshot_comes_first_and_what_it_holds_is_not_sent_again():
    box = Outbox(backlog=10)
    box.deliver(5, "state", "state 5")  # published while the snapshot was being read
    box.deliver(6, "poll", "poll 6")
    box.start(Snapshot("id", 5, [(4, "poll", "poll 4"), (5, "state", "state 5")]))
    box.deliver(5, "state", "state 5")  # a late copy: the snapshot has it
    box.deliver(7, "state", "state 7")
    assert box.take() == [(4, "poll", "poll 4"), (5, "state", "state 5"), (6, "poll", "poll 6"),
                          (7, "state", "state 7")]  # fmt: skip


async def test_a_lost_feed_wakes_the_sender():
    box = Outbox(backlog=10)
    box.start(Snapshot("id", 0, [(1, "state", "s")]))
    box.take()
    box.lost()
    assert box.broken and box.ready.is_set()


async def test_a_follower_behind_keeps_the_latest_mode_as_it_keeps_the_latest_state():
    box = Outbox(backlog=3)
    box.start(Snapshot("id", 0, [(0, "state", "s")]))
    box.take()
    kinds = ["mode", "state", "mode", "poll", "mode", "state", "mode"]
    for seq, kind in enumerate(kinds, start=1):
        box.deliver(seq, kind, f"event {seq}")
    assert box.take() == [(4, "poll", "event 4"), (6, "state", "event 6"), (7, "mode", "event 7")]
