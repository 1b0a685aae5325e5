"""Requests per action, on every page: one action sends one request (or the number its page
documents), and a control moved quickly keeps at most one request in flight per panel: the
newest waits for the one in flight, and those in between are never sent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.network import count_requests, requests, reset_requests, settle
from tests.browser.test_lenet_page import draw_a_one

pytestmark = pytest.mark.browser

# Moves a control through `values` within one task, as a quick drag does: an input event each.
DRAG = """([selector, values]) => {
  const control = document.querySelector(selector);
  for (const v of values) { control.value = String(v); control.dispatchEvent(new Event("input", { bubbles: true })); }
}"""


def sent(page, path):
    return [p for p in requests(page)["started"] if p == path]


def test_backprop_requests_per_action(page):
    count_requests(page)
    page.goto("/backprop")
    expect(page.locator("#descent-table tr")).to_have_count(12)
    settle(page)
    reset_requests(page)
    page.locator("#expression").fill("")
    page.locator("#expression").press_sequentially("x * y + x", delay=20)  # typing sends nothing
    page.locator("#values").fill("x = 3, y = -4")
    settle(page, 200)
    assert requests(page)["started"] == []
    page.click("#run")
    expect(page.locator("#step-counter")).to_contain_text("step 0 of 8")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/graph"]
    reset_requests(page)
    page.select_option("#h", "0.001")
    page.click("#descent-form button[type=submit]")
    settle(page)
    assert sorted(requests(page)["started"]) == ["/api/v1/descent", "/api/v1/graph"]
    # five builds in a row: the last is sent (and the first, if it left before the others came)
    reset_requests(page)
    page.evaluate("() => { for (let i = 0; i < 5; i++) document.getElementById('run').click(); }")
    settle(page)
    log = requests(page)
    assert log["started"] in (["/api/v1/graph"], ["/api/v1/graph"] * 2), log
    assert log["most"]["/api/v1/graph"] == 1


def test_convolution_requests_per_action(page):
    count_requests(page)
    page.goto("/convolution")
    expect(page.locator("#bank-maps canvas")).to_have_count(6)
    expect(page.locator("#output-size")).to_have_text("8 × 8")
    settle(page)
    reset_requests(page)
    # the sliding kernel: one request per change (it was two in sequence: the geometry, then the detail)
    page.locator("#padding").fill("0")
    expect(page.locator("#output-size")).to_have_text("6 × 6")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/conv"]
    reset_requests(page)
    page.click("#slide-step")
    expect(page.locator("#slide-where")).to_contain_text("position 2 of 36")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/conv"]
    # a quick drag of the stride: at most one in flight, the last position shown
    reset_requests(page)
    page.evaluate(DRAG, ["#stride", [2, 3, 4, 3, 2, 1, 2, 3]])
    expect(page.locator("#output-size")).to_have_text("2 × 2")
    settle(page)
    log = requests(page)
    assert log["most"]["/api/v1/conv"] == 1, log
    assert 1 <= len(log["started"]) <= 2, log
    assert "s=3" in page.url
    # the stack: one request per change
    reset_requests(page)
    page.click("#add-relu")
    expect(page.locator("#stack-body tr")).to_have_count(6)
    settle(page)
    assert requests(page)["started"] == ["/api/v1/shapes"]
    # the photograph's kernel: the photograph and its bank, one request each
    reset_requests(page)
    page.select_option("#photo-kernel", "sobel_y")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/conv"] * 2


def test_receptive_field_requests_per_action(page):
    count_requests(page)
    page.goto("/receptive-field?stack=c3,c3,c3&n=16")
    expect(page.locator("canvas[data-layer='3']")).to_be_visible()
    settle(page)
    reset_requests(page)
    page.locator("#input-size").fill("20")  # typed: sent once, when it changes
    page.locator("#input-size").press("Tab")
    expect(page.locator("#layers tr").first).to_contain_text("18×18")
    page.click("#add-conv")
    expect(page.locator("#layers tr")).to_have_count(4)
    canvas = page.locator("canvas[data-layer='4']")
    canvas.click(position={"x": 3, "y": 3})
    expect(page.locator("#regions li").last).to_contain_text("rows 0–0, columns 0–0")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/receptive-field"] * 3


def test_pooling_requests_per_action(page):
    count_requests(page)
    page.goto("/pooling")
    expect(page.locator("#pool-output-caption")).to_have_text("Output, 3×3")
    expect(page.locator("#photo-max-caption")).to_contain_text("16×16")
    settle(page)
    reset_requests(page)
    page.click("#seed")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/pool"]
    reset_requests(page)
    page.evaluate(DRAG, ["#kernel", [3, 4, 3, 2, 1, 2, 3]])
    expect(page.locator("#pool-output-caption")).to_have_text("Output, 2×2")
    settle(page)
    log = requests(page)
    assert log["most"]["/api/v1/pool"] == 1, log
    assert 1 <= len(log["started"]) <= 2, log


def test_lenet_requests_per_action(page):
    count_requests(page)
    frames = {"sent": 0, "answered": 0, "most": 0}

    def stream(ws):
        server = ws.connect_to_server()

        def to_server(message):
            frames["sent"] += 1
            frames["most"] = max(frames["most"], frames["sent"] - frames["answered"])
            server.send(message)

        def to_page(message):  # each frame gets one answer: its maps, or an error (a frame skipped)
            frames["answered"] += 1
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    page.route_web_socket("**/api/v1/lenet/stream", stream)
    page.goto("/lenet")
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#mistakes button.mistake").first).to_be_visible()
    settle(page)
    reset_requests(page)
    draw_a_one(page)  # thirty pointer moves: frames, one at a time
    expect(page.locator("#prediction")).to_have_text("1")
    page.wait_for_timeout(500)
    assert frames["most"] == 1, frames
    assert 1 <= frames["sent"] <= 31, frames
    page.locator(".layer[data-layer=conv2] canvas").first.click(position={"x": 5, "y": 5})
    expect(page.locator("#unit-field")).to_contain_text("conv2, map 1")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/receptive-field"]
