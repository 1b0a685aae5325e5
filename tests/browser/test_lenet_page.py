"""A student on /lenet: draws a digit with the mouse and reads the prediction, the
probabilities and the activation maps off the page; clicks a unit; loads a mistake."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def draw_a_one(page):
    box = page.locator("#pad").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 31):
        page.mouse.move(x + i * 0.6, y + i * box["height"] * 0.7 / 30)
    page.mouse.up()


def test_draw_a_digit_and_read_it(page):
    page.goto("/lenet")
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#accuracy")).to_contain_text("99.")
    draw_a_one(page)
    expect(page.locator("#prediction")).to_have_text("1")
    best = page.locator("#probabilities li.best")
    expect(best).to_have_attribute("data-digit", "1")
    assert float(best.locator(".pct").text_content().rstrip("%")) > 50
    # every layer drawn: 6 + 6 + 16 + 16 maps, and the three fully connected layers
    expect(page.locator(".layer[data-layer=conv1] canvas")).to_have_count(6)
    expect(page.locator(".layer[data-layer=conv2] canvas")).to_have_count(16)
    expect(page.locator(".layer[data-layer=pool2] canvas")).to_have_count(16)
    expect(page.locator(".layer[data-layer=fc3] canvas")).to_have_count(1)
    # a unit's receptive field: conv2 (0, 0) reads pool1 rows 0–4, conv1 rows 0–9, input rows -2–11 (clipped)
    page.locator(".layer[data-layer=conv2] canvas").first.click(position={"x": 5, "y": 5})
    expect(page.locator("#unit-field")).to_contain_text("conv2, map 1, unit (0, 0) sees input rows 0–11")
    screenshot(page, "lenet-drawn-one")
    page.click("#clear")
    expect(page.locator("#prediction")).to_have_text("–")


def test_a_mistake_from_the_gallery_loads(page):
    page.goto("/lenet")
    first = page.locator("#mistakes button.mistake").first
    expect(first).to_be_visible()
    label, predicted = first.locator("span").text_content().split(" → ")
    first.click()
    expect(page.locator("#prediction")).to_have_text(predicted)
    assert "mistake=" in page.url
    page.select_option("#target", label)
    expect(page.locator("#prediction")).to_have_text(predicted)  # explaining another class changes no prediction


def test_a_drawing_too_small_to_be_a_digit_gets_a_word(page):
    page.goto("/lenet")
    expect(page.locator("#link-state")).to_have_text("live")
    box = page.locator("#pad").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 4, y + 4, steps=3)  # a dot: scaled up to 20×20, it is read as something anyway
    page.mouse.up()
    note = page.locator("#note")
    expect(note).to_be_visible()  # the server's note once went unshown
    expect(note).to_contain_text("This drawing is very small")
    expect(note).to_contain_text("draw bigger")
    page.click("#clear")
    expect(note).to_be_hidden()
    draw_a_one(page)
    expect(page.locator("#prediction")).to_have_text("1")
    expect(note).to_be_hidden()


INKED = """Array.from(document.getElementById("pad").getContext("2d").getImageData(0, 0, 280, 280).data)
    .filter((v, i) => i % 4 === 3 && v > 0).length"""  # pixels inked on the pad


def test_the_drawing_goes_into_the_url_and_its_link_shows_it(page):
    page.goto("/lenet")
    expect(page.locator("#link-state")).to_have_text("live")
    draw_a_one(page)
    expect(page.locator("#prediction")).to_have_text("1")
    page.wait_for_url(re.compile(r"[?&]ink=[A-Za-z0-9_-]{1046}(&|$)"))  # the 28×28 the network saw
    link = page.url
    page.goto("/lenet")
    expect(page.locator("#link-state")).to_have_text("live")
    assert page.evaluate(INKED) == 0
    page.goto(link)
    expect(page.locator("#prediction")).to_have_text("1")
    assert page.evaluate(INKED) > 0  # drawn on the pad, as its 784 squares
    expect(page.locator("#state-problems")).to_be_hidden()
    assert page.url == link  # read again, the drawing gives back the same ink
    page.click("#clear")
    expect(page.locator("#prediction")).to_have_text("–")
    page.wait_for_url(lambda url: "ink=" not in url)
    page.goto("/lenet?ink=abc")
    expect(page.locator("#state-problems")).to_contain_text("ink=abc: expected a 28×28 drawing")
    expect(page.locator("#prediction")).to_have_text("–")


def test_the_kernel_rows_line_up(page):
    page.goto("/lenet")
    rows = page.locator("#kernels2 .kernel-row")
    expect(rows).to_have_count(16)
    # the labels 1–9 are narrower than 10–16: the kernels after them once started further left
    lefts = {round(rows.nth(i).locator("canvas").first.bounding_box()["x"]) for i in (0, 8, 9, 15)}
    assert len(lefts) == 1, f"the rows' first kernels start at x = {sorted(lefts)}"
