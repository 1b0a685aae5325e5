"""What the classroom browser tests and bench/class_follow.py share: people (each a browser
context, with its own sessionStorage), a class opened on the dashboard, a tab that drives it,
students who join; and the changes an instructor makes on each lesson page, with what a
following student's page shows then and the wall-clock marks that time it.

Times are Date.now() in each page (one machine, one clock): the instructor's first input event
of the action (pointer, key, input, change, submit), and the animation frame at which the
student's page first shows the change (a MutationObserver checks the DOM)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.conftest import _open

WAIT = 30_000  # ms: servers, Redis and several browsers share the machine


@contextlib.contextmanager
def crowd(browser) -> Iterator[Callable[..., Page]]:
    """`person(url, tolerated=(), **context_options)`: a new person's page on the server at `url`;
    on leaving, every context is closed and none may have reported an error."""
    opened = []

    def person(url: str, tolerated: tuple[str, ...] = (), **options) -> Page:
        context, page, errors = _open(browser, url, tolerated, context_options=options or None)
        opened.append((context, errors))
        return page

    try:
        yield person
    finally:
        for context, _ in opened:
            context.close()
    for _, errors in opened:
        assert not errors, f"a page reported errors: {errors}"


def open_class(dashboard: Page) -> str:
    """Opens a class on the dashboard (/class); its join code."""
    dashboard.goto("/class")
    dashboard.get_by_role("button", name="Open a class").click()
    expect(dashboard.locator("#class-code")).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=WAIT)
    return dashboard.locator("#class-code").inner_text()


def drive(dashboard: Page, title: str) -> Page:
    """The tab the dashboard's "drive a page" link `title` opens: it drives the class."""
    with dashboard.context.expect_page() as opened:
        dashboard.locator("a[data-drive]", has_text=re.compile(f"^{re.escape(title)}$")).click()
    teacher = opened.value
    expect(teacher.locator("#class-bar")).to_contain_text("you drive", timeout=WAIT)
    return teacher


def join(student: Page, code: str, name: str = "") -> None:
    """The student joins class `code` on /join and is taken to the instructor's page."""
    student.goto(f"/join?code={code}")
    if name:
        student.get_by_label("Name").fill(name)
    student.get_by_role("button", name="Join").click()
    student.wait_for_url(lambda url: urlsplit(url).path != "/join", timeout=WAIT)  # to the instructor's page
    expect(student.locator("#class-bar")).to_contain_text("Following the instructor", timeout=WAIT)


# -- the changes: (selector, property, text, present): the property contains the text (or not) --
Shown = list[tuple[str, str, str, bool]]


@dataclass(frozen=True)
class Change:
    """An instructor's change on one lesson page, there and back again (`there` True, then False):
    `prepare` fills what the action needs (not timed), `act` is the action, `shown` what a
    follower's page shows after it, `query` a parameter its URL then holds."""

    name: str
    start: str  # the page's URL before the first change
    ready: Shown  # the start drawn
    act: Callable[[Page, bool], None]
    shown: Callable[[bool], Shown]
    query: Callable[[bool], str]
    prepare: Callable[[Page, bool], None] = lambda page, there: None


def set_range(page: Page, selector: str, value) -> None:
    page.locator(selector).fill(str(value))  # a range input takes fill() and fires "input"


def click_unit(page: Page, row: int, col: int) -> None:
    canvas = page.locator("canvas[data-layer='3']")  # conv 3 of c3,c3,c3 on 16×16: 10×10
    box = canvas.bounding_box()
    cell = box["width"] / 10
    canvas.click(position={"x": cell * (col + 0.5), "y": cell * (row + 0.5)})


def fill_expression(page: Page, there: bool) -> None:
    if there:
        page.locator("#expression").fill("weight * x + bias")
        page.locator("#values").fill("weight = 2, x = 3, bias = 1")


def build_or_preset(page: Page, there: bool) -> None:
    if there:
        page.get_by_role("button", name="Build the graph").click()
    else:
        page.select_option("#preset", "notes")


def menu_change(name: str, start: str, ready: Shown, menu: str, key: str, values: tuple[str, str],
                note: tuple[str, str, str]) -> Change:  # fmt: skip
    """A change made with a menu: the select `menu` from values[0] to values[1] (`there`) and
    back, the URL's `key` with it; note = (selector, its text at values[0], its text there)."""
    selector, text_back, text_there = note

    def pick(there: bool) -> str:
        return values[1] if there else values[0]

    return Change(
        name,
        start,
        ready,
        act=lambda page, there: page.select_option(menu, pick(there)),
        shown=lambda there: [
            (selector, "textContent", text_there if there else text_back, True),
            (menu, "value", pick(there), True),
        ],
        query=lambda there: f"{key}={pick(there)}",
    )


