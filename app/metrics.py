"""Prometheus metrics in the text exposition format, with no dependency: counters, gauges
and one latency histogram per route. Per worker process: with --workers N, each process
reports its own (scrape each, or sum them in Prometheus)."""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
HELP = {
    "deepviz_requests_total": ("counter", "HTTP requests, by method, route and status"),
    "deepviz_request_seconds": ("histogram", "HTTP request latency, by route"),
    "deepviz_websocket_sessions": ("gauge", "open WebSocket sessions"),
    "deepviz_websocket_rejected_total": ("counter", "WebSocket sessions refused or closed by a limit"),
    "deepviz_frames_total": ("counter", "LeNet-5 frames computed"),
    "deepviz_frames_dropped_total": ("counter", "frames replaced by a newer one before being computed"),
    "deepviz_batch_seconds": ("histogram", "time to compute one micro-batch of frames"),
}


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{str(v).replace(chr(92), "/").replace(chr(34), "")}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


class Metrics:
    def __init__(self):
        self.lock = threading.Lock()
        self.values: dict[tuple[str, str], float] = defaultdict(float)
        self.histograms: dict[tuple[str, str], list] = {}

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        with self.lock:
            self.values[(name, _labels(labels))] += amount

    def gauge(self, name: str, delta: float, **labels: str) -> None:
        self.count(name, delta, **labels)

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = (name, _labels(labels))
        with self.lock:
            counts = self.histograms.setdefault(key, [0] * len(BUCKETS) + [0, 0.0])  # buckets…, count, sum
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-2] += 1
            counts[-1] += seconds

    def render(self) -> str:
        lines = []
        with self.lock:
            names = sorted({n for n, _ in self.values} | {n for n, _ in self.histograms} | set(HELP))
            for name in names:
                kind, text = HELP.get(name, ("untyped", name))
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
                for (n, labels), value in sorted(self.values.items()):
                    if n == name:
                        lines.append(f"{name}{labels} {value:g}")
                for (n, labels), counts in sorted(self.histograms.items()):
                    if n != name:
                        continue
                    base = labels[1:-1] + "," if labels else ""
                    for bound, c in zip(BUCKETS, counts):
                        lines.append(f'{name}_bucket{{{base}le="{bound}"}} {c}')
                    lines.append(f'{name}_bucket{{{base}le="+Inf"}} {counts[-2]}')
                    lines.append(f"{name}_count{labels} {counts[-2]}")
                    lines.append(f"{name}_sum{labels} {counts[-1]:.6f}")
        return "\n".join(lines) + "\n"


METRICS = Metrics()
