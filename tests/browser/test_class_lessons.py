"""Lesson links and the class's pace (issue 12), with real browsers: the instructor on one
deepviz instance, two students on another, sharing one real Redis (test_classroom.py's
harness). A lesson link hides controls (for the instructor and the students following), its
guided steps, stepped by the instructor, move the students' pages; released, a student
explores and their page does not follow; locked, every page comes back to the instructor's
state and "Explore alone" is disabled, saying why. Alone, outside a class, anyone steps
through a lesson link, and a name the page does not know is refused as every URL value is."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.classes import drive, join, open_class
from tests.browser.conftest import screenshot
from tests.browser.test_classroom import WAIT, instances, people, step_of  # noqa: F401 - fixtures
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.browser


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_a_lesson_link_hides_its_controls_and_refuses_a_name_the_page_does_not_have(page):
    page.goto("/backprop?hide=expression,colour,check")
    notice = page.locator("#state-problems")
    expect(notice).to_contain_text("hide=expression,colour,check: this page has no control called “colour”")
    expect(notice).to_contain_text("(it has preset, rnn, expression, values, build, player, check, descent, losses)")
    expect(notice).to_contain_text("showing hide=expression,check instead")
    expect(page.locator("#step-counter")).to_contain_text("step 0 of")
    expect(page.locator("#expression")).to_be_hidden()
    expect(page.locator("#expression-help")).to_be_hidden()
    expect(page.locator("#check")).to_be_hidden()
    expect(page.locator("#preset")).to_be_visible()
    expect(page.locator("#values")).to_be_visible()
    page.locator("#forward").click()  # the page's own state is written with the lesson's
    expect(page).to_have_url(re.compile(r"step=1"))
    assert query(page)["hide"] == "expression,check"


def test_alone_anyone_steps_through_a_lesson_link(page):
    page.goto("/backprop?preset=notes&steps=step=2|step=7%26phase=|step=9&at=1&step=2")
    bar = page.locator("#lesson-bar")
    expect(bar).to_contain_text("Step 1 of 3")
    expect(page.locator("#step-counter")).to_contain_text("step 2 of")
    bar.get_by_role("button", name="Next ▶").click()
    expect(bar).to_contain_text("Step 2 of 3")
    expect(page.locator("#step-counter")).to_contain_text("step 7 of")
    bar.get_by_role("button", name="Next ▶").click()
    expect(page.locator("#step-counter")).to_contain_text("step 9 of")
    expect(bar.get_by_role("button", name="Next ▶")).to_be_disabled()
    bar.get_by_role("button", name="◀ Previous").click()
    expect(bar).to_contain_text("Step 2 of 3")
    expect(page.locator("#step-counter")).to_contain_text("step 7 of")
    assert query(page)["at"] == "2" and query(page)["steps"] == "step=2|step=7&phase=|step=9"
    page.goto("/pooling?steps=" + "|".join(["k=2"] * 21))
    expect(page.locator("#state-problems")).to_contain_text("21 steps; a lesson link has at most 20")
    expect(page.locator("#lesson-bar")).to_be_hidden()


def test_an_instructor_hides_steps_releases_and_locks_and_the_students_follow(instances, people):  # noqa: F811
    a, b = instances
    dashboard = people(a.url)
    code = open_class(dashboard)
    pace = dashboard.locator("#class-pace")
    expect(pace.get_by_role("button", name="Pace")).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    teacher = drive(dashboard, "Backpropagation")
    bar = teacher.locator("#class-bar")
    expect(bar).to_contain_text(f"Class {code}", timeout=WAIT)
    expect(teacher.locator("#step-counter")).to_contain_text("step 0", timeout=WAIT)

    students = []
    for name, options in (("Ada", {}), ("Grace", PHONE)):
        student = people(b.url, **options)
        join(student, code, name)
        expect(student).to_have_url(re.compile(r"/backprop"))
        students.append(student)
    ada, grace = students

    # the lesson link panel: the ticked controls hide on the instructor's page and the students'
    bar.get_by_text("Lesson link").click()
    bar.get_by_label("expression").check()
    bar.get_by_label("check").check()
    expect(teacher.locator("#expression")).to_be_hidden()
    for page in (teacher, *students):
        expect(page.locator("#expression")).to_be_hidden(timeout=WAIT)
        expect(page.locator("#check")).to_be_hidden(timeout=WAIT)
        expect(page.locator("#values")).to_be_visible(timeout=WAIT)

    # three steps recorded from the page, then stepped: the students' pages move with each
    for clicks, step in ((2, 2), (3, 5), (2, 7)):
        for _ in range(clicks):
            teacher.locator("#forward").click()
        expect(teacher.locator("#step-counter")).to_contain_text(f"step {step} of")
        bar.get_by_role("button", name="Add this state as a step").click()
    expect(bar.locator(".lesson-where")).to_have_text("Step 3 of 3")
    link = bar.get_by_label("The lesson link").input_value()
    assert "hide=expression%2Ccheck" in link and "at=1" in link and "steps=" in link
    for page in students:  # a new sequence reloads the followers' pages, once
        expect(page).to_have_url(re.compile(r"at=3"), timeout=WAIT)
        expect(page.locator("#step-counter")).to_contain_text("step 7 of", timeout=WAIT)
        page.evaluate("window.notReloaded = true")
    for k, step in ((2, 5), (1, 2)):
        started = time.monotonic()
        bar.get_by_role("button", name="◀ Previous").click()
        expect(bar.locator(".lesson-where")).to_have_text(f"Step {k} of 3")
        for page in (teacher, *students):
            expect(page.locator("#step-counter")).to_contain_text(f"step {step} of", timeout=WAIT)
        print(f"\nlesson step {k} on both students' pages {1000 * (time.monotonic() - started):.0f} ms after a click")
        for page in (teacher, *students):
            expect(page.locator("#expression")).to_be_hidden()
    assert all(page.evaluate("window.notReloaded") for page in students)  # the steps shown in place
    screenshot(teacher, "lesson-driving-bar", full_page=False)

    # released: the students' bars say so, their pages stop following; Ada explores elsewhere
    pace.get_by_role("button", name="Release").click()
    for page in students:
        expect(page.locator("#class-bar")).to_contain_text("Explore freely", timeout=WAIT)
        expect(page.locator("#class-bar").get_by_role("button", name="Explore alone")).to_be_hidden()
    expect(bar.get_by_role("button", name="Release")).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    screenshot(dashboard, "lesson-dashboard-released")
    screenshot(ada, "lesson-student-released", full_page=False)
    ada.locator("nav.toc").get_by_role("link", name="Optimizers").first.click()
    ada.wait_for_url(re.compile(r"/optimizers"))
    expect(ada.locator("#class-bar")).to_contain_text("Explore freely", timeout=WAIT)
    bar.get_by_role("button", name="Next ▶").click()  # step 2: the released pages stay where they are
    expect(teacher.locator("#step-counter")).to_contain_text("step 5 of")
    expect(dashboard.locator("#class-state")).to_contain_text("step=5", timeout=WAIT)
    expect(grace.locator("#step-counter")).to_contain_text("step 2 of")
    assert "/optimizers" in ada.url

    # locked from the driving bar: every page comes back to the instructor's, nobody may leave
    bar.get_by_role("button", name="Lock").click()
    ada.wait_for_url(re.compile(r"/backprop\?.*step=5"), timeout=WAIT)
    for page in students:
        expect(page.locator("#step-counter")).to_contain_text("step 5 of", timeout=WAIT)
        expect(page.locator("#expression")).to_be_hidden()
        student_bar = page.locator("#class-bar")
        expect(student_bar).to_contain_text("Following the instructor", timeout=WAIT)
        expect(student_bar.get_by_role("button", name="Explore alone")).to_be_disabled()
        expect(student_bar).to_contain_text("locked by the instructor")
    expect(pace.get_by_role("button", name="Lock")).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    screenshot(dashboard, "lesson-dashboard-locked")
    screenshot(ada, "lesson-student-locked", full_page=False)
    screenshot(grace, "lesson-student-locked-phone", full_page=False)
    bar.get_by_role("button", name="Next ▶").click()
    for page in students:
        expect(page.locator("#step-counter")).to_contain_text("step 7 of", timeout=WAIT)

    # paced again: following, and each student may explore alone once more
    pace.get_by_role("button", name="Pace").click()
    for page in students:
        expect(page.locator("#class-bar").get_by_role("button", name="Explore alone")).to_be_enabled(timeout=WAIT)
        expect(page.locator("#class-bar")).not_to_contain_text("locked")
    screenshot(dashboard, "lesson-dashboard-paced")
    screenshot(grace, "lesson-student-paced-phone", full_page=False)
