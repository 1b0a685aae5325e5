"""Every attack of tests/hostile/attacks.py against a real server, bare and behind nginx,
while honest clients (from another address) measure: during the attack they see no failure,
p99 ≤ 1 s and no error frame; the server's processes stay under 2 GB and come back to
within 20% (+50 MB) of their memory and to idle; and the attacker gets a clear refusal
(4xx, 503 with Retry-After, a WebSocket close code), never a 500 or a hang.

A few seconds an attack (Attack.ci_seconds); bench/hostile.py runs them longer."""

from __future__ import annotations

import pytest

from tests.hostile.attacks import ATTACKS
from tests.hostile.harness import run_attack

pytestmark = pytest.mark.hostile

# (attack, setup) -> why it still fails on main: reported, not hidden (strict=False).
XFAIL: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(attack, setup, honest, request):
    reason = XFAIL.get((attack.name, setup.name))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=False, reason=reason))
    report = run_attack(attack, setup, honest)
    print(report.summary())
    problems = report.problems()
    assert not problems, "\n".join([report.summary(), "problems:", *problems])
