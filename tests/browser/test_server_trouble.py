"""Every page with the API unreachable, and slow: it says so in the panel concerned, its
controls stay wired, and it recovers by itself when the server is back (a stream reconnects
with backoff). Requests time out, and a server error is shown, not swallowed."""

from __future__ import annotations

import json
import re
import urllib.request

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


def test_adversarial_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse")
    page.goto("/adversarial?target=3")
    expect(page.locator("#digits-status")).to_contain_text(NOT_ANSWERING)
    expect(page.locator("#curves-status")).to_contain_text(NOT_ANSWERING)
    page.locator("#eps").fill("0.2")  # the controls work meanwhile
    expect(page.locator("#eps-value")).to_contain_text("0.2")
    assert "eps=0.2" in page.url
    gate.open()
    expect(page.locator("#verdict")).to_contain_text("read as", timeout=BACK)
    expect(page.locator("#verdict")).to_contain_text("ε = 0.2")
    expect_calm(page, "digits-status", "curves-status", "attack-status", "search-status")


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


def test_optimizers_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse")
    page.goto("/optimizers")
    expect(page.locator("#race-status")).to_contain_text(f"{NOT_ANSWERING}: retrying in")
    expect(page.locator("#race-status button.retry")).to_be_visible()
    expect(page.locator("#map-status")).to_contain_text(NOT_ANSWERING)  # the empty map says why, too
    # wired before the server's options come: κ slides, and Race tries again at once (Race once
    # sent the form as a page load, its empty fields in the URL)
    page.locator("#condition").fill("6")
    expect(page.locator("#condition-value")).to_have_text("κ = 100")
    with page.expect_request("**/api/v1/optimize/options"):
        page.click("#race")
    assert "points=" not in page.url
    expect(page.locator("#race-status")).to_contain_text(NOT_ANSWERING)
    gate.open()
    expect(page.locator("#step-counter")).to_have_text("step 100 of 100", timeout=BACK)
    expect(page.locator("#contour .main-svg").first).to_be_visible()
    assert "k=100" in page.url  # the race is the one the student slid to
    expect_calm(page, "race-status", "map-status")


