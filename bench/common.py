"""What the benchmarks share: timing, percentiles, and a real server on a free port."""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent

# What median_us and interleaved_us time with: wall time; bench/report.py switches to the
# process's CPU time (both libraries run on one thread) on a machine shared with other work,
# where being preempted adds milliseconds to whichever call it falls on.
clock: Callable[[], float] = time.perf_counter


def settle() -> None:
    """Call once, after the imports and the data: the objects made so far (torch's modules
    included: 230,000 of them) are set aside from the cyclic garbage collector, as the server
    sets aside its own at startup (``gc.freeze()`` in ``app.main.lifespan``). Otherwise every
    full collection rescans them all, and a benchmark that allocates (a trace) pays for what
    the baseline library imported."""
    gc.collect()
    gc.freeze()


def median_us(fn: Callable[[], object], repeat: int = 50, warmup: int = 3) -> float:
    """The median wall time of ``fn()``, in microseconds, after a few warm-up calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times) * 1e6


def interleaved_us(fns: list[Callable[[], object]], repeat: int = 50, warmup: int = 3) -> list[float]:
    """The median wall time of each of ``fns``, in microseconds, timed in turns (one call of
    each, then again): on a shared machine, a slow spell then weighs on all of them alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, samples in zip(fns, times):
            start = clock()
            fn()
            samples.append(clock() - start)
    return [statistics.median(samples) * 1e6 for samples in times]


def percentile_ms(samples: list[float], q: float) -> float:
    """The q-th percentile of durations in seconds, in milliseconds (nan if none)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k] * 1e3


@contextlib.contextmanager
def server(workers: int = 1, env: dict | None = None, uvicorn: bool = False) -> Iterator[tuple[int, subprocess.Popen]]:
    """``deepviz serve`` (or, with ``uvicorn``, plain ``uvicorn deepviz.app.main:app``, as a
    deployment may start it) on a free loopback port, until the block ends: yielded once every
    worker has started its app, not when the first answers. A worker still importing accepts
    no connection, so on a busy machine a hall that connected after the first /healthz all
    landed on one worker, and stayed there (WebSockets are long-lived)."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        command = ["uvicorn", "deepviz.app.main:app"] if uvicorn else ["deepviz", "serve"]
        process = subprocess.Popen([sys.executable, "-m", *command, "--port", str(port), "--workers", str(workers)],
                                   cwd=ROOT, env={**os.environ, **(env or {})},
                                   stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
        try:
            for _ in range(600):
                log.seek(0)
                if log.read().count(b"Application startup complete") >= workers:
                    break
                time.sleep(0.1)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
            yield port, process
        finally:
            process.terminate()
            process.wait(20)
