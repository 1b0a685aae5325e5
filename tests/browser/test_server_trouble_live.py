"""/lenet-live with the server unreachable, and slow (test_server_trouble.py's, for the live
LeNet-5's stream): the stream says so beside the player, the controls stay wired (their run
waits in the URL), and it recovers by itself (or at Reconnect now) with the run as the student
left it: the settings changed meanwhile, playing if Play was pressed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.network import Gate
from tests.browser.test_server_trouble import BACK

pytestmark = pytest.mark.browser


def test_lenet_live_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse", stream=True)
    page.goto("/lenet-live?digits=500")
    expect(page.locator("#link-state")).to_contain_text("the server is not answering: reconnecting in")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "offline")
    expect(page.locator("#reconnect")).to_be_visible()
    # the controls work meanwhile: the run they describe waits in the URL for the stream
    for field, value in [("#lr", "0.001"), ("#digits", "600")]:
        page.fill(field, value)
        page.press(field, "Tab")
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    assert "lr=0.001" in page.url and "digits=600" in page.url
    screenshot(page, "lenet-live-server-not-answering", full_page=False)
    gate.open()
    # the student's click, unless the page's own retry got there first (then the button is gone)
    page.evaluate("const b = document.getElementById('reconnect'); if (!b.hidden) b.click();")
    expect(page.locator("#link-state")).to_have_text("live", timeout=BACK)
    expect(page.locator("#reconnect")).to_be_hidden()
    expect(page.locator("#step-count")).not_to_have_text("0", timeout=BACK)  # and playing, as pressed
    expect(page.locator("#accuracy-now")).to_contain_text("%")
    expect(page.locator("#lr")).to_have_value("0.001")
    page.click("#play")
    expect(page.locator("#draw-box")).to_be_visible()


def test_lenet_live_with_a_slow_server(page):
    gate = Gate(page, "hold", stream=True)
    page.goto("/lenet-live?digits=500")
    expect(page.locator("#link-state")).to_have_text("waiting for the server…")  # its run sent, not answered
    expect(page.locator("#kernels1 canvas")).to_have_count(0)
    page.click("#step")  # wired: it waits with the run
    page.wait_for_timeout(1000)
    gate.open()
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#kernels1 canvas")).to_have_count(6)
    expect(page.locator("#step-count")).to_have_text("1")
