"""A student on /adversarial: picks a gallery digit, asks for a 3, runs the iterated attack and
sees the reading flip; the link reproduces it; the adversarially trained model resists the
same attack; a drawing is attacked too; the curves come from bench/robustness.py."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_lenet_page import draw_a_one

pytestmark = pytest.mark.browser


def a_seven(page):
    return page.locator('#digits button[aria-label$="a 7"]').first


def test_a_targeted_attack_makes_a_gallery_seven_read_as_a_3(page):
    page.goto("/adversarial")
    seven = a_seven(page)
    expect(seven).to_be_visible()
    seven.click()
    expect(seven).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#before-read")).to_contain_text("read as 7")
    page.select_option("#target", "3")
    page.fill("#steps", "20")
    page.locator("#steps").dispatch_event("change")
    page.fill("#eps", "0.2")
    expect(page.locator("#after-read")).to_contain_text("read as 3")
    expect(page.locator("#verdict")).to_have_attribute("data-flipped", "true")
    expect(page.locator("#verdict")).to_contain_text("7 is now read as 3")
    expect(page.locator("#after li.best")).to_have_attribute("data-digit", "3")
    expect(page.locator("#before li.best")).to_have_attribute("data-digit", "7")
    expect(page.locator("#scale")).to_contain_text("±0.2 (the largest change)")
    smallest = re.compile(r"Smallest ε that makes it read a 3 \(20 steps\): 0\.\d+")
    expect(page.locator("#smallest")).to_contain_text(smallest)
    for key in ("target=3", "eps=0.2", "steps=20", "model=standard", f"digit={seven.get_attribute('data-index')}"):
        assert key in page.url
    screenshot(page, "adversarial-flipped")


def test_the_link_reproduces_the_attack(page):
    page.goto("/adversarial")
    index = a_seven(page).get_attribute("data-index")
    page.goto(f"/adversarial?digit={index}&target=3&eps=0.2&steps=20&model=standard")
    expect(page.locator(f'#digits button[data-index="{index}"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#target")).to_have_value("3")
    expect(page.locator("#eps")).to_have_value("0.2")
    expect(page.locator("#steps")).to_have_value("20")
    expect(page.locator("#eps-value")).to_have_text("0.2")
    expect(page.locator("#after-read")).to_contain_text("read as 3")


def test_the_adversarially_trained_model_resists_the_same_attack(page):
    page.goto("/adversarial")
    index = a_seven(page).get_attribute("data-index")
    page.goto(f"/adversarial?digit={index}&target=3&eps=0.1&steps=20")
    expect(page.locator("#verdict")).to_have_attribute("data-flipped", "true")
    page.select_option("#model", "robust")
    expect(page.locator("#verdict")).to_contain_text("adversarially trained")
    expect(page.locator("#verdict")).to_have_attribute("data-flipped", "false")
    expect(page.locator("#after-read")).to_contain_text("read as 7")
    assert "model=robust" in page.url
    screenshot(page, "adversarial-robust")


def test_a_drawing_is_attacked(page):
    page.goto("/adversarial")
    expect(page.locator("#before-read")).to_contain_text("read as")
    page.click("#draw-box summary")
    draw_a_one(page)
    expect(page.locator("#before-read")).to_contain_text("read as 1")
    expect(page.locator('#digits button[aria-pressed="true"]')).to_have_count(0)
    assert "digit=" not in page.url


def test_the_curves_and_their_table_are_drawn(page):
    page.goto("/adversarial")
    expect(page.locator("#curves .main-svg").first).to_be_visible()
    expect(page.locator("#curves-table tbody tr")).to_have_count(4)
    expect(page.locator("#models-note")).to_contain_text("adversarially trained (ε = 0.1")


def test_a_bad_link_value_is_refused_and_said(page):
    page.goto("/adversarial?eps=2&digit=abc")
    expect(page.locator("#state-problems")).to_contain_text("eps=2: expected a number from 0 to 0.5")
    expect(page.locator("#state-problems")).to_contain_text("digit=abc")
    expect(page.locator("#eps")).to_have_value("0.1")


def test_the_slider_reaches_the_smallest_epsilon_and_the_one_below_it(page):
    page.goto("/adversarial")
    index = a_seven(page).get_attribute("data-index")
    page.goto(f"/adversarial?digit={index}&target=3&eps=0.3&steps=10&model=standard")
    smallest = page.locator("#smallest")
    expect(smallest).to_have_attribute("data-epsilon", re.compile(r"^0\.\d+$"))
    below = re.search(r"\((0\.\d+) does not\)", smallest.inner_text()).group(1)
    # the search's grid is finer than the slider once was (0.01): "0.095 does not" could not be dialled
    for eps, flipped in ((below, "false"), (smallest.get_attribute("data-epsilon"), "true")):
        page.fill("#eps", eps)
        expect(page.locator("#eps")).to_have_value(eps)
        expect(page.locator("#verdict")).to_contain_text(f"at ε = {eps},")
        expect(page.locator("#verdict")).to_have_attribute("data-flipped", flipped)
