"""Following in place, in real browsers (issue 12, docs/classroom.md "Following"): an instructor's
driving tab and ``--students`` students (headless Chromium, one context each, the last on a
phone's viewport) in one class on ``deepviz serve`` (one worker, the in-process broker; with
``--redis``, two workers on a redis-server of its own). On each lesson page the instructor makes
``--changes`` changes with the page's own control, there and back (tests/browser/classes.py's
CHANGES: padding, a unit, the kernel, the surface, the dataset, the expression); for each, the
wall time from the instructor's action (its first input event) to each student's page drawn
with it (the animation frame after its DOM shows it), and to the state received (the class
bar's "deepviz:follow"). Prints p50 and p99 per page. Every page and its pages' errors checked:
a reload (a mark set before each change gone) fails the run.

    .venv/bin/python bench/class_follow.py [--changes 20] [--students 2] [--redis] [--pages backprop,pooling]

Everything (server, browsers) shares the machine's cores: a student's page that draws a heavy
figure (the optimizers' contour maps) competes with the instructor's. The people share one
loopback address, whose limit on work at once is for one person (max_work_per_address):
raised to 4 per person here, as a hall's NAT needs (deploy/nginx.conf's note).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.common import percentile_ms  # noqa: E402
from tests.browser.classes import CHANGES, crowd, drive, follow_once, go_to_start, join, open_class  # noqa: E402
from tests.browser.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.browser.test_phone import PHONE  # noqa: E402
from tests.services import RedisServer, Server  # noqa: E402

SECRET = "the-class-follow-bench-secret-of-32-characters-or-more"


def run(url: str, changes: int, students: int, pages: list[str]) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        with crowd(browser) as person:
            dashboard = person(url)
            code = open_class(dashboard)
            teacher = drive(dashboard, "Backpropagation")
            hall = [person(url, **(PHONE if i == students - 1 and i > 0 else {})) for i in range(students)]
            for i, student in enumerate(hall):
                join(student, code, f"student {i + 1}")
            print(f"{'page: change':26} {'drawn p50':>10} {'p99':>7} {'received p50':>13} {'p99':>7}  (ms, n)")
            for change in [c for c in CHANGES if not pages or c.name.split(":")[0] in pages]:
                go_to_start(teacher, hall, change)
                drawn, received = [], []
                for i in range(changes):
                    for total, got in follow_once(teacher, hall, change, there=i % 2 == 0):
                        drawn.append(total / 1e3)
                        received.append(got / 1e3)
                print(f"{change.name:26} {percentile_ms(drawn, 50):10.0f} {percentile_ms(drawn, 99):7.0f} "
                      f"{percentile_ms(received, 50):13.0f} {percentile_ms(received, 99):7.0f}  "
                      f"({len(drawn)})", flush=True)  # fmt: skip
        browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=20, help="changes per page (there and back)")
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--redis", action="store_true", help="two workers on a redis-server of its own")
    parser.add_argument("--pages", default="", help="only these pages, e.g. backprop,pooling")
    args = parser.parse_args(argv)
    env = {"DEEPVIZ_MAX_WORK_PER_ADDRESS": str(4 * (args.students + 2))}
    redis = RedisServer() if args.redis else None
    with tempfile.TemporaryDirectory() as workdir:
        if redis:
            redis.start()
            env |= {"DEEPVIZ_REDIS_URL": redis.url, "DEEPVIZ_CLASSROOM_SECRET": SECRET}
        deepviz = Server(Path(workdir), env=env, workers=2 if redis else 1, name="class-follow")
        try:
            deepviz.start()
            broker = "Redis, 2 workers" if redis else "in-process broker, 1 worker"
            print(f"1 instructor + {args.students} students in Chromium, {broker}, {args.changes} changes a page")
            run(deepviz.url, args.changes, args.students, [p for p in args.pages.split(",") if p])
        finally:
            deepviz.stop()
            if redis:
                redis.stop()


if __name__ == "__main__":
    main()
