"""Every page on a phone (390×844, with touch): nothing scrolls sideways, the page's main
control and its key result are on the first screen (the notes' contents fold into a menu),
a finger draws on /lenet with the prediction in sight, an instructor's class code and a
student's join form are on the first screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _open, screenshot

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone(browser, server_url):
    context, page, errors = _open(browser, server_url, context_options=PHONE)
    yield page
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def on_first_screen(page, selector: str) -> None:
    """The element is wholly on the first screen, the page not scrolled."""
    expect(page.locator(selector).first).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    box = page.locator(selector).first.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844, (
        f"{selector} spans y {box['y']:.0f}–{box['y'] + box['height']:.0f}"
    )


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen: it scrolls sideways"


# page -> (what shows it has drawn, its main control, its key result)
PAGES = {
    "/": ("#chapter-12", "#chapter-1 .figures a", "#chapter-1 h2"),  # chapter 1's first live figure (/training)
    "/backprop?preset=notes&phase=backward": ("#graph g.node", "#expression", "#narration"),
    "/convolution": ("#bank-maps canvas", "#slide-image", "#formula"),
    "/convolution-backward": ("#back-window td", "#gradient", "#back-sum"),
    "/receptive-field": ("#maps canvas", "#preset", "#rf-formula"),
    "/pooling": ("#pool-output td", "#kind", "#pool-output"),
    "/lenet": ("#kernels1 canvas", "#pad", "#prediction"),
    "/lenet-live": ("#kernels1 canvas", "#play", "#accuracy-now"),
    "/optimizers": ("#contour .main-svg", "#surface", "#contour"),
    "/training": ("#network svg", "#play", "#test-accuracy"),
    "/adversarial": ("#digits canvas", "#digits button", "#verdict"),
    "/docs": ("#swagger-ui .opblock", "#swagger-ui .opblock-summary", "#swagger-ui .information-container"),
}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_fits_a_phone(phone, path):
    page = phone
    drawn, control, result = PAGES[path]
    page.goto(path)
    expect(page.locator(drawn).first).to_be_visible()
    page.wait_for_timeout(300)  # the figures that came with it laid out
    no_sideways_scroll(page)
    on_first_screen(page, control)
    on_first_screen(page, result)
    name = path.strip("/").split("?")[0] or "contents"
    screenshot(page, f"phone-{name}", full_page=False)


def menu_is_one_row(page) -> None:
    """The closed menu takes its own row's height, even above a short page (it once stretched
    to fill the screen's leftover height: a blank band above /join's form)."""
    nav, summary = page.locator("nav.toc").bounding_box(), page.locator("#toc-menu > summary").bounding_box()
    assert nav["height"] < 2 * summary["height"], f"the menu's row is {nav['height']:.0f} px high"


def test_the_class_code_is_on_the_first_screen_of_an_instructors_phone(phone):
    page = phone
    page.goto("/class")
    on_first_screen(page, "#class-new")
    menu_is_one_row(page)
    page.tap("#class-new")
    expect(page.locator("#class-code")).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    expect(page.locator("#class-qr")).to_be_visible()
    page.wait_for_timeout(300)  # the dashboard's first look laid out
    no_sideways_scroll(page)
    on_first_screen(page, "#class-code")
    on_first_screen(page, "#class-join-link")
    screenshot(page, "phone-class", full_page=False)


def test_the_join_form_is_on_the_first_screen_of_a_students_phone(phone):
    page = phone
    page.goto("/join?code=K7QX2M")  # as the QR code opens it
    expect(page.locator("#join-code")).to_have_value("K7QX2M")
    no_sideways_scroll(page)
    menu_is_one_row(page)
    for part in ["#join-code", "#join-name", "#join-form button[type=submit]"]:
        on_first_screen(page, part)
    box = page.locator("#join-code").bounding_box()
    assert box["width"] >= 200 and box["height"] >= 30, f"the code field is {box['width']}×{box['height']} px"
    screenshot(page, "phone-join", full_page=False)


def test_the_notes_contents_are_a_menu_on_a_phone(phone):
    page = phone
    page.goto("/pooling")
    menu = page.locator("#toc-menu")
    link = menu.locator("a[href='/lenet']")
    expect(link).to_be_hidden()  # the list once filled the first screen
    menu.locator("summary").tap()
    expect(link).to_be_visible()
    link.tap()
    expect(page).to_have_url("/lenet")


def test_the_convolution_menus_keep_their_width_on_a_phone(phone):
    page = phone
    page.goto("/convolution")
    expect(page.locator("#slide-where")).to_contain_text("position 1 of 64")
    for menu in ["#slide-image", "#kernel-preset", "#mode", "#photo", "#photo-kernel"]:
        assert page.locator(menu).bounding_box()["width"] >= 150, f"{menu} is squeezed"  # they were 18 px
    padding, stride = page.locator("#padding").bounding_box(), page.locator("label[for=stride]").bounding_box()
    assert padding["y"] + padding["height"] <= stride["y"], "the padding slider overlaps the stride label"


def touch_stroke(page, points) -> None:
    """A finger drawing through `points` (page coordinates): real touch events, as a phone sends."""
    cdp = page.context.new_cdp_session(page)
    (x, y), *rest = points
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for x, y in rest:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_a_finger_draws_a_digit_with_the_prediction_in_sight(phone):
    page = phone
    page.goto("/lenet")
    expect(page.locator("#link-state")).to_have_text("live")
    box = page.locator("#pad").bounding_box()
    x = box["x"] + box["width"] * 0.5
    touch_stroke(page, [(x + i * 0.6, box["y"] + box["height"] * (0.15 + 0.7 * i / 30)) for i in range(31)])
    expect(page.locator("#prediction")).to_have_text("1")
    assert page.evaluate("window.scrollY") == 0  # drawing did not scroll the page
    on_first_screen(page, "#prediction")
    on_first_screen(page, "#pad")
    no_sideways_scroll(page)
    screenshot(page, "phone-lenet-drawn", full_page=False)


def test_the_accuracy_curves_legend_leaves_the_axis_title_clear_on_a_phone(phone):
    page = phone
    page.goto("/adversarial")
    expect(page.locator("#curves .legend")).to_be_visible()
    page.wait_for_timeout(300)  # laid out at the phone's width
    # below the axes, the four legend lines once covered the title "ε"
    legend, title = page.locator("#curves .legend").bounding_box(), page.locator("#curves .xtitle").bounding_box()
    apart = legend["y"] + legend["height"] <= title["y"] or title["y"] + title["height"] <= legend["y"]
    assert apart, f"the legend ({legend['y']:.0f}, {legend['height']:.0f} px) covers the title ε ({title['y']:.0f})"
    no_sideways_scroll(page)
