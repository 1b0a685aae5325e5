"""Every attack of tests/hostile against real servers, longer than the tests run them: a bare
`deepviz serve --workers 2`, then two instances behind nginx (deploy/nginx.conf), each attack
for --seconds while honest clients (from another address) measure. Prints a markdown table:
what the honest clients saw, what the server spent and held, and what went wrong.

    .venv/bin/python bench/hostile.py --seconds 20
    .venv/bin/python bench/hostile.py --seconds 5 --setup bare --attack descent_cpu --attack gives_up

The attacks, the honest clients and the measurements are tests/hostile's own (attacks.py,
harness.py). Traffic goes to loopback only; every attack stops by itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile.attacks import ATTACKS, BY_NAME  # noqa: E402
from tests.hostile.harness import SETUPS, Honest, Report, run_attack  # noqa: E402

COLUMNS = ["attack", "setup", "honest HTTP p50/p99 (ms)", "honest WS frames p50/p99 (ms)",
           "honest failures / error frames", "server CPU (s)", "peak RSS (MB)", "RSS after (MB)",
           "verdict"]  # fmt: skip


def row(report: Report, problems: list[str], first_note: int) -> list[str]:
    verdict = "ok" if not problems else "; ".join(f"[{first_note + i}]" for i in range(len(problems)))
    after = f"{report.rss_after:.0f}" + (" (restarted)" if report.restarted else "")
    return [
        report.attack,
        report.setup,
        f"{report.p('http', 50):.0f} / {report.p('http', 99):.0f}",
        f"{report.p('ws', 50):.0f} / {report.p('ws', 99):.0f}",
        f"{report.failures} / {report.error_frames}",
        f"{report.cpu:.1f}",
        f"{report.rss_peak:.0f}",
        after,
        verdict,
    ]


def table(reports: list[Report]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    notes: list[str] = []
    for report in reports:
        problems = report.problems()
        lines.append("| " + " | ".join(row(report, problems, len(notes) + 1)) + " |")
        notes += [f"{report.attack}, {report.setup}: {p}" for p in problems]
    lines += [""] + [f"[{i}] {note}" for i, note in enumerate(notes, 1)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="each attack's duration (default %(default)s)")
    parser.add_argument("--setup", choices=["bare", "nginx", "both"], default="both")
    parser.add_argument("--attack", action="append", choices=sorted(BY_NAME), help="only these (repeatable)")
    args = parser.parse_args()

    attacks = [BY_NAME[name] for name in args.attack] if args.attack else ATTACKS
    setups = ["bare", "nginx"] if args.setup == "both" else [args.setup]
    started = time.monotonic()
    reports: list[Report] = []
    honest = Honest()
    try:
        for name in setups:
            with SETUPS[name]() as setup:
                honest.measure(setup.target, 0.5)  # warm-up
                for attack in attacks:
                    report = run_attack(attack, setup, honest, args.seconds)
                    reports.append(report)
                    print(report.summary(), file=sys.stderr, flush=True)
    finally:
        honest.close()
    print(f"{len(attacks)} attacks × {len(setups)} setup(s), {args.seconds:g} s each, honest clients from 127.0.0.2, "
          f"attackers from 127.0.0.3; {time.monotonic() - started:.0f} s in all, on this machine's "
          "2 cores (clients included)\n")  # fmt: skip
    print(table(reports))


if __name__ == "__main__":
    main()
