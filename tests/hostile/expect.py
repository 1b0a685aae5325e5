"""What an attacker must get back: a clear refusal (a 4xx, a 503 with Retry-After, a WebSocket
close code), never a 500 or a hang; and what the honest clients must not see."""

from __future__ import annotations

from collections.abc import Callable

from tests.hostile.wire import Check, Context, Outcome

# --- what the attacker must get ------------------------------------------------------------------


def only(allowed: set[int], needed: bool = True) -> Check:
    """Every HTTP status in ``allowed`` or 429 (a per-address rate limit: always a clear
    refusal), and at least one answer if ``needed``."""

    def check(outcome: Outcome, context: Context) -> list[str]:
        other = {code: n for code, n in outcome.statuses.items() if code not in allowed | {429}}
        found = [f"statuses {other}, expected only {sorted(allowed)}"] if other else []
        if needed and not outcome.statuses:
            found.append(f"no HTTP answer at all (expected {sorted(allowed)}): {outcome.describe()}")
        return found

    return check


def both(*checks: Check) -> Check:
    return lambda outcome, context: [p for c in checks for p in c(outcome, context)]


def ended_by_server(timeout: Callable[[Context], float | None], what: str) -> Check:
    """Every connection ended by the server (an answer or a close) once it has lasted the
    server's ``timeout`` for ``what`` + 1.5 s; with no such timeout, or an attack shorter than
    that, nothing is checked here."""

    def check(outcome: Outcome, context: Context) -> list[str]:
        after = timeout(context)
        overdue = [age for age in outcome.open_ages if after is not None and age > after + 1.5]
        if overdue:
            return [f"{len(overdue)} connection(s) still open after up to {max(overdue):.0f} s "
                    f"({what} within {after:g} s)"]  # fmt: skip
        return []

    return check


def closed_with(codes: set[int]) -> Check:
    """Every stream closed by the server, with one of ``codes``, before the attack's end (1006,
    no close frame, when the server closes while the attacker is still sending: the TCP reset
    discards its close frame)."""

    def check(outcome: Outcome, context: Context) -> list[str]:
        found = []
        if outcome.ends.get("open at end"):
            found.append(f"{outcome.ends['open at end']} stream(s) still open at the end, expected a close {codes}")
        other = {code: n for code, n in outcome.closes.items() if code not in codes}
        if other:
            found.append(f"close codes {other}, expected {sorted(codes)}")
        return found

    return check


def no_refusals_but(codes: set[int], statuses: set[int] = frozenset()) -> Check:
    """Streams: the server may close them only with ``codes`` or 1000 (idle), refuse handshakes
    only with ``statuses`` or 429 (a per-address rate: nginx's, on new streams)."""

    def check(outcome: Outcome, context: Context) -> list[str]:
        found = []
        other = {code: n for code, n in outcome.closes.items() if code not in codes | {1000}}
        if other:
            found.append(f"close codes {other}, expected only {sorted(codes | {1000})}")
        refused = {code: n for code, n in outcome.statuses.items() if code not in statuses | {429}}
        if refused:
            found.append(f"handshakes refused with HTTP {refused} (expected {sorted(statuses) or 'none'})")
        return found

    return check


def error_answers(outcome: Outcome, context: Context) -> list[str]:
    """The attacker's frames are answered {"error": …} (or its stream closed as a flood)."""
    frames = outcome.answers.get("frame", 0)
    errors = sum(n for k, n in outcome.answers.items() if k.startswith("error"))
    found = [f"{frames} bad frame(s) answered as if good"] if frames else []
    if not errors and not outcome.closes:
        found.append(f"no error answer to a bad frame: {outcome.describe()}")
    return found


def hoarding(outcome: Outcome, context: Context) -> list[str]:
    """Streams over the caps: accepted, then closed with 1013, not refused with an HTTP 403 (nginx
    may refuse them with 429, its rate of new streams per address); idle ones closed (1000)
    after the idle timeout."""
    found = no_refusals_but({1013, 1001, 1000})(outcome, context)
    idle = context.ws_idle_timeout
    if idle is not None and context.seconds > idle + 1.5 and outcome.ends.get("open at end"):
        found.append(f"{outcome.ends['open at end']} idle stream(s) still open after {context.seconds:g} s "
                     f"(idle streams are closed after {idle:g} s)")  # fmt: skip
    return found


def limited(outcome: Outcome, context: Context) -> list[str]:
    """The per-address limit acted: some answers were 429."""
    return [] if outcome.statuses.get(429) else [f"never limited (no 429): {outcome.describe()}"]


def capped(outcome: Outcome, context: Context) -> list[str]:
    """Streams over the caps were accepted, then closed with 1013 (not refused with a 403, nor
    left open past the cap)."""
    found = no_refusals_but({1013, 1001, 1000})(outcome, context)
    if not outcome.closes.get(1013) and not outcome.statuses.get(429):
        found.append(f"no stream closed with 1013 (the caps never acted): {outcome.describe()}")
    return found


def followers_served(outcome: Outcome, context: Context) -> list[str]:
    """The attacker's own followers got events and were closed, if at all, only as too many
    (1013) or at the end."""
    other = {code: n for code, n in outcome.closes.items() if code not in {1000, 1001, 1013}}
    found = [f"followers closed with {other}"] if other else []
    if not outcome.answers.get("event"):
        found.append(f"the followers got no event: {outcome.describe()}")
    return found


SERVER_REQUEST = {200, 422, 429, 503}  # computed, over budget, over the address's rate, busy (with Retry-After)
HEAD_REFUSED = {400, 408, 413, 414, 431}
STREAM_FLOODED = {1003, 1006, 1008, 1009}  # unsupported data, no close frame (reset), policy, too big
