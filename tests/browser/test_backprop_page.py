"""A student on /backprop: types the notes' example, steps through both passes, and reads
the gradients off the page."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_the_notes_example_step_by_step(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "(x + y) * z")
    page.fill("#values", "x = -2, y = 5, z = -4")
    page.click("#run")
    narration = page.locator("#narration")
    expect(narration).to_contain_text("forward pass")
    # forward: x, y, q = x + y = 3, z, f = q * z = -12
    for _ in range(5):
        page.click("#forward")
    expect(narration).to_contain_text("f = q * z = -12")
    # backward, by keyboard
    page.locator("#graph").focus()
    page.keyboard.press("ArrowRight")
    expect(narration).to_contain_text("upstream ∂f/∂f = 1")
    page.keyboard.press("ArrowRight")  # as in the notes, z's gradient comes first: ∂f/∂z = q
    expect(narration).to_have_text("∂f/∂z = 3: z is an input, and its gradient is complete.")
    page.keyboard.press("ArrowRight")
    expect(narration).to_contain_text("q = x + y = 3; upstream ∂f/∂q = -4")
    expect(narration).to_contain_text("to x: local ∂q/∂x = 1; downstream 1 × -4 = -4")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(narration).to_have_text("∂f/∂x = -4: x is an input, and its gradient is complete.")
    expect(page.locator("#check-table tr[data-name=x] td.autodiff")).to_have_text("-4")
    expect(page.locator("#check-table tr[data-name=z] td.autodiff")).to_have_text("3")
    assert "step=" in page.url and "expr=" in page.url
    screenshot(page, "backprop-notes-example")


def test_a_link_reproduces_the_state(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "x * y + x")
    page.fill("#values", "x = 3, y = -4")
    page.click("#run")
    page.click("#to-end")
    expect(page.locator("#step-counter")).to_contain_text("backward pass")
    url = page.url
    page.goto(url)
    expect(page.locator("#expression")).to_have_value("x * y + x")
    expect(page.locator("#step-counter")).to_contain_text("backward pass")
    expect(page.locator("#check-table tr[data-name=x] td.autodiff")).to_have_text("-3")


def test_softmax_regression_shows_p_minus_onehot_at_the_logits(page):
    page.goto("/backprop?preset=softmax&phase=backward")
    expect(page.locator("#step-counter")).to_contain_text("of")
    page.click("#to-end")
    z = page.locator("g.node[data-label=z]")
    expect(z).to_be_visible()
    # z's gradient cells are p - onehot(2): the third is negative, the others positive
    grads = z.locator("text.grad").all_text_contents()
    assert len(grads) == 3 and float(grads[2]) < 0 < float(grads[0])
    screenshot(page, "backprop-softmax")


def test_a_parse_error_says_where(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "(x + y * z")
    page.click("#run")
    expect(page.locator("#error")).to_have_text(re.compile(r"expected '\)'.*at character 11"))


def test_gradient_descent_moves_downhill(page):
    page.goto("/backprop")
    page.fill("#lr", "0.3")
    page.click("#descent-form button[type=submit]")
    rows = page.locator("#descent-table tr")
    expect(rows).to_have_count(12)
    last_theta = float(rows.nth(11).locator("td").nth(1).text_content())
    assert abs(last_theta - 3) < 0.1
    expect(page.locator("#descent-plot .main-svg").first).to_be_visible()


def test_play_advances_and_pause_stops(page):
    page.goto("/backprop?preset=notes")
    counter = page.locator("#step-counter")
    expect(counter).to_contain_text("step 0 of 10")
    page.click("#play")
    expect(page.locator("#play")).to_have_text("⏸ Pause")
    expect(counter).to_contain_text("step 2 of 10")
    page.click("#play")
    expect(page.locator("#play")).to_have_text("▶ Play")
    stopped = counter.text_content()
    page.wait_for_timeout(1000)
    assert counter.text_content() == stopped


def test_a_gradient_check_outside_the_domain_reads_as_a_failure(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "log(x)")
    page.fill("#values", "x = -1")
    page.click("#run")
    error = page.locator("#check-table tr[data-name=x] td.relerr")
    expect(error).to_have_text("NaN")
    expect(error).to_have_class("relerr bad")  # was "0", in green
    expect(page.locator("#check-table")).to_contain_text("not finite within h")
