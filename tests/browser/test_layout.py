"""What a student's walkthrough found cut or misplaced, on a desktop (1280×800) and a phone
(390×844): every menu shows its chosen option whole, /receptive-field's layers table shows
field r and jump j on a phone without scrolling sideways, and /convolution's kernel bank says
its output's shape under its maps, not among them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _open, screenshot

pytestmark = pytest.mark.browser

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(params=list(SCREENS))
def screen(request, browser, server_url):
    context, page, errors = _open(browser, server_url, context_options=SCREENS[request.param])
    yield page
    context.close()
    assert not errors, f"the page reported errors: {errors}"


@pytest.fixture
def phone(browser, server_url):
    context, page, errors = _open(browser, server_url, context_options=SCREENS["phone"])
    yield page
    context.close()
    assert not errors, f"the page reported errors: {errors}"


# Each shown menu's chosen option: its text's width in the menu's font, and the room the menu
# gives it (its width less its padding and the arrow, 20 px: a menu sized to its options gives
# its widest option exactly that).
MENUS = """() => {
  const ctx = document.createElement("canvas").getContext("2d");
  return [...document.querySelectorAll("select")].filter((s) => s.offsetParent).map((s) => {
    const style = getComputedStyle(s);
    ctx.font = style.font;
    const text = s.selectedOptions[0]?.textContent ?? "";
    const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
    return { id: s.id, text, width: ctx.measureText(text).width, room };
  });
}"""

# page -> what shows its menus are filled
PHOTO_DRAWN = "#photo-caption:not(:text('activation map'))"
MENU_PAGES = {
    "/convolution": PHOTO_DRAWN,
    "/convolution?k=laplacian&pk=laplacian&mode=convolution&photo=camera": PHOTO_DRAWN,
    "/convolution-backward": "#back-window td",
    "/convolution-backward?up=random": "#back-window td",
    "/lenet-live": "#kernels1 canvas",
    "/lenet-live?schedule=cosine": "#kernels1 canvas",
    "/receptive-field?stack=c5,m2,c5,m2": "#maps canvas",
}


@pytest.mark.parametrize("path", list(MENU_PAGES))
def test_every_menu_shows_its_choice_whole(screen, path):
    """'Sobel x: horizontal change, finds vertical edges' showed as 'Sobel x: horizontal chan',
    '1, 2, 3, … (to follow each one)' as 'Upstream G… (to follow ea', /lenet-live's
    'step (×½ every 100 steps)' lost a letter."""
    page = screen
    page.goto(path)
    expect(page.locator(MENU_PAGES[path]).first).to_be_visible()
    menus = page.evaluate(MENUS)
    assert menus
    for menu in menus:
        assert menu["width"] <= menu["room"], (
            f"#{menu['id']} shows '{menu['text']}' ({menu['width']:.0f} px) in {menu['room']:.0f} px: it is cut"
        )


def test_a_kernels_menu_is_its_short_name_and_the_weights_say_the_rest(screen):
    page = screen
    page.goto("/convolution")
    expect(page.locator("#kernel-preset option[value=sobel_x]")).to_have_text("Sobel x")
    expect(page.locator("#kernel-preset option[value=sobel_x]")).to_have_attribute(
        "title", "Sobel x: horizontal change, finds vertical edges"
    )
    expect(page.locator("#kernel-about")).to_have_text("Sobel x: horizontal change, finds vertical edges")
    expect(page.locator("#photo-caption")).to_have_text("Sobel x: horizontal change, finds vertical edges: 85 × 128")
    expect(page.locator("#photo-input-caption")).to_contain_text("input: Chelsea the cat (the course opens")


def test_the_kernels_words_follow_lists_that_arrive_after_the_figures(page):
    """On a slow first load the slide and the photograph can be drawn before the kernels' list
    arrives: their words (named by description) are said again when it does."""
    held = []
    page.route("**/api/v1/kernels", lambda route: held.append(route))
    page.goto("/convolution")
    expect(page.locator("#slide-output table")).to_be_visible()
    expect(page.locator("#photo-caption")).to_have_text("sobel_x: 85 × 128")  # drawn by name
    expect(page.locator("#kernel-about")).to_have_text("sobel_x")
    for route in held:
        route.continue_()
    expect(page.locator("#kernel-about")).to_have_text("Sobel x: horizontal change, finds vertical edges")
    expect(page.locator("#photo-caption")).to_have_text("Sobel x: horizontal change, finds vertical edges: 85 × 128")
    expect(page.locator("#photo-input-caption")).to_contain_text("input: Chelsea the cat (the course opens")


def test_the_layers_table_shows_field_and_jump_on_a_phone(phone):
    """Its columns field r and jump j were only seen by scrolling the table sideways."""
    page = phone
    page.goto("/receptive-field?stack=c5,m2,c5,m2&n=64")
    expect(page.locator("#layers tr").nth(3).locator("td.r")).to_have_text("16")
    wrapper = page.evaluate(
        "(() => { const s = document.querySelector('.scroll-x'); return [s.scrollWidth, s.clientWidth]; })()"
    )
    assert wrapper[0] <= wrapper[1], f"the table is {wrapper[0]} px wide in {wrapper[1]} px: it scrolls sideways"
    for row in page.locator("#layers tr").all():
        for cell in row.locator("td").all()[1:]:  # the row's number is hidden on a phone
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"'{cell.inner_text()}' is off the screen"
    screenshot(page, "phone-receptive-field-layers", full_page=False)


def test_the_banks_output_shape_is_under_its_maps(screen):
    page = screen
    page.goto("/convolution")
    expect(page.locator("#bank-maps canvas")).to_have_count(6)
    shape = page.locator("#bank-maps > p").bounding_box()
    bottom = max(f.bounding_box()["y"] + f.bounding_box()["height"] for f in page.locator("#bank-maps figure").all())
    assert shape["y"] >= bottom, "the output's shape sits among the maps"
    # C′: its prime beside the C, at the letter's height (as a superscript it floated above it)
    c, prime = (page.locator("[data-control=bank] p math").first.locator("mi").nth(i).bounding_box() for i in (0, 1))
    assert prime["y"] >= c["y"] - 1, f"the prime's top is {c['y'] - prime['y']:.0f} px above the C's"
