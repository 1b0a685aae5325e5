"""Predict, then reveal (issue 12) in real browsers on one deepviz (its classes in process):
the dashboard lists the ready-made questions of the page the class is on, the instructor asks
/backprop's "downstream gradient" question with one click, a student answers it in the class
bar, and the reveal moves the student's page to the backward step that shows the answer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from deepviz.app.questions import pooling
from tests.browser.classes import WAIT, crowd, drive, join, open_class
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def people(browser, server_url):
    """`people()`: a new person's page (a context of its own); the errors their pages report fail the test."""
    with crowd(browser) as person:
        yield lambda: person(server_url)


def test_a_ready_made_backprop_question_is_asked_answered_and_its_reveal_moves_the_class(people):
    dashboard = people()
    code = open_class(dashboard)
    teacher = drive(dashboard, "Backpropagation")
    expect(teacher.locator("#step-counter")).to_contain_text("step 0", timeout=WAIT)

    student = people()
    join(student, code)
    expect(student).to_have_url(re.compile(r"/backprop"))
    expect(student.locator("#step-counter")).to_contain_text("step 0", timeout=WAIT)

    # the dashboard lists the page's questions (the default expression: f = (x + y) * z)
    asked = "Backward pass at q = x + y: what downstream gradient ∂f/∂x flows to x?"
    item = dashboard.locator("#ready-list li", has_text=asked)
    expect(item).to_have_count(1, timeout=WAIT)
    screenshot(dashboard, "class-questions")
    item.get_by_role("button", name="Ask").click()

    bar = student.locator("#class-bar")
    expect(bar).to_contain_text(asked, timeout=WAIT)
    bar.get_by_label("Your answer").fill("-4")
    bar.get_by_role("button", name="Answer").click()
    expect(bar).to_contain_text("Your answer: -4", timeout=WAIT)
    expect(dashboard.locator("#poll-total")).to_have_text("1", timeout=WAIT)
    expect(dashboard.locator("#reveal-answer")).to_have_value("-4")  # the server's answer, filled in

    dashboard.get_by_role("button", name="Reveal").click()
    expect(bar).to_contain_text("The answer: -4", timeout=WAIT)
    # the reveal moved the class to the step where q = x + y sends ∂f/∂x = -4 to x
    expect(student.locator("#step-counter")).to_contain_text("backward pass", timeout=WAIT)
    expect(student.locator("#detail")).to_contain_text("At q", timeout=WAIT)
    expect(student.locator("#detail .downstream").first).to_contain_text("-4", timeout=WAIT)
    screenshot(student, "class-questions-revealed")


def test_a_pooling_question_is_asked_on_the_pages_own_numbers_and_its_reveal_marks_the_window(people):
    """The grid the question reads (questions/pooling.py's copy of the page's numbers) is the one
    the students see; the reveal marks the output and its window on their pages."""
    dashboard = people()
    code = open_class(dashboard)
    teacher = drive(dashboard, "Pooling")
    expect(teacher.locator("#pool-output td")).to_have_count(9, timeout=WAIT)
    student = people()
    join(student, code)
    expect(student).to_have_url(re.compile(r"/pooling"))
    expect(student.locator("#pool-input td")).to_have_count(36, timeout=WAIT)
    shown = [float(t) for t in student.locator("#pool-input td").all_inner_texts()]
    assert shown == pooling.numbers(1).ravel().tolist()  # the default seed: what the question computes on

    asked = "Max pooling, window 2×2, stride 2, of the numbers on the page: what is output row 1, column 1"
    item = dashboard.locator("#ready-list li", has_text=asked)
    expect(item).to_have_count(1, timeout=WAIT)
    expect(dashboard.locator("#ready-list li", has_text="receives its gradient")).to_have_count(1)
    item.get_by_role("button", name="Ask").click()
    bar = student.locator("#class-bar")
    expect(bar).to_contain_text(asked, timeout=WAIT)
    bar.get_by_label("Your answer").fill("8")
    bar.get_by_role("button", name="Answer").click()
    expect(dashboard.locator("#poll-total")).to_have_text("1", timeout=WAIT)
    expect(dashboard.locator("#reveal-answer")).to_have_value("8")
    assert student.locator("#pool-output td.window").count() == 0
    dashboard.get_by_role("button", name="Reveal").click()
    expect(bar).to_contain_text("The answer: 8", timeout=WAIT)
    marked = student.locator("#pool-output td.window")
    expect(marked).to_have_count(1, timeout=WAIT)
    assert (marked.get_attribute("data-row"), marked.get_attribute("data-col"), marked.inner_text()) == ("1", "1", "8")
    expect(student.locator("#pool-input td.window")).to_have_count(4)  # rows 2–3, columns 2–3
    assert "cell=1.1" in student.url
    screenshot(student, "class-questions-pooling-revealed")
