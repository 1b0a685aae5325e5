"""Following in place (issue 12): whatever the instructor changes on a lesson page reaches every
follower's page, which renders it itself, without a reload. One class, an instructor's driving
tab and two students (one on a phone) on one deepviz (the in-process broker); on each page the
instructor uses a real control (padding, a unit, the kernel, the surface, the dataset, the
model attacked, the expression) there and back, and both students' pages show it with a mark set before the change
still there (a reload would wipe it) and the URL holding it (a reload shows the same). The time
from the instructor's action to each student's page drawn is printed, not asserted (one
machine's wall clock: tests/browser/classes.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.classes import (
    CHANGES,
    WAIT,
    Change,
    crowd,
    drive,
    follow_once,
    go_to_start,
    join,
    menu_change,
    open_class,
)
from tests.browser.conftest import screenshot
from tests.browser.network import LIVE_STREAM, stream_log
from tests.browser.test_phone import PHONE
from tests.services import Server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def deepviz(tmp_path_factory):
    """One worker, classes in process. Three people on one machine share its address, whose
    limit on work at once is meant for one person: raised to what three pages may ask."""
    server = Server(tmp_path_factory.mktemp("class-follow"), env={"DEEPVIZ_MAX_WORK_PER_ADDRESS": "8"},
                    workers=1, name="class-follow")  # fmt: skip
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hall(browser, deepviz):
    """(teacher, [student, student]) in one class, the teacher driving."""
    with crowd(browser) as person:
        dashboard = person(deepviz.url)
        code = open_class(dashboard)
        teacher = drive(dashboard, "Backpropagation")
        students = [person(deepviz.url), person(deepviz.url, **PHONE)]
        for student, name in zip(students, ("Ada", "Grace"), strict=True):
            join(student, code, name)
        yield teacher, students


@pytest.mark.parametrize("change", CHANGES, ids=[c.name.split(":")[0] for c in CHANGES])
def test_a_change_on_the_instructors_page_is_drawn_on_the_students_pages_without_a_reload(hall, change):
    teacher, students = hall
    go_to_start(teacher, students, change)
    for there in (True, False):
        took = follow_once(teacher, students, change, there)
        print(f"\n{change.name} {'there' if there else 'back'}: action to drawn (state received) "
              + ", ".join(f"{drawn:.0f} ms ({got:.0f} ms)" for drawn, got in took))  # fmt: skip
        for page in (teacher, *students):
            assert change.query(there) in page.url, f"{page.url} lacks {change.query(there)}"
        for student in students:
            expect(student.locator("#class-bar")).to_contain_text("Following the instructor", timeout=WAIT)
        if there:
            name = f"class-follow-{change.start[1:].split('?')[0]}"
            screenshot(students[0], name, full_page=False)
            screenshot(students[1], f"{name}-phone", full_page=False)


def test_a_followed_state_survives_a_reload_and_explore_alone_stops_following(hall):
    """The URL a follow leaves is the followed state: a reload shows it. Exploring alone, the
    instructor's changes do not move the page; rejoining applies the latest, in place."""
    teacher, (ada, _) = hall
    change = CHANGES[2]  # pooling
    go_to_start(teacher, [ada], change)
    follow_once(teacher, [ada], change, True)
    ada.reload()
    expect(ada.locator("#pool-output-caption")).to_have_text("Output, 2×2", timeout=WAIT)
    ada.get_by_role("button", name="Explore alone").click()
    change.act(teacher, False)  # the kernel back to 2
    expect(teacher.locator("#pool-output-caption")).to_have_text("Output, 3×3", timeout=WAIT)
    ada.wait_for_timeout(500)
    expect(ada.locator("#pool-output-caption")).to_have_text("Output, 2×2")
    ada.evaluate("window.__noReload = true")
    ada.get_by_role("button", name="Rejoin the instructor").click()
    expect(ada.locator("#pool-output-caption")).to_have_text("Output, 3×3", timeout=WAIT)
    assert ada.evaluate("window.__noReload") is True and "k=2" in ada.url


def two_steps_each(students) -> None:
    """Each student's own run takes two steps (a follow must not reset them)."""
    for student in students:
        for _ in range(2):
            student.locator("#step").click()
        expect(student.locator("#step-count")).to_have_text("2", timeout=WAIT)