# Each change of #link-state's text, from the page's first script on.
LINK_STATES = """
window.__links = [];
new MutationObserver(() => {
  const text = document.getElementById("link-state")?.textContent;
  if (text && text !== window.__links.at(-1)) window.__links.push(text);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def reconnection_waits(page, gate, attempts: int) -> list[int]:
    """The seconds the page announced before each of its first `attempts` reconnections."""
    for _ in range(BACK // 100):
        if gate.refused >= attempts + 1:
            break
        page.wait_for_timeout(100)  # polled: the CSP forbids wait_for_function's eval
    links = page.evaluate("window.__links")
    waits = [int(m.group(1)) for t in links if (m := re.search(r"reconnecting in (\d+) s$", t))]
    assert len(waits) >= attempts and links.count("connecting…") == gate.refused, links
    return waits[:attempts]


def test_training_with_the_server_unreachable(offline_page):
    page = offline_page
    page.add_init_script(LINK_STATES)
    gate = Gate(page, "refuse", stream=True)
    page.goto("/training")
    expect(page.locator("#link-state")).to_contain_text("the server is not answering: reconnecting in")
    expect(page.locator("#reconnect")).to_be_visible()
    # the controls work meanwhile: their run waits in the URL for the stream
    page.select_option("#dataset", "moons")
    page.click("#add-layer")
    expect(page.locator("#layer-count")).to_have_text("3")
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    assert "data=moons" in page.url and "hidden=8%2C8%2C8" in page.url
    # it tries again by itself, each wait longer: 1 s, then 2 s (±50% jitter: 1–3), then 4 s (2–6)
    waits = reconnection_waits(page, gate, 3)
    assert waits[0] == 1 and waits[2] >= 2, waits
    gate.open()
    page.evaluate("const b = document.getElementById('reconnect'); if (!b.hidden) b.click();")
    expect(page.locator("#link-state")).to_have_text("live", timeout=BACK)
    expect(page.locator("#parameters")).to_have_text("177")  # 2-8-8-8-1: the run made offline
    expect(page.locator("#step-count")).not_to_have_text("0")  # and playing, as pressed
    page.click("#play")


def open_a_class(server_url) -> str:
    """A class opened through the API (beside the page under test): its join code."""
    request = urllib.request.Request(server_url + "/api/v1/classes", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["code"]


def test_class_with_the_server_unreachable(offline_page):
    page = offline_page
    gate = Gate(page, "refuse")
    page.goto("/class")
    page.click("#class-new")
    expect(page.locator("#create-status")).to_contain_text(f"{NOT_ANSWERING}: retrying in")
    expect(page.locator("#create-status button.retry")).to_be_visible()
    expect(page.locator("#class-new")).to_be_disabled()  # one class per click, however long it takes
    gate.open()
    expect(page.locator("#class-code")).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=BACK)
    expect_calm(page, "create-status")
    expect(page.locator("#class-status")).to_have_attribute("data-state", "")  # the dashboard looked
    # the server goes away under the open dashboard: it says so, its controls answer, it comes back
    gate = Gate(page, "refuse")
    expect(page.locator("#class-status")).to_contain_text(f"{NOT_ANSWERING}: retrying in", timeout=BACK)
    page.fill("#poll-question", "What is 6 × 7?")
    page.click("#poll-form button[type=submit]")
    expect(page.locator("#poll-error")).to_contain_text("the server cannot be reached")
    screenshot(page, "class-server-not-answering")
    gate.open()
    expect_calm(page, "class-status")
    page.click("#poll-form button[type=submit]")
    expect(page.locator("#poll-shown")).to_have_text("What is 6 × 7?", timeout=BACK)
    expect(page.locator("#poll-error")).to_be_hidden()


def test_join_with_the_server_unreachable(offline_page, server_url):
    code = open_a_class(server_url)
    page = offline_page
    gate = Gate(page, "refuse")
    page.goto("/join")
    page.fill("#join-code", "WRONG9")
    page.click("#join-form button[type=submit]")
    expect(page.locator("#join-status")).to_contain_text(f"{NOT_ANSWERING}: retrying in")
    expect(page.locator("#join-status button.retry")).to_be_visible()
    expect(page.locator("#join-form button[type=submit]")).to_be_disabled()
    page.fill("#join-code", code.lower())  # the form stays usable: the next attempt takes the code as corrected
    page.fill("#join-name", "Ada")
    screenshot(page, "join-server-not-answering")
    gate.open()
    expect(page.locator("#join-done")).to_contain_text(f"You are in class {code}", timeout=BACK)
    expect_calm(page, "join-status")
    expect(page.locator("#join-error")).to_be_hidden()


# -- the server slow: each request answered only after a few seconds ------------------------------

SLOW = [
    ("/backprop", ["graph-status", "descent-status"], "#step-counter", "step 0 of 10"),
    ("/convolution", ["slide-status", "photo-status", "lists-status", "stack-status"], "#output-size", "8 × 8"),
    ("/convolution-backward", ["back-status"], "#back-where", "position 1 of 16"),
    ("/receptive-field?stack=c3,c3,c3&n=16", ["rf-status", "maps-status"], "#rf-formula", "= 7"),
    ("/pooling", ["pool-status", "photo-status"], "#pool-output-caption", "Output, 3×3"),
    ("/optimizers", ["race-status", "map-status"], "#step-counter", "step 100 of 100"),
    ("/adversarial?target=3", ["digits-status", "curves-status"], "#verdict", "read as"),
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


def test_training_with_a_slow_server(page):
    gate = Gate(page, "hold", stream=True)
    page.goto("/training")
    expect(page.locator("#link-state")).to_have_text("waiting for the server…")  # its run sent, not answered
    expect(page.locator("#parameters")).to_have_text("–")
    page.wait_for_timeout(1000)
    gate.open()
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#parameters")).to_have_text("105")  # 2-8-8-1
    expect(page.locator("#network svg")).to_be_visible()
    expect(page.locator("#step-count")).to_have_text("0")


def test_class_and_join_with_a_slow_server(page, server_url):
    gate = Gate(page, "hold")
    page.goto("/class")
    page.click("#class-new")
    expect(page.locator("#create-status .status-text")).to_have_text("Loading…")
    expect(page.locator("#class-new")).to_be_disabled()
    page.wait_for_timeout(1000)
    gate.open()
    expect(page.locator("#class-code")).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    expect_calm(page, "create-status")
    code = open_a_class(server_url)
    gate = Gate(page, "hold")
    page.goto(f"/join?code={code}")
    page.click("#join-form button[type=submit]")
    expect(page.locator("#join-status .status-text")).to_have_text("Loading…")
    expect(page.locator("#join-done")).to_be_hidden()
    page.wait_for_timeout(1000)
    gate.open()
    expect(page.locator("#join-done")).to_contain_text(f"You are in class {code}")
    expect_calm(page, "join-status")


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
