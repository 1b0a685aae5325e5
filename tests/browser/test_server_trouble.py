"""Every page with the API unreachable, and slow: it says so in the panel concerned, its
controls stay wired, and it recovers by itself when the server is back. Requests time out,
and a server error is shown, not swallowed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _open, screenshot
from tests.browser.network import Gate
from tests.browser.test_lenet_page import draw_a_one

pytestmark = pytest.mark.browser

NOT_ANSWERING = "The server is not answering"
BACK = 25_000  # ms: retries back off (1 s, 2 s, 4 s, …), so the server's return is seen within this


def expect_calm(page, *ids):
    for id_ in ids:
        expect(page.locator(f"#{id_}")).to_have_attribute("data-state", "", timeout=BACK)


# -- the server unreachable ---------------------------------------------------------------------


def test_backprop_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse")
    page.goto("/backprop")
    expect(page.locator("#graph-status")).to_contain_text(f"{NOT_ANSWERING}: retrying in")
    expect(page.locator("#graph-status button.retry")).to_be_visible()
    expect(page.locator("#descent-status")).to_contain_text(NOT_ANSWERING)
    # the controls are wired: a preset fills the form and is tried at once
    with page.expect_request("**/api/v1/graph"):
        page.select_option("#preset", "fanout")
    expect(page.locator("#expression")).to_have_value("x * y + x")
    expect(page.locator("#graph-status")).to_contain_text(NOT_ANSWERING)
    gate.open()
    expect(page.locator("#step-counter")).to_contain_text("step 0 of 8", timeout=BACK)
    expect(page.locator("#descent-table tr")).to_have_count(12, timeout=BACK)
    expect_calm(page, "graph-status", "descent-status")


def test_convolution_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse")
    page.goto("/convolution")
    for id_ in ["slide-status", "flat-status", "photo-status", "lists-status", "stack-status"]:
        expect(page.locator(f"#{id_}")).to_contain_text(NOT_ANSWERING)
    expect(page.locator("#lists-status")).to_contain_text("(the kernels and images)")
    # the controls are wired all the same (they once waited for the kernels, which never came)
    page.locator("#padding").fill("2")
    expect(page.locator("#padding-value")).to_have_text("2")
    assert "p=2" in page.url
    page.click("#add-relu")
    assert "stack=c3-6k5%2Cr%2Cc6-10k5%2Cr%2Cc10-12k5%2Cr" in page.url
    page.locator("#slide-status").scroll_into_view_if_needed()
    screenshot(page, "convolution-server-not-answering")
    gate.open()
    expect(page.locator("#formula")).to_contain_text("⌊(8 − 3 + 2·2) / 1⌋ + 1 = ⌊9 / 1⌋ + 1 = 10", timeout=BACK)
    expect(page.locator("#bank-maps canvas")).to_have_count(6, timeout=BACK)
    expect(page.locator("#kernel-preset option[value=sobel_y]")).to_have_count(1)
    expect(page.locator("#stack-body tr")).to_have_count(6)
    expect(page.locator("#photo-caption")).to_contain_text("85 × 128")
    expect_calm(page, "slide-status", "flat-status", "photo-status", "lists-status", "stack-status", "bank-status")


def test_receptive_field_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse")
    page.goto("/receptive-field?stack=c3,c3,c3&n=16")
    expect(page.locator("#rf-status")).to_contain_text(NOT_ANSWERING)
    expect(page.locator("#maps-status")).to_contain_text(NOT_ANSWERING)
    page.click("#add-pool")  # wired: the stack grows, in the URL at once
    assert "stack=c3%2Cc3%2Cc3%2Cm2" in page.url
    gate.open()
    expect(page.locator("#layers tr")).to_have_count(4, timeout=BACK)
    expect(page.locator("#maps canvas")).to_have_count(5)
    expect_calm(page, "rf-status", "maps-status")


def test_pooling_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse")
    page.goto("/pooling")
    expect(page.locator("#pool-status")).to_contain_text(NOT_ANSWERING)
    expect(page.locator("#photo-status")).to_contain_text(f"{NOT_ANSWERING} (the photograph)")
    page.click("#seed")
    assert "seed=2" in page.url
    retry = page.locator("#pool-status button.retry")
    expect(retry).to_be_visible()
    with page.expect_request("**/api/v1/pool"):  # Retry now: at once, not after the backoff
        retry.click()
    gate.open()
    expect(page.locator("#pool-output-caption")).to_have_text("Output, 3×3", timeout=BACK)
    expect(page.locator("#photo-max-caption")).to_contain_text("16×16", timeout=BACK)
    expect_calm(page, "pool-status", "photo-status")


def test_lenet_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse", stream=True)
    page.goto("/lenet")
    expect(page.locator("#link-state")).to_contain_text("the server is not answering: reconnecting in")
    expect(page.locator("#reconnect")).to_be_visible()
    expect(page.locator("#model-status")).to_contain_text(f"{NOT_ANSWERING} (the model)")
    expect(page.locator("#mistakes-status")).to_contain_text(f"{NOT_ANSWERING} (the mistakes)")
    draw_a_one(page)  # the pad works; the drawing waits for the stream
    page.locator(".layers").scroll_into_view_if_needed()
    gate.open()
    # the student's click, unless the page's own retry got there first (then the button is gone)
    page.evaluate("const b = document.getElementById('reconnect'); if (!b.hidden) b.click();")
    expect(page.locator("#link-state")).to_have_text("live", timeout=BACK)
    expect(page.locator("#prediction")).to_have_text("1")  # the drawing made meanwhile is read
    expect(page.locator("#accuracy")).to_contain_text("99.", timeout=BACK)
    expect(page.locator("#mistakes button.mistake").first).to_be_visible(timeout=BACK)
    page.locator(".layer[data-layer=conv2] canvas").first.click(position={"x": 5, "y": 5})
    expect(page.locator("#unit-field")).to_contain_text("conv2, map 1, unit (0, 0) sees input rows 0–11")
    expect_calm(page, "model-status", "mistakes-status", "unit-status")


# -- the server slow: each request answered only after a few seconds ------------------------------

SLOW = [
    ("/backprop", ["graph-status", "descent-status"], "#step-counter", "step 0 of 10"),
    ("/convolution", ["slide-status", "photo-status", "lists-status", "stack-status"], "#output-size", "8 × 8"),
    ("/receptive-field?stack=c3,c3,c3&n=16", ["rf-status", "maps-status"], "#rf-formula", "= 7"),
    ("/pooling", ["pool-status", "photo-status"], "#pool-output-caption", "Output, 3×3"),
]


@pytest.mark.parametrize(("path", "statuses", "figure", "drawn"), SLOW, ids=[s[0].split("?")[0] for s in SLOW])
def test_a_slow_server_shows_loading_then_the_figure(page, path, statuses, figure, drawn):
    gate = Gate(page, "hold")
    page.goto(path)
    for id_ in statuses:
        expect(page.locator(f"#{id_} .status-text")).to_contain_text("Loading")
    expect(page.locator(figure)).not_to_contain_text(drawn)
    page.wait_for_timeout(2500)
    gate.open()
    expect(page.locator(figure)).to_contain_text(drawn)
    expect_calm(page, *statuses)


def test_lenet_with_a_slow_server(page):
    gate = Gate(page, "hold", stream=True)
    page.goto("/lenet")
    expect(page.locator("#model-status .status-text")).to_have_text("Loading the model…")
    expect(page.locator("#mistakes-status .status-text")).to_have_text("Loading the mistakes…")
    expect(page.locator("#link-state")).to_have_text("live")  # the stream opens; its frames are held
    draw_a_one(page)
    expect(page.locator("#link-state")).to_have_text("waiting for the server…")
    page.wait_for_timeout(1000)
    gate.open()
    expect(page.locator("#prediction")).to_have_text("1")
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#accuracy")).to_contain_text("99.")
    expect_calm(page, "model-status", "mistakes-status")


# -- timeouts and server errors -------------------------------------------------------------------


def test_a_request_times_out_and_an_abort_is_the_callers(page):
    page.goto("/pooling")
    expect(page.locator("#pool-output-caption")).to_have_text("Output, 3×3")
    Gate(page, "hold")  # never opened: no answer ever comes
    result = page.evaluate("""async () => {
        const { api } = await import("/static/js/api.js");
        const hung = new Promise((resolve) => setTimeout(() => resolve("no answer, no timeout"), 5000));
        const start = performance.now();
        const answer = await Promise.race([api.kernels({ timeout: 500 }), hung]);
        const ms = performance.now() - start;
        const controller = new AbortController();
        const pending = api.pool({ grid: [[1]] }, { signal: controller.signal });
        controller.abort();
        let aborted = "not aborted";
        try { await Promise.race([pending, hung]); } catch (error) { aborted = error.name; }
        return { answer, ms, aborted };
    }""")
    assert result["answer"]["ok"] is False and result["answer"]["problem"] == "timeout", result
    assert result["answer"]["data"]["detail"][0]["msg"] == "the server did not answer within 1 s"
    assert 400 < result["ms"] < 3000
    assert result["aborted"] == "AbortError"


def test_a_server_error_is_shown_not_swallowed(browser, server_url):
    context, page, errors = _open(
        browser, server_url, tolerated=("Failed to load resource: the server responded with a status of 500",)
    )
    try:
        page.route("**/api/v1/pool", lambda r: r.fulfill(status=500, json={"detail": "Internal Server Error"}))
        page.goto("/pooling")
        expect(page.locator("#pool-status")).to_contain_text(
            "The server failed (500): Internal Server Error. Change something to try again."
        )
        expect(page.locator("#pool-status")).to_have_attribute("data-state", "error")
        page.unroute("**/api/v1/pool")
        page.click("#seed")  # the next action tries again
        expect(page.locator("#pool-output-caption")).to_have_text("Output, 3×3")
        expect(page.locator("#pool-status")).to_have_attribute("data-state", "")
    finally:
        context.close()
    assert not errors, errors
