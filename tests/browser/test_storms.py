"""Requests per action, on every page: one action sends one request (or the number its page
documents), and a control moved quickly keeps at most one request in flight per panel: the
newest waits for the one in flight, and those in between are never sent. The streams count
their messages the same way (a slider dragged across: one new run), and a button that opens
something (a class, a student's place in it) opens one per click."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.network import (
    LIVE_STREAM,
    TRAIN_STREAM,
    count_requests,
    requests,
    reset_requests,
    settle,
    stream_log,
)
from tests.browser.test_lenet_page import draw_a_one
from tests.browser.test_server_trouble import open_a_class

pytestmark = pytest.mark.browser

# Moves a control through `values` within one task, as a quick drag does: an input event each.
DRAG = """([selector, values]) => {
  const control = document.querySelector(selector);
  for (const v of values) { control.value = String(v); control.dispatchEvent(new Event("input", { bubbles: true })); }
}"""


def dragged(page, selector: str, values: list, shown: tuple[str, str], path: str) -> None:
    """`selector` dragged quickly through `values`: once the page shows `shown` (a selector, its
    text), at most one request to `path` was ever in flight, and one or two were sent."""
    reset_requests(page)
    page.evaluate(DRAG, [selector, values])
    expect(page.locator(shown[0])).to_have_text(shown[1])
    settle(page)
    log = requests(page)
    assert log["most"][path] == 1, log
    assert 1 <= len(log["started"]) <= 2, log


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
    dragged(page, "#stride", [2, 3, 4, 3, 2, 1, 2, 3], ("#output-size", "2 × 2"), "/api/v1/conv")
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
    dragged(page, "#kernel", [3, 4, 3, 2, 1, 2, 3], ("#pool-output-caption", "Output, 2×2"), "/api/v1/pool")


def test_adversarial_requests_per_action(page):
    """A new model: the attack and the smallest ε, one each; ε dragged: attacks only (the
    smallest ε does not depend on ε), at most one in flight."""
    count_requests(page)
    page.goto("/adversarial?target=3")
    expect(page.locator("#verdict")).to_contain_text("read as")
    expect(page.locator("#smallest")).not_to_be_empty()
    settle(page)
    reset_requests(page)
    page.select_option("#model", "robust")
    settle(page, 1500)
    attack, search = "/api/v1/lenet/adversarial", "/api/v1/lenet/adversarial/smallest-epsilon"
    assert sorted(requests(page)["started"]) == [attack, search]
    reset_requests(page)
    page.evaluate(DRAG, ["#eps", [0.12, 0.14, 0.16, 0.18, 0.2]])
    settle(page, 1000)
    log = requests(page)
    assert set(log["started"]) == {attack} and 1 <= len(log["started"]) <= 2, log
    assert log["most"][attack] == 1, log


def test_convolution_backward_requests_per_action(page):
    count_requests(page)
    page.goto("/convolution-backward")
    expect(page.locator("#back-where")).to_have_text("position 1 of 16")
    settle(page)
    reset_requests(page)
    page.click("#back-step")
    expect(page.locator("#back-where")).to_have_text("position 2 of 16")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/conv/backward"]
    dragged(page, "#size", [5, 6, 7, 6, 5], ("#back-where", "position 1 of 25"), "/api/v1/conv/backward")


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


def test_optimizers_requests_per_action(page):
    count_requests(page)
    page.goto("/optimizers")
    expect(page.locator("#step-counter")).to_have_text("step 100 of 100")
    settle(page)
    assert requests(page)["started"] == ["/api/v1/optimize/options", "/api/v1/optimize"]
    # a learning rate typed, then Tab: one race; a number of steps typed, then Enter: one race
    # (it was two: the field's change and the form's submit)
    for field, value, key in [("#lr-gd", "0.05", "Tab"), ("#steps", "60", "Enter")]:
        reset_requests(page)
        page.fill(field, value)
        page.press(field, key)
        settle(page)
        assert requests(page)["started"] == ["/api/v1/optimize"], (field, key)
    expect(page.locator("#step-counter")).to_have_text("step 60 of 60")
    # κ dragged quickly: at most one race in flight, the last position raced
    dragged(page, "#condition", [4, 5, 6, 7, 8, 7, 6], ("#condition-value", "κ = 100"), "/api/v1/optimize")
    assert "k=100" in page.url
    # stepping through the race is the page's own: no request
    reset_requests(page)
    page.evaluate(DRAG, ["#step", list(range(0, 61, 5))])
    expect(page.locator("#step-counter")).to_have_text("step 60 of 60")
    page.locator("#step").fill("3")
    expect(page.locator("#step-counter")).to_have_text("step 3 of 60")
    settle(page)
    assert requests(page)["started"] == []


def quiet(page, log, ms: int = 600) -> None:
    """Wait until neither side of the stream has sent anything for `ms`, and no request is in flight."""
    seen, still = None, 0
    while still < ms:
        page.wait_for_timeout(100)
        now = (len(log["page"]), len(log["server"]))
        still = still + 100 if now == seen else 0
        seen = now
    settle(page)


def actions(log) -> list[str]:
    return [t for t in log["page"] if t != "ack"]


def play_then_pause(page, log) -> None:
    """Play, then Pause: one message each, and every frame the server sent acknowledged once."""
    log["page"].clear()
    log["server"].clear()
    page.click("#play")
    expect(page.locator("#step-count")).not_to_have_text("0")
    page.click("#play")
    quiet(page, log)
    assert actions(log) == ["play", "pause"], log
    assert log["page"].count("ack") == log["server"].count("frame") > 0, log


def test_training_messages_per_action(page):
    count_requests(page)
    log = stream_log(page, TRAIN_STREAM)
    page.goto("/training")
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#parameters")).to_have_text("105")
    quiet(page, log)
    assert actions(log) == ["configure"] and requests(page)["started"] == []
    # the dataset changed: one new run, no request
    log["page"].clear()
    page.select_option("#dataset", "moons")
    quiet(page, log)
    assert actions(log) == ["configure"] and requests(page)["started"] == []
    # the noise slider dragged across: one new run, not one per position
    log["page"].clear()
    page.evaluate(DRAG, ["#noise", [0.15, 0.2, 0.25, 0.3, 0.35, 0.4]])
    expect(page.locator("#noise-value")).to_have_text("0.4")
    quiet(page, log)
    assert actions(log) == ["configure"], log
    # the optimizer changed live: one message, and the program asked for again
    log["page"].clear()
    page.select_option("#optimizer", "rmsprop")
    expect(page.locator("#program")).to_contain_text("torch.optim.RMSprop")
    quiet(page, log)
    assert actions(log) == ["set"] and requests(page)["started"] == ["/api/v1/train/program"]
    play_then_pause(page, log)


def test_class_requests_per_action(page):
    count_requests(page)
    page.clock.install()  # the dashboard looks at its class every second: the test moves that second on
    page.goto("/class")
    page.dblclick("#class-new")
    expect(page.locator("#class-code")).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    code = page.locator("#class-code").text_content()
    settle(page)
    assert requests(page)["started"].count("/api/v1/classes") == 1  # one class
    look = f"/api/v1/classes/{code}"
    now = datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, tz=UTC)
    page.clock.pause_at(now + timedelta(milliseconds=100))
    page.clock.run_for(1000)  # a look that was under way is done
    settle(page)
    # a poll asked while a look waits for its answer: the look it asks for follows that one (it
    # once went beside it: with a slow server, as many looks in flight as polls asked)
    reset_requests(page)
    held = []
    page.route(re.compile(rf"{look}$"), lambda route: held.append(route))
    page.clock.run_for(1000)
    for _ in range(200):  # the look starts, and waits (polled: the CSP forbids wait_for_function's eval)
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the dashboard did not look at its class after a second"
    page.fill("#poll-question", "Two?")
    with page.expect_response(f"**{look}/polls"):
        page.click("#poll-form button[type=submit]")
    for route in held:
        route.continue_()
    page.unroute(re.compile(rf"{look}$"))
    page.clock.run_for(1)
    expect(page.locator("#poll-shown")).to_have_text("Two?")
    settle(page)
    assert requests(page)["most"][look] == 1, requests(page)
    # then one look a second, its poll's answers with it
    for _ in range(3):
        reset_requests(page)
        page.clock.run_for(1000)
        settle(page)
        log = requests(page)
        assert log["started"] == [look, f"{look}/polls/p1"], log


def test_join_requests_per_action(page, server_url):
    code = open_a_class(server_url)
    count_requests(page)
    streams = []
    page.on("websocket", lambda ws: streams.append(ws.url))
    page.goto(f"/join?code={code}")
    settle(page)
    assert requests(page)["started"] == [] and streams == []
    page.fill("#join-name", "Ada")
    page.dblclick("#join-form button[type=submit]")  # one student, however eager
    expect(page.locator("#join-done")).to_contain_text(f"You are in class {code}")
    expect(page.locator("#class-bar")).to_contain_text("Following the instructor")
    settle(page)
    assert requests(page)["started"] == [f"/api/v1/classes/{code}/join"]
    assert len(streams) == 1 and f"/api/v1/classes/{code}/follow" in streams[0]  # the class bar follows


def test_lenet_live_messages_per_action(page):
    """/lenet-live: one message per action on its stream, and no request: a typed learning rate
    or batch size one live change, the training digits one new run, Play and Pause one each
    (every frame acknowledged once), a drawing tested once its strokes pause."""
    count_requests(page)
    log = stream_log(page, LIVE_STREAM)
    page.goto("/lenet-live?digits=500")
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#kernels1 canvas")).to_have_count(6)
    quiet(page, log)
    assert actions(log) == ["configure"] and requests(page)["started"] == []
    for field, value, sends in [("#lr", "0.001", "set"), ("#batch", "64", "set"), ("#digits", "600", "configure")]:
        log["page"].clear()
        page.fill(field, value)
        page.press(field, "Tab")
        quiet(page, log)
        assert actions(log) == [sends], (field, log)
    assert "lr=0.001" in page.url and "batch=64" in page.url and "digits=600" in page.url
    play_then_pause(page, log)
    log["page"].clear()
    log["server"].clear()
    page.locator("#pad").scroll_into_view_if_needed()
    draw_a_one(page)  # thirty pointer moves: tested once they pause (or a few times, on a slow machine)
    expect(page.locator("#shipped-prediction")).to_have_text(re.compile(r"^1 "))
    quiet(page, log)
    tests = actions(log)
    assert set(tests) == {"test"} and 1 <= len(tests) <= 3 and log["server"] == tests, log
    assert requests(page)["started"] == []
