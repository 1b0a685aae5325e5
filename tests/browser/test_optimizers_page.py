"""A student on /optimizers: races Newton against gradient descent on the quadratic bowl with
the page's own controls and reads off the page who reached the minimum, and when; moves the
start with a click; slides κ; watches a racer diverge without breaking the page; and gets the
same race back from the URL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def racing(page, *names: str) -> None:
    """Tick exactly these racers, with the page's checkboxes."""
    boxes = page.locator("#racers input[type=checkbox]:not([disabled])")
    expect(boxes.first).to_be_visible()
    for i in range(boxes.count()):
        box = boxes.nth(i)
        if box.is_checked() != (box.get_attribute("value") in names):
            box.click()


def test_newton_lands_on_the_quadratic_in_one_step_and_gradient_descent_does_not(page):
    page.goto("/optimizers")
    page.select_option("#surface", "quadratic")
    racing(page, "gd", "newton")
    page.fill("#steps", "30")
    page.click("#race")
    rows = page.locator("#results tr[data-name]")
    expect(rows).to_have_count(2)
    newton, gd = page.locator("#results tr[data-name=newton]"), page.locator("#results tr[data-name=gd]")
    expect(newton.locator("td.reached")).to_have_text("at step 1")
    expect(newton.locator("td.theta")).to_have_text("(0, 0)")
    reached = gd.locator("td.reached").get_attribute("data-step")
    assert reached == "" or int(reached) > 1, f"gradient descent reached the minimum at step {reached}"
    expect(gd.locator("td.reached")).not_to_have_text("at step 1")
    expect(page.locator("#step-counter")).to_have_text("step 30 of 30")
    expect(page.locator("#contour .main-svg").first).to_be_visible()
    # one step in: Newton is at the minimum already, gradient descent is not
    page.locator("#step").fill("1")
    expect(page.locator("#step-counter")).to_have_text("step 1 of 30")
    expect(newton.locator("td.theta")).to_have_text("(0, 0)")
    expect(gd.locator("td.theta")).not_to_have_text("(0, 0)")
    assert query(page)["racers"] == "gd,newton" and query(page)["steps"] == "30" and query(page)["t"] == "1"
    screenshot(page, "optimizers-newton-vs-gd")


def test_a_link_gives_the_same_race_back(page):
    page.goto("/optimizers?surface=saddle&racers=gd,newton,newton_safeguarded&lr_gd=0.1&steps=40&x=0.1&y=1")
    expect(page.locator("#surface")).to_have_value("saddle")
    expect(page.locator("#lr-gd")).to_have_value("0.1")
    expect(page.locator("#start-x")).to_have_value("0.1")
    expect(page.locator("#results tr[data-name]")).to_have_count(3)
    expect(page.locator("#results tr[data-name=gd] td.lr")).to_have_text("0.1")
    expect(page.locator("#results tr[data-name=newton] td.notes")).to_contain_text("ended at the saddle (0, 0)")
    safe = page.locator("#results tr[data-name=newton_safeguarded] td.reached")
    expect(safe).to_have_text(re.compile(r"at step \d+"))
    expect(page.locator("#state-problems")).to_be_hidden()


def test_a_click_on_the_map_moves_the_start(page):
    page.goto("/optimizers?surface=himmelblau&racers=gd&steps=20")
    expect(page.locator("#results tr[data-name=gd]")).to_be_visible()
    before = page.locator("#results tr[data-name=gd] td.theta").inner_text()
    box = page.locator("#paths .nsewdrag").first.bounding_box()  # the map's upper layer takes the clicks
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.2)  # up and to the right
    expect(page.locator("#start-x")).not_to_have_value("")
    x, y = float(page.locator("#start-x").input_value()), float(page.locator("#start-y").input_value())
    assert x > 0 and y > 0, (x, y)
    assert query(page)["x"] == page.locator("#start-x").input_value()
    expect(page.locator("#results tr[data-name=gd] td.theta")).not_to_have_text(before)


