"""/lenet-live: a fresh LeNet-5 trained on the server, played in the browser until its validation
accuracy passes 95 %, then paused and tested on a drawing beside the shipped LeNet-5."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot

# 2,000 digits at the defaults (Adam, lr 0.002, batch 32) pass 95 % on the 1,000 validation digits
# after ~3 epochs (~200 steps); one epoch on 10,000 digits does too (docs/lenet-live.md).
DIGITS = 2000


def accuracy(page) -> float:
    text = page.locator("#accuracy-now").get_attribute("data-value") or ""
    return float(text) if text else 0.0


def test_play_until_95_percent_then_pause_and_test_a_drawing(page):
    page.goto(f"/lenet-live?digits={DIGITS}")
    expect(page.locator("#kernels1 canvas")).to_have_count(6)
    expect(page.locator("#draw-box")).to_be_visible()  # paused: the pad is offered
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#draw-box")).to_be_hidden()
    best = 0.0
    for _ in range(1200):  # polls of 100 ms: at most 2 minutes, on a busy machine
        best = accuracy(page)
        if best >= 0.95:
            break
        page.wait_for_timeout(100)
    assert best >= 0.95, f"validation accuracy {best:.3f} after {page.text_content('#step-count')} steps"
    page.click("#play")  # pause
    expect(page.locator("#draw-box")).to_be_visible()
    steps = page.text_content("#step-count")
    pad = page.locator("#pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 40, steps=10)
    page.mouse.up()
    expect(page.locator("#shipped-prediction")).to_have_text(re.compile(r"^1 "))
    expect(page.locator("#live-prediction")).to_have_text(re.compile(r"^\d \("))
    expect(page.locator("#test-step")).to_have_text(steps)  # paused: the network tested is the one shown
    expect(page.locator("#curves .main-svg").first).to_be_visible()
    expect(page.locator("#layers canvas").first).to_be_visible()
    screenshot(page, "lenet-live-trained")


def test_a_bad_learning_rate_in_the_link_is_refused_and_the_run_goes_on(page):
    page.goto("/lenet-live?lr=-3")
    expect(page.locator("#state-problems")).to_contain_text("lr")
    expect(page.locator("#lr")).to_have_value("0.002")
    page.click("#step")
    expect(page.locator("#step-count")).to_have_text("1")
