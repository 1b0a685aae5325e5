"""Prometheus metrics with prometheus_client, summed over the worker processes of a server.

Every metric is one row of TABLE; call sites use METRICS.count / gauge / observe by name,
and /metrics serves METRICS.render().

Why multiprocess mode: with `--workers N` uvicorn's workers are separate processes and the
kernel hands each connection to any of them, so a per-process registry made successive
scrapes alternate between workers' counters, which Prometheus reads as counter resets.
Instead each worker writes its values to memory-mapped files in one directory per server
(prometheus_client's multiprocess mode) and whichever worker answers /metrics adds up all
the files (MultiProcessCollector). Not chosen: a pid label per worker (a scrape still
reaches one worker only) or a port per worker (they share uvicorn's socket); both would
also mean one scrape target per process. The directory is chosen in app/multiproc.py before
prometheus_client is first imported (it reads $PROMETHEUS_MULTIPROC_DIR at import time):

- `deepviz serve`: with several processes (--workers N, --reload), the CLI creates the
  directory, exports it to the workers it starts, and removes it when it exits. An operator
  may set $PROMETHEUS_MULTIPROC_DIR instead: the CLI empties it at start and keeps it.
- `uvicorn deepviz.app.main:create_app --factory --workers N` (no variable set): each worker, being
  a `multiprocessing` child, uses the directory named after its parent's pid and start
  time, so the workers of one server find each other and a later server never inherits an
  earlier one's files; directories of servers that are gone are removed at the next start.
- One process (the tests' TestClient, plain `uvicorn` with one worker): no files, an
  in-process registry of the module's own (never prometheus_client's global one).
- Other process managers (gunicorn forks its workers without `multiprocessing`): set
  $PROMETHEUS_MULTIPROC_DIR to a directory emptied before each start.

Dead workers: their counter and histogram files stay, so totals never go back when uvicorn
replaces a worker; their share of the WebSocket-sessions gauge (mode "livesum": only live
processes count) is dropped by mark_process_dead. uvicorn has no hook for a worker's exit
(gunicorn's child_exit) and its workers end by re-raising SIGTERM, which skips atexit; so
each scrape, and each worker's start, calls it for every pid of the directory that is no
longer alive (`forget_dead`); atexit covers the exits that do run it. Limits of
multiprocess mode: no _created series, no exemplars; label values are escaped by
prometheus_client per the text exposition format.

Labels must stay bounded: routes are labelled by template, methods and reasons by a fixed
set (app/middleware.py, app/routers/lenet.py). Every label set ever used is kept forever.

Scrape one target per server instance (host:port): any worker answers for all of them.

    scrape_configs:
      - job_name: deepviz
        metrics_path: /metrics
        static_configs:
          - targets: ["deepviz-1.internal:8000", "deepviz-2.internal:8000"]

and sum over instances in queries, e.g. sum by (route) (rate(deepviz_requests_total[5m]))."""

from __future__ import annotations

import atexit
import glob
import os
import re

from deepviz.app import multiproc

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)  # seconds, both histograms
# One row per metric: name, kind, help, label names. A gauge is moved by deltas and summed over
# the live workers (multiprocess mode "livesum"); histograms share BUCKETS.
TABLE = [
    ("deepviz_requests_total", "counter", "HTTP requests, by method, route and status", ("method", "route", "status")),
    ("deepviz_request_seconds", "histogram", "HTTP request latency, by route", ("route",)),
    ("deepviz_websocket_sessions", "gauge", "open WebSocket sessions", ()),
    ("deepviz_websocket_rejected_total", "counter", "WebSocket sessions refused or closed by a limit", ("reason",)),
    ("deepviz_frames_total", "counter", "LeNet-5 frames computed", ()),
    ("deepviz_frames_dropped_total", "counter", "frames replaced by a newer one before being computed", ()),
    ("deepviz_batch_seconds", "histogram", "time to compute one micro-batch of frames", ()),
    (
        "deepviz_requests_refused_total",
        "counter",
        "HTTP requests refused by a limit (busy, large or slow body)",
        ("reason",),
    ),
    (
        "deepviz_connections_refused_total",
        "counter",
        "connections closed by a limit (large or slow head, per address)",
        ("reason",),
    ),
]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the text exposition format


class Metrics:
    """The metrics of TABLE. `directory`: the shared directory of multiprocess mode, or
    None for an in-process registry (then any number of instances may coexist)."""

    def __init__(self, table: list[tuple[str, str, str, tuple[str, ...]]] = TABLE, directory: str | None = None):
        # Imported here, not at the top: prometheus_client decides at import time whether it
        # is in multiprocess mode, so the directory must have been chosen (and exported) first.
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
        from prometheus_client.multiprocess import MultiProcessCollector

        if directory is not None and values.ValueClass is values.MutexValue:
            raise RuntimeError(f"prometheus_client was imported before {multiproc.ENV} was set")
        self.directory = directory
        self.registry = CollectorRegistry()
        if directory is not None:  # the files of every worker; metrics themselves stay unregistered
            MultiProcessCollector(self.registry, path=directory)
        owner = None if directory is not None else self.registry
        kinds = {
            "counter": lambda name, text, labels: Counter(name, text, labels, registry=owner),
            "gauge": lambda name, text, labels: Gauge(name, text, labels, registry=owner, multiprocess_mode="livesum"),
            "histogram": lambda name, text, labels: Histogram(name, text, labels, registry=owner, buckets=BUCKETS),
        }
        self.metrics = {name: kinds[kind](name, text, labels) for name, kind, text, labels in table}
        self.children: dict[tuple, object] = {}  # (name, labels as passed) -> the labelled metric

    def _child(self, name: str, labels: dict[str, str]):
        key = (name, *labels.items())
        child = self.children.get(key)
        if child is None:
            try:
                metric = self.metrics[name]
            except KeyError:
                raise KeyError(f"{name}: no such metric; add a row to TABLE in app/metrics.py") from None
            child = self.children[key] = metric.labels(**labels) if labels else metric
        return child

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        """Add `amount` to a counter."""
        self._child(name, labels).inc(amount)

    def gauge(self, name: str, delta: float, **labels: str) -> None:
        """Move a gauge up or down by `delta`."""
        self._child(name, labels).inc(delta)

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        """Add one observation to a histogram."""
        self._child(name, labels).observe(seconds)

    def render(self) -> str:
        """Every metric of every worker, in the text exposition format (CONTENT_TYPE)."""
        from prometheus_client import generate_latest

        if self.directory is not None:
            forget_dead(self.directory)
        return generate_latest(self.registry).decode()


def forget_dead(directory: str) -> None:
    """Drop the live-gauge files of workers that died without exiting cleanly (killed, or
    crashed): prometheus_client's mark_process_dead, which gunicorn would call on child exit
    but uvicorn has no hook for."""
    from prometheus_client.multiprocess import mark_process_dead

    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        match = re.search(r"_(\d+)\.db$", path)
        if match and not multiproc.alive(int(match[1])):
            mark_process_dead(int(match[1]), directory)


def _start() -> Metrics:
    directory = multiproc.choose()
    if directory is not None:
        from prometheus_client.multiprocess import mark_process_dead

        atexit.register(mark_process_dead, os.getpid(), directory)  # when atexit runs at all
        forget_dead(directory)
    else:
        from prometheus_client import disable_created_metrics

        disable_created_metrics()  # as in multiprocess mode: no *_created series
    return Metrics(TABLE, directory)


METRICS = _start()
