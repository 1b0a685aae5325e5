"""Classroom mode's pages (issue 12's done-when), with real browsers on two deepviz instances
sharing one real Redis: the instructor's dashboard and driving tab on instance A, two students
on instance B. The instructor steps /backprop and both students' pages follow (the step read
off their pages); a poll is answered by both through their class bars and the dashboard's
histogram counts both; a student explores alone, rejoins and jumps back to the instructor's
state; the class ends on every page."""

from __future__ import annotations

import contextlib
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.classes import WAIT, crowd, drive, join, open_class
from tests.browser.conftest import screenshot
from tests.browser.test_phone import PHONE
from tests.classroom.conftest import RedisServer
from tests.classroom.test_instances import Instance

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    redis_server = RedisServer()
    redis_server.start()
    workdir = tmp_path_factory.mktemp("class-pages")
    made = [Instance(name, redis_server.url, workdir) for name in ("a", "b")]
    with contextlib.ExitStack() as stack:
        stack.callback(redis_server.stop)
        for instance in made:
            instance.start(wait=False)
            stack.callback(instance.stop)
        for instance in made:
            instance.wait()
        yield made


@pytest.fixture
def people(browser, instances):
    """`people(url, tolerated=(), **context_options)`: a person (a context, with its own
    sessionStorage); the errors their pages report fail the test."""
    with crowd(browser) as person:
        yield person


def step_of(page) -> str:
    return page.locator("#step-counter").inner_text()


