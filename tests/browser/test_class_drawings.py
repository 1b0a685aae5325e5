"""The hall's drawings (issue 12) in real browsers on one deepviz: the instructor drives /lenet
and asks "Draw a 7", two students draw on their /lenet pads and send; the dashboard's gallery
shows both drawings with LeNet-5's readings, the accuracy and the confusion matrix; the
instructor projects one and the students' pages show it in place, as they show what the
instructor draws on the driving tab."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.classes import WAIT, crowd, drive, join, open_class
from tests.browser.conftest import screenshot
from tests.browser.test_lenet_page import draw_a_one

pytestmark = pytest.mark.browser


@pytest.fixture
def people(browser, server_url):
    """`people()`: a new person's page (a context of its own); the errors their pages report fail the test."""
    with crowd(browser) as person:
        yield lambda: person(server_url)


def draw_a_seven(page):
    """A bar across the top, then a stroke down to the bottom left, with the mouse."""
    box = page.locator("#pad").bounding_box()
    at = lambda fx, fy: (box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)  # noqa: E731
    page.mouse.move(*at(0.25, 0.2))
    page.mouse.down()
    page.mouse.move(*at(0.75, 0.2), steps=15)
    page.mouse.move(*at(0.42, 0.85), steps=20)
    page.mouse.up()


def ink_of(page) -> str:
    return parse_qs(urlsplit(page.url).query).get("ink", [""])[0]


def test_the_hall_draws_a_seven_the_dashboard_shows_the_gallery_and_projects_one(people):
    dashboard = people()
    code = open_class(dashboard)
    teacher = drive(dashboard, "LeNet-5")
    expect(teacher.locator("#link-state")).to_have_text("live", timeout=WAIT)

    students = []
    for name in ("Ada", "<b>Bob</b>"):
        student = people()
        join(student, code, name)
        expect(student).to_have_url(re.compile(r"/lenet"))
        expect(student.locator("#link-state")).to_have_text("live", timeout=WAIT)
        students.append(student)
    ada, bob = students

    dashboard.locator("#draw-digit").select_option("7")
    dashboard.get_by_role("button", name="Ask for drawings").click()
    readings = {}
    for student, draw in ((ada, draw_a_seven), (bob, draw_a_one)):
        bar = student.locator("#class-bar")
        expect(bar).to_contain_text("Draw a 7", timeout=WAIT)
        draw(student)
        expect(student.locator("#prediction")).not_to_have_text("–", timeout=WAIT)
        student.wait_for_url(re.compile(r"ink="), timeout=WAIT)  # the drawing as the network saw it, in the URL
        bar.get_by_role("button", name="Send my drawing").click()
        expect(bar).to_contain_text("Sent: LeNet-5 reads it as a", timeout=WAIT)
        readings[student] = int(re.search(r"reads it as a (\d)", bar.inner_text()).group(1))
        assert readings[student] == int(student.locator("#prediction").inner_text())  # the page's own reading
    assert readings[ada] == 7 and readings[bob] == 1

    gallery = dashboard.locator("#drawings-gallery")
    expect(gallery.locator("figure")).to_have_count(2, timeout=WAIT)
    seven = gallery.locator("figure", has_text="Ada")
    expect(seven).to_contain_text("read as 7 ✓")
    expect(seven).not_to_have_class(re.compile("wrong"))
    one = gallery.locator("figure", has_text="<b>Bob</b>")  # the name as text, never HTML
    expect(one).to_contain_text("read as 1 ✗")
    expect(one).to_have_class(re.compile("wrong"))
    expect(dashboard.locator("#drawings-accuracy")).to_have_text("50%")
    expect(dashboard.locator("#drawings-summary")).to_contain_text("2 drawings · 1 read as 7")
    confusion = dashboard.locator("#confusion")
    expect(confusion.get_by_label("asked 7, read 7: 1")).to_have_text("1")
    expect(confusion.get_by_label("asked 7, read 1: 1")).to_have_text("1")
    expect(dashboard.locator("#confusion-summary")).to_contain_text("1 of 2 drawings read as the digit asked: 50%")
    screenshot(dashboard, "class-drawings-dashboard")

    # the instructor projects Bob's drawing: the driving tab and both students' /lenet show it
    for student in students:
        student.evaluate("window.notReloaded = true")
    inked = "document.getElementById('pad').getContext('2d').getImageData(84, 56, 1, 1).data[3]"
    assert ada.evaluate(inked) > 0  # on Ada's seven's top bar
    bobs = ink_of(bob)
    one.get_by_role("button", name="Project").click()
    teacher.wait_for_url(re.compile(r"/lenet\?ink="), timeout=WAIT)
    assert ink_of(teacher) == bobs
    expect(teacher.locator("#prediction")).to_have_text("1", timeout=WAIT)
    expect(ada.locator("#prediction")).to_have_text("1", timeout=WAIT)
    ada.wait_for_url(lambda url: bobs in url, timeout=WAIT)
    assert all(student.evaluate("window.notReloaded") for student in students)  # shown in place
    one.get_by_role("button", name="Project").click()  # again: the driving tab shows it already
    expect(dashboard.locator("#drawings-status")).to_contain_text("Projected: <b>Bob</b>'s drawing", timeout=WAIT)
    assert "token" not in teacher.url and ink_of(teacher) == bobs  # the token never stays in its address bar
    assert ada.evaluate(inked) == 0  # her strokes gave way to Bob's 1, drawn on her pad as its 28×28
    screenshot(ada, "class-drawings-projected")

    # the instructor draws on the driving tab: the students' pages show that drawing
    teacher.click("#clear")
    expect(ada.locator("#prediction")).to_have_text("–", timeout=WAIT)
    draw_a_seven(teacher)
    expect(teacher.locator("#prediction")).to_have_text("7", timeout=WAIT)
    teacher.wait_for_url(lambda url: "ink=" in url and ink_of(teacher) != bobs, timeout=WAIT)
    for student in students:
        expect(student.locator("#prediction")).to_have_text("7", timeout=WAIT)
        student.wait_for_url(lambda url: ink_of(teacher) in url, timeout=WAIT)
    assert all(student.evaluate("window.notReloaded") for student in students)
