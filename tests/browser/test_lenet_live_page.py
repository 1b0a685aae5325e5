"""/lenet-live: a fresh LeNet-5 trained on the server, played in the browser for one epoch on
10,000 digits at the page's defaults (issue 14's done-when: ≥ 95 % validation accuracy within
one epoch), then paused and tested on a drawing beside the shipped LeNet-5."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.network import LIVE_STREAM, stream_log

DIGITS = 10_000
EPOCH = -(-DIGITS // 32)  # 313 steps of the default batch: the validation accuracy is measured at the epoch's end


def measured(log: dict) -> dict[int, float]:
    """The validation accuracies the server sent so far, by step."""
    return {step: accuracy for frame in log["server"] for step, accuracy in frame}


def test_one_epoch_on_10000_digits_passes_95_percent_then_pause_and_test_a_drawing(page):
    log = stream_log(page, LIVE_STREAM, keep=lambda m: m.get("accuracies", []))
    page.goto(f"/lenet-live?digits={DIGITS}")
    expect(page.locator("#kernels1 canvas")).to_have_count(6, timeout=30_000)  # the server's first run reads MNIST
    expect(page.locator("#draw-box")).to_be_visible()  # paused: the pad is offered
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#draw-box")).to_be_hidden()
    for _ in range(3000):  # polls of 100 ms: at most 5 minutes, on a busy machine
        if EPOCH in measured(log):
            break
        page.wait_for_timeout(100)
    accuracy = measured(log).get(EPOCH, 0.0)
    print(f"\nvalidation accuracy after one epoch ({EPOCH} steps) on {DIGITS:,} digits: {accuracy:.3f}")
    assert accuracy >= 0.95, f"validation accuracy {accuracy:.3f} after one epoch"
    page.click("#play")  # pause
    expect(page.locator("#draw-box")).to_be_visible()
    pad = page.locator("#pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 40, steps=10)
    page.mouse.up()
    expect(page.locator("#shipped-prediction")).to_have_text(re.compile(r"^1 "))
    expect(page.locator("#live-prediction")).to_have_text(re.compile(r"^\d \("))
    # paused: once the frames that were on their way are drawn, the network tested is the one
    # shown (both read in the same poll: the step shown may still move when the test answers)
    page.wait_for_function(
        "() => document.querySelector('#test-step').textContent !== ''"
        " && document.querySelector('#test-step').textContent === document.querySelector('#step-count').textContent"
    )
    expect(page.locator("#curves .main-svg").first).to_be_visible()
    expect(page.locator("#layers canvas").first).to_be_visible()
    screenshot(page, "lenet-live-trained")


def test_a_bad_learning_rate_in_the_link_is_refused_and_the_run_goes_on(page):
    page.goto("/lenet-live?lr=-3")
    expect(page.locator("#state-problems")).to_contain_text("lr")
    expect(page.locator("#lr")).to_have_value("0.005")
    page.click("#step")
    expect(page.locator("#step-count")).to_have_text("1")