def test_an_instructor_drives_backprop_on_one_instance_and_two_students_on_another_follow_answer_and_rejoin(
    instances, people
):
    a, b = instances
    dashboard = people(a.url)
    code = open_class(dashboard)
    expect(dashboard.locator("#class-qr")).to_have_js_property("complete", True, timeout=WAIT)  # loading: a busy server
    assert dashboard.locator("#class-qr").evaluate("img => img.naturalWidth > 0")
    assert "token" not in dashboard.url and "i." not in dashboard.url  # the token is in sessionStorage only

    teacher = drive(dashboard, "Backpropagation")  # "drive a page" opens a tab that drives
    expect(teacher.locator("#class-bar")).to_contain_text(f"Class {code}", timeout=WAIT)
    expect(teacher.locator("#step-counter")).to_contain_text("step 0", timeout=WAIT)
    assert "#" not in teacher.url  # the fragment that carried the token is gone from the address bar

    students = []
    for name, options in (("Ada", {}), ("Grace", PHONE)):
        student = people(b.url, **options)
        join(student, code, name)
        expect(student).to_have_url(re.compile(r"/backprop"))  # to the instructor's page at once
        students.append(student)
    expect(dashboard.locator("#class-students")).to_have_text("2", timeout=WAIT)
    expect(dashboard.locator("#class-connected")).to_have_text("2", timeout=WAIT)
    expect(dashboard.locator("#class-names")).to_contain_text("Grace", timeout=WAIT)

    for student in students:  # a mark that a reload would wipe: a step is shown in place
        student.evaluate("window.notReloaded = true")
    for _ in range(3):  # the instructor steps; both students' pages show the same step
        started = time.monotonic()
        teacher.locator("#forward").click()
        shown = step_of(teacher)
        for student in students:
            expect(student.locator("#step-counter")).to_have_text(shown, timeout=WAIT)
        print(f"\nfollowed '{shown}' in {1000 * (time.monotonic() - started):.0f} ms (click to both pages drawn)")
    assert "step=3" in students[0].url and "step=3" in students[1].url
    assert all(student.evaluate("window.notReloaded") for student in students)
    expect(dashboard.locator("#class-state")).to_contain_text("step=3", timeout=WAIT)

    # a poll: asked on the dashboard, answered through both students' bars, counted live
    dashboard.locator("#poll-question").fill("Which input gets the largest gradient?")
    dashboard.locator("#poll-kind").select_option("choice")
    dashboard.locator("#poll-options").fill("x\ny\nz")
    dashboard.locator("#poll-form").get_by_role("button", name="Ask").click()  # not a ready-made question's
    for student, choice in zip(students, ("z", "x"), strict=True):
        expect(student.locator("#class-bar")).to_contain_text("Which input gets the largest gradient?", timeout=WAIT)
        student.locator("#class-bar").get_by_role("button", name=choice, exact=True).click()
        expect(student.locator("#class-bar")).to_contain_text(f"Your answer: {choice}", timeout=WAIT)
    students[1].locator("#class-bar").get_by_role("button", name="z", exact=True).click()  # a change of mind
    expect(students[1].locator("#class-bar")).to_contain_text("Your answer: z", timeout=WAIT)
    expect(dashboard.locator("#poll-total")).to_have_text("2", timeout=WAIT)
    rows = dashboard.locator("#poll-histogram .bar-row")
    expect(rows).to_have_text(["x0", "y0", "z2"], timeout=WAIT)
    screenshot(dashboard, "class-dashboard")
    dashboard.locator("#reveal-answer").select_option("z")
    dashboard.get_by_role("button", name="Reveal").click()
    for student in students:
        expect(student.locator("#class-bar")).to_contain_text("The answer: z", timeout=WAIT)
    screenshot(students[0], "class-student")
    screenshot(students[1], "class-student-phone", full_page=False)

    # Ada explores alone: the instructor's steps no longer move her page; she rejoins
    ada, grace = students
    ada.get_by_role("button", name="Explore alone").click()
    expect(ada.locator("#class-bar")).to_contain_text("Exploring alone", timeout=WAIT)
    ada.locator("nav.toc").get_by_role("link", name="Optimizers").first.click()
    ada.wait_for_url(re.compile(r"/optimizers"))
    teacher.locator("#forward").click()
    shown = step_of(teacher)
    expect(grace.locator("#step-counter")).to_have_text(shown, timeout=WAIT)
    assert "/optimizers" in ada.url
    ada.get_by_role("button", name="Rejoin the instructor").click()
    ada.wait_for_url(re.compile(r"/backprop\?.*step=4"))
    expect(ada.locator("#step-counter")).to_have_text(shown, timeout=WAIT)
    expect(ada.locator("#class-bar")).to_contain_text("Following the instructor", timeout=WAIT)

    # the instructor ends the class: every page says so
    dashboard.on("dialog", lambda dialog: dialog.accept())
    dashboard.get_by_role("button", name="End the class").click()
    expect(dashboard.locator("#class-create")).to_be_visible(timeout=WAIT)
    for student in students:
        expect(student.locator("#class-bar")).to_contain_text("The class has ended", timeout=WAIT)


def test_students_whose_instance_restarts_reconnect_and_catch_up_with_the_instructor(instances, people):
    """The students' instance dies mid-class; the instructor keeps stepping on the other; once
    it is back, the students' pages reconnect by themselves (backoff with jitter) and show the
    instructor's current step (the snapshot a connection starts with)."""
    a, b = instances
    dashboard = people(a.url)
    code = open_class(dashboard)
    teacher = drive(dashboard, "Backpropagation")
    expect(teacher.locator("#step-counter")).to_contain_text("step 0", timeout=WAIT)
    student = people(b.url, tolerated=("WebSocket connection to",))  # refused while its instance is down
    join(student, code)
    expect(student).to_have_url(re.compile(r"/backprop"))
    expect(student.locator("#step-counter")).to_contain_text("step 0", timeout=WAIT)

    b.stop()
    try:
        expect(student.locator("#class-bar")).to_contain_text("reconnecting", timeout=WAIT)
        for _ in range(2):
            teacher.locator("#forward").click()
        expect(teacher.locator("#step-counter")).to_contain_text("step 2", timeout=WAIT)
        assert "step 0" in step_of(student)  # nothing reaches it while its instance is down
    finally:
        b.start()
    expect(student.locator("#step-counter")).to_have_text(step_of(teacher), timeout=60_000)
    expect(student.locator("#class-bar")).to_contain_text("Following the instructor", timeout=WAIT)
