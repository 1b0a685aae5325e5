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
    crowd,
    drive,
    follow_once,
    go_to_start,
    join,
    menu_change,
    open_class,
)
from tests.browser.conftest import screenshot
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
    for student in students:  # each student's own run: two steps
        for _ in range(2):
            student.locator("#step").click()
        expect(student.locator("#step-count")).to_have_text("2", timeout=WAIT)
    for there in (True, False):
        took = follow_once(teacher, students, optimizer, there)
        print(f"\n{optimizer.name}: action to drawn " + ", ".join(f"{drawn:.0f} ms" for drawn, _ in took))
        for student in students:
            assert optimizer.query(there) in student.url
            expect(student.locator("#step-count")).to_have_text("2")  # not reset: the same run goes on
