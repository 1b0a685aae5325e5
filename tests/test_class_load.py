"""bench/class_load.py cannot rot: its whole run (joins, follow WebSockets, the instructor's
states, a poll with replaced answers, memory, a Redis restart) with 10 followers on two real
instances sharing a real redis-server. What must hold whatever the timing: nothing lost, order
kept, the poll counted exactly, everyone following again after the restart (no timing asserted)."""

import re

from bench import class_load


def test_class_load_bench_runs_ten_followers_over_two_instances_and_a_redis_restart(capsys):
    result = class_load.main(["--followers", "10", "--changes", "10", "--interval", "0.1", "--ramp", "1",
                              "--down", "1", "--per-address", "3"])  # fmt: skip
    out = capsys.readouterr().out
    assert result.connected == 10 and len(result.latencies) == 10 * 10
    assert result.lost == 0 and result.out_of_order == 0
    assert result.answers_sent == 12 and result.answers_refused == 0  # every fifth answered twice
    assert result.counts_exact and result.counts_sent == {0: 2, 1: 3, 2: 3, 3: 2}  # the replaced ones moved
    restart = result.restart
    assert restart["closes"]["1012"] == 10  # every follower told at once: reconnect
    assert restart["everyone back"] and restart["last received"] == 10 and restart["out of order"] == 0
    assert re.search(r"connected:\s+10/10", out) and "lost:       0 state(s)" in out
    assert re.search(r"total 10, sent \{0: 2, 1: 3, 2: 3, 3: 2\}: exact", out), out
    assert "received by 10/10" in out