def test_kappa_slides_and_the_default_learning_rate_follows(page):
    page.goto("/optimizers?racers=gd,newton")
    expect(page.locator("#lr-gd")).to_have_attribute("placeholder", "0.16")
    page.locator("#condition").fill("6")  # the 7th stop: κ = 100
    expect(page.locator("#condition-value")).to_have_text("κ = 100")
    expect(page.locator("#lr-gd")).to_have_attribute("placeholder", "0.016")
    expect(page.locator("#results tr[data-name=gd] td.lr")).to_have_text("0.016")
    expect(page.locator("#results tr[data-name=newton] td.reached")).to_have_text("at step 1")
    assert query(page)["k"] == "100"


def test_a_diverging_racer_stops_and_the_page_goes_on(page):
    page.goto("/optimizers?surface=beale&racers=gd,adam&lr_gd=1")
    gd = page.locator("#results tr[data-name=gd]")
    expect(gd.locator("td.notes")).to_contain_text("diverged at step")
    expect(gd.locator("td.step")).to_contain_text("(stopped)")
    expect(page.locator("#results tr[data-name=adam] td.notes")).to_have_text("–")
    stopped = int(gd.locator("td.step").inner_text().split()[0])
    page.click("#play")  # from the start again, past the step where gradient descent stopped
    shown = "(s) => Number(document.getElementById('step-counter').textContent.split(' ')[1]) > s"
    page.wait_for_function(shown, arg=stopped)
    page.click("#play")  # pause
    expect(gd.locator("td.step")).to_have_text(f"{stopped} (stopped)")
    expect(page.locator("#contour .main-svg").first).to_be_visible()


def test_stochastic_racers_only_where_there_are_examples(page):
    page.goto("/optimizers?surface=rosenbrock&racers=gd,sgd")
    expect(page.locator("#use-sgd")).to_be_disabled()
    expect(page.locator("#results tr[data-name]")).to_have_count(1)
    page.fill("#lr-gd", "0.5")
    page.locator("#lr-gd").dispatch_event("change")
    expect(page.locator("#results tr[data-name=gd] td.lr")).to_have_text("0.5")
    page.select_option("#surface", "logistic")  # its own learning rates: 0.5 was Rosenbrock's
    expect(page.locator("#lr-gd")).to_have_value("")
    assert "lr_gd" not in query(page)
    expect(page.locator("#use-sgd")).to_be_enabled()
    expect(page.locator("#results tr[data-name=sgd]")).to_be_visible()
    expect(page.locator("#dataset")).to_be_visible()
    expect(page.locator("#formula math")).to_be_visible()


def test_values_the_page_cannot_use_are_refused(page):
    page.goto("/optimizers?surface=ackley&racers=gd,lbfgs&steps=100000&lr_adam=-1")
    notice = page.locator("#state-problems")
    expect(notice).to_contain_text("surface=ackley: expected one of quadratic")
    expect(notice).to_contain_text("racers=gd,lbfgs: “lbfgs” is not an optimizer")
    expect(notice).to_contain_text("steps=100000: expected a whole number from 1 to 500")
    expect(notice).to_contain_text("lr_adam=-1: expected a learning rate above 0")
    expect(page.locator("#surface")).to_have_value("quadratic")
    expect(page.locator("#results tr[data-name]")).to_have_count(5)  # the default racers


def test_a_refused_race_says_why(page):
    page.goto("/optimizers?racers=gd,momentum,nesterov,adam,rmsprop,newton,newton_safeguarded&steps=500")
    expect(page.locator("#race-error")).to_contain_text("the limit is 1500")


def test_the_try_links_show_what_they_say(page):
    page.goto("/optimizers")
    page.click("text=Newton up to a maximum")
    expect(page.locator("#results tr[data-name=newton] td.notes")).to_contain_text("ended at the maximum")
    expect(page.locator("#results tr[data-name=newton_safeguarded] td.reached")).to_contain_text("at step")
    page.click("text=a learning rate too large")
    expect(page.locator("#results tr[data-name=gd] td.notes")).to_contain_text("diverged at step")