CHANGES = [
    Change(
        "convolution: padding",
        "/convolution?img=square&n=8&k=sobel_x&p=1&s=1",
        [("#output-size", "textContent", "8 × 8", True)],
        act=lambda page, there: set_range(page, "#padding", 3 if there else 1),
        shown=lambda there: [
            ("#output-size", "textContent", "12 × 12" if there else "8 × 8", True),
            ("#padding-value", "textContent", "3" if there else "1", True),
        ],
        query=lambda there: "p=3" if there else "p=1",
    ),
    Change(
        "receptive-field: a unit",
        "/receptive-field?stack=c3,c3,c3&n=16",
        [("canvas[data-layer='3']", "tagName", "CANVAS", True)],
        act=lambda page, there: click_unit(page, *((2, 4) if there else (5, 6))),
        shown=lambda there: [
            (
                "#regions",
                "textContent",
                "conv 3: rows 2–2, columns 4–4" if there else "conv 3: rows 5–5, columns 6–6",
                True,
            )
        ],
        query=lambda there: "unit=3.2.4" if there else "unit=3.5.6",
    ),
    Change(
        "pooling: kernel",
        "/pooling?kind=max&k=2&s=2&seed=1",
        [("#pool-output-caption", "textContent", "Output, 3×3", True)],
        act=lambda page, there: set_range(page, "#kernel", 3 if there else 2),
        shown=lambda there: [("#pool-output-caption", "textContent", "Output, 2×2" if there else "Output, 3×3", True)],
        query=lambda there: "k=3" if there else "k=2",
    ),
    menu_change(
        "optimizers: surface",
        "/optimizers?surface=quadratic&racers=gd,adam&steps=50",
        [("#surface-note", "textContent", "κ = 10", True)],
        "#surface",
        "surface",
        ("quadratic", "rosenbrock"),
        ("#surface-note", "κ = 10", "A curved valley"),
    ),
    menu_change(
        "training: dataset",
        "/training?data=xor",
        [("#link-state", "textContent", "live", True), ("#metric-name", "textContent", "Test accuracy", True)],
        "#dataset",
        "data",
        ("xor", "sine"),
        ("#metric-name", "Test accuracy", "mean squared"),
    ),
    menu_change(
        "adversarial: model",
        "/adversarial?model=standard&target=3&eps=0.1&steps=10",
        [("#verdict", "textContent", "the standard LeNet-5", True)],
        "#model",
        "model",
        ("standard", "robust"),
        ("#verdict", "the standard LeNet-5", "adversarially trained"),
    ),
    Change(
        "backprop: expression",
        "/backprop?preset=notes",
        [("#step-counter", "textContent", "step 0 of", True)],
        prepare=fill_expression,
        act=build_or_preset,
        shown=lambda there: [
            ("#graph", "textContent", "weight", there),
            ("#step-counter", "textContent", "step 0 of", True),
            ("#expression", "value", "weight * x + bias" if there else "(x + y) * z", True),
        ],
        query=lambda there: "preset=custom" if there else "preset=notes",
    ),
]

# The instructor's page: the time of the first input event from now on.
ARM_ACTION = """() => {
  window.__actedAt = null;
  for (const type of ["pointerdown", "keydown", "input", "change", "submit"]) {
    document.addEventListener(type, () => { window.__actedAt ??= Date.now(); }, { capture: true, once: true });
  }
}"""

# A follower's page: a mark a reload would wipe, the time its class bar hands it the followed
# state, and the time of the animation frame at which it first shows `shown` (window.__drawn).
ARM_SHOWN = """(shown) => {
  window.__noReload = true;
  window.__followedAt = null;
  window.addEventListener("deepviz:follow", () => { window.__followedAt ??= Date.now(); }, { once: true });
  const holds = () => shown.every(([selector, property, text, present]) => {
    const node = document.querySelector(selector);
    return String(node?.[property] ?? "").includes(text) === present;
  });
  window.__drawn = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (!holds()) return;
      observer.disconnect();
      requestAnimationFrame(() => resolve(Date.now()));
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}"""

WAIT_SHOWN = """(ms) => Promise.race([window.__drawn, new Promise((resolve) => setTimeout(() => resolve(null), ms))])"""

HOLDS = """(shown) => shown.every(([selector, property, text, present]) =>
  String(document.querySelector(selector)?.[property] ?? "").includes(text) === present)"""


def shows(page: Page, shown: Shown, path: str = "") -> bool:
    """Whether `page` is at `path` (if given) and shows `shown`; False while it navigates."""
    if path and urlsplit(page.url).path != path:
        return False
    try:
        return page.evaluate(HOLDS, shown)
    except PlaywrightError:  # its document went away: a navigation under way
        return False


def wait_until_shown(page: Page, shown: Shown, path: str = "", timeout_ms: int = WAIT) -> None:
    """Polled (the pages' CSP forbids wait_for_function's eval)."""
    for _ in range(timeout_ms // 100):
        if shows(page, shown, path):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{page.url} never showed {shown}")


def drawn_at(student: Page) -> int | None:
    """When the student's page drew what it was armed for; None if never (or it was reloaded)."""
    try:
        return student.evaluate(WAIT_SHOWN, WAIT)
    except PlaywrightError:  # its document went away: a reload
        return None


def follow_once(teacher: Page, students: list[Page], change: Change, there: bool) -> list[tuple[float, float]]:
    """The instructor makes `change` (there or back): for each student, the ms from their action
    to the student's page drawn with it (without a reload), and to the state received (the
    first "deepviz:follow" event)."""
    change.prepare(teacher, there)
    shown = change.shown(there)
    for student in students:
        student.evaluate(ARM_SHOWN, shown)
    teacher.evaluate(ARM_ACTION)
    change.act(teacher, there)
    drawn = [drawn_at(student) for student in students]
    acted = teacher.evaluate("window.__actedAt")
    for student, at in zip(students, drawn, strict=True):
        assert at is not None, f"{change.name}: {student.url} did not show {shown} (or was reloaded)"
        assert student.evaluate("window.__noReload") is True, f"{change.name}: {student.url} was reloaded"
    assert acted is not None, f"{change.name}: the instructor's action fired no input event"
    received = [student.evaluate("window.__followedAt") for student in students]
    return [(at - acted, (got or at) - acted) for at, got in zip(drawn, received, strict=True)]


def go_to_start(teacher: Page, students: list[Page], change: Change) -> None:
    """The instructor opens the change's page at its start; the students are taken there."""
    teacher.goto(change.start)
    wait_until_shown(teacher, change.ready)
    for student in students:
        wait_until_shown(student, change.ready, path=urlsplit(change.start).path)