def test_a_followed_optimizer_is_set_live_on_each_students_own_run(hall):
    """/training: the training settings go to the student's run without a reset (the steps the
    student took stay); the run's description (its program) follows."""
    teacher, students = hall
    optimizer = menu_change(
        "training: optimizer",
        "/training?data=xor&opt=adam",
        [("#link-state", "textContent", "live", True), ("#step-count", "textContent", "0", True)],
        "#optimizer",
        "opt",
        ("adam", "sgd"),
        ("#program", "torch.optim.Adam(", "torch.optim.SGD("),
    )
    go_to_start(teacher, students, optimizer)
    two_steps_each(students)
    for there in (True, False):
        took = follow_once(teacher, students, optimizer, there)
        print(f"\n{optimizer.name}: action to drawn " + ", ".join(f"{drawn:.0f} ms" for drawn, _ in took))
        for student in students:
            assert optimizer.query(there) in student.url
            expect(student.locator("#step-count")).to_have_text("2")  # not reset: the same run goes on


def test_the_live_lenets_settings_are_followed_on_each_students_own_run(hall):
    """/lenet-live: the learning rate goes to each student's run live (the server's next frame
    trains at it; the student's steps stay), the training digits start a new run; play, pause
    and the weights stay the student's (docs/classroom.md)."""
    teacher, students = hall
    logs = [stream_log(student, LIVE_STREAM, keep=lambda m: m) for student in students]
    ready = [("#link-state", "textContent", "live", True), ("#kernels1 canvas", "tagName", "CANVAS", True)]
    lr = Change(
        "lenet-live: learning rate",
        "/lenet-live?digits=500&lr=0.002",
        ready,
        act=lambda page, there: (page.fill("#lr", "0.001" if there else "0.002"), page.press("#lr", "Tab")),
        shown=lambda there: [("#lr", "value", "0.001" if there else "0.002", True)],
        query=lambda there: "lr=0.001" if there else "lr=0.002",
    )
    go_to_start(teacher, students, lr)
    two_steps_each(students)
    for there in (True, False):
        took = follow_once(teacher, students, lr, there)
        print(f"\n{lr.name}: action to drawn " + ", ".join(f"{drawn:.0f} ms" for drawn, _ in took))
        rate = 0.001 if there else 0.002
        for student, log in zip(students, logs, strict=True):
            assert lr.query(there) in student.url
            expect(student.locator("#step-count")).to_have_text("2")  # not reset: the same run goes on
            train = {"optimizer": "adam", "lr": rate, "batch_size": 32, "schedule": "step"}
            assert {"type": "set", "train": train} in log["page"]
            frame = last_frame(student, log, lambda f, rate=rate: f["lr"] == rate)  # the server's answer to the set
            assert frame["step"] == 2, frame
    digits = Change(
        "lenet-live: training digits",
        lr.start,
        ready,
        act=lambda page, there: (page.fill("#digits", "600" if there else "500"), page.press("#digits", "Tab")),
        shown=lambda there: [
            ("#digits", "value", "600" if there else "500", True),
            ("#step-count", "textContent", "0", True),
        ],  # fmt: skip
        query=lambda there: "digits=600" if there else "digits=500",
    )
    follow_once(teacher, students, digits, True)
    for student, log in zip(students, logs, strict=True):
        assert "digits=600" in student.url and "lr=0.002" in student.url
        configures = [m for m in log["page"] if m["type"] == "configure"]
        assert configures[-1]["config"] == {"digits": 600, "optimizer": "adam", "lr": 0.002, "batch_size": 32,
                                             "schedule": "step"}  # fmt: skip
        expect(student.locator("#play")).to_have_attribute("aria-pressed", "false")  # Play is the student's
    screenshot(students[0], "class-follow-lenet-live", full_page=False)
    screenshot(students[1], "class-follow-lenet-live-phone", full_page=False)


def last_frame(page, log: dict, holds) -> dict:
    """The last frame the server sent on the logged stream, once one for which ``holds(frame)``."""
    for _ in range(WAIT // 100):
        frames = [m for m in log["server"] if m["type"] == "frame"]
        if frames and holds(frames[-1]):
            return frames[-1]
        page.wait_for_timeout(100)
    raise AssertionError(f"no such frame: the last is {frames[-1] if frames else None}")
