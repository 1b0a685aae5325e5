"""bench/train_load.py cannot rot: its client runs for a few seconds against a real server
with 3 training sessions, frames arrive and the report is printed (no timing is asserted)."""

import re

from bench import train_load


def test_train_load_bench_runs_three_sessions(capsys):
    (level,) = train_load.main(["--sessions", "3", "--seconds", "4", "--workers", "1"])
    out = capsys.readouterr().out
    assert level.started == 3
    assert level.frames > 0 and not level.errors and not level.closes
    line = re.search(r"^\s*3 sessions \(3 started\)  p50 .* frames\s+(\d+)/s of 30 wanted", out, re.M)
    assert line and int(line.group(1)) > 0, out
    assert "largest N served with p99" in out
