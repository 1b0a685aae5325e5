"""A student on /training: picks XOR and Adam with the page's own controls, presses Play and
reads a test accuracy of at least 95% off the page; races Newton against gradient descent;
shares a link that brings the same run back; clicks points of their own onto the plane and
uploads a CSV (a good one, and bad ones that get a clear message); and is told when the
server is full."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

LIVE = 20_000  # ms: the stream opened and the first frame drawn (the server may be starting its worker)


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def accuracy(page) -> float | None:
    text = page.locator("#test-accuracy").text_content()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)%", text.strip())
    return float(match.group(1)) if match else None


def train_until(page, at_least: float, most_seconds: float = 180) -> float:
    """Let the run play until the page shows a test accuracy of `at_least` %, or give up after
    `most_seconds` (a bound on the test's length, not a claim on speed): the last accuracy read."""
    seen = None
    for _ in range(int(most_seconds * 4)):
        seen = accuracy(page)
        if seen is not None and seen >= at_least:
            break
        page.wait_for_timeout(250)  # polled: the CSP forbids wait_for_function's eval
    return seen


def started(page) -> None:
    expect(page.locator("#link-state")).to_have_text("live", timeout=LIVE)
    expect(page.locator("#network svg")).to_be_visible(timeout=LIVE)
    expect(page.locator("#step-count")).to_have_text("0", timeout=LIVE)


def test_xor_with_adam_learns_through_the_page_controls(page):
    page.goto("/training?data=circles&opt=sgd&lr=0.01")
    started(page)
    page.select_option("#dataset", "xor")
    page.select_option("#optimizer", "adam")
    page.fill("#lr", "0.03")
    page.locator("#lr").dispatch_event("change")
    expect(page.locator("#n-points")).to_have_text("200")
    assert query(page)["data"] == "xor" and query(page)["opt"] == "adam"
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    reached = train_until(page, 95.0)
    page.click("#play")  # pause, to read a still page
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    assert reached is not None and reached >= 95.0, f"the test accuracy stayed at {reached}%"
    assert int(page.locator("#step-count").text_content()) > 0
    maps = page.locator("#network canvas.net-map")
    assert maps.count() == 16 and all(
        maps.nth(i).get_attribute("width") == "20" for i in range(16)
    )  # each unit, 20 × 20
    assert page.locator("#loss-plot .scatterlayer .trace").count() == 2  # train and test loss
    expect(page.locator("#program")).to_contain_text("nn.Sequential")
    screenshot(page, "training")


def test_one_step_at_a_time_and_reset(page):
    page.goto("/training?hidden=4&act=tanh&opt=gd&lr=0.5")
    started(page)
    page.click("#step")
    expect(page.locator("#step-count")).to_have_text("1")
    page.click("#step")
    expect(page.locator("#step-count")).to_have_text("2")
    page.click("#reset")
    expect(page.locator("#step-count")).to_have_text("0")


def test_newton_races_gradient_descent(page):
    page.goto("/training?hidden=4&act=tanh")
    started(page)
    page.fill("#race-steps", "100")
    page.click("#race")
    table = page.locator("#race-table")
    expect(table.locator("tr[data-optimizer=newton]")).to_be_visible(timeout=60_000)
    expect(table.locator("tr[data-optimizer=gd]")).to_be_visible()
    for name in ["gd", "newton"]:
        steps = table.locator(f"tr[data-optimizer={name}] td").nth(1).text_content()
        assert re.fullmatch(r"\d+|not in \d+|(diverged|out of time) after \d+", steps), f"{name}: {steps}"
    expect(page.locator("#race-plot .scatterlayer .trace")).to_have_count(6)  # five racers and the target
    expect(page.locator("#race-error")).to_be_hidden()


def test_the_url_brings_the_same_run_back(page):
    page.goto("/training?data=moons&noise=0.2&points=150&test=0.25&seed=7&hidden=6,3&act=relu,sigmoid"
              "&dropout=0.1&opt=momentum&lr=0.1&batch=20&l2=0.001&schedule=cosine")  # fmt: skip
    started(page)
    expect(page.locator("#state-problems")).to_be_hidden()
    for control, value in [("#dataset", "moons"), ("#noise", "0.2"), ("#points", "150"), ("#test-fraction", "0.25"),
                           ("#seed", "7"), ("#dropout", "0.1"), ("#optimizer", "momentum"), ("#lr", "0.1"),
                           ("#batch", "20"), ("#l2", "0.001"), ("#schedule", "cosine")]:  # fmt: skip
        expect(page.locator(control)).to_have_value(value)
    rows = page.locator("#layers .layer-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("output")).to_have_text("6 units")
    expect(rows.nth(1).locator("select")).to_have_value("sigmoid")
    expect(page.locator("#parameters")).to_have_text("43")  # 2·6 + 6, 6·3 + 3, 3·1 + 1: the server counted
    # change the run with the controls: the URL follows, and a reload brings it back
    page.click("#add-layer")
    page.click("#layers .layer-row[data-layer='3'] button[aria-label^='more units']")
    page.select_option("#optimizer", "rmsprop")
    expect(page.locator("#parameters")).to_have_text("60")  # 2-6-3-4-1: 18 + 21 + 16 + 5
    link = page.url
    assert query(page)["hidden"] == "6,3,4" and query(page)["act"] == "relu,sigmoid,sigmoid"
    page.goto(link)
    started(page)
    expect(page.locator("#optimizer")).to_have_value("rmsprop")
    expect(page.locator("#layers .layer-row")).to_have_count(3)
    expect(page.locator("#parameters")).to_have_text("60")


def test_a_link_with_values_the_page_cannot_use_says_so(page):
    page.goto("/training?hidden=8,40&act=tanh,tanh&opt=lbfgs")
    notice = page.locator("#state-problems")
    expect(notice).to_contain_text("hidden=8,40: each layer has 1 to 16 units")
    expect(notice).to_contain_text("opt=lbfgs: expected one of")
    started(page)
    expect(page.locator("#layers .layer-row")).to_have_count(2)  # the default 8, 8
    expect(page.locator("#optimizer")).to_have_value("adam")


def plane_at(page, x: float, y: float) -> dict:
    """The canvas position of the data point (x, y), from the model's extent [-1.5, 1.5]²."""
    box = page.locator("#plane").bounding_box()
    return {"x": (x + 1.5) / 3 * box["width"], "y": (1.5 - y) / 3 * box["height"]}


def test_points_of_ones_own_by_clicking(page):
    page.goto("/training?data=custom")
    expect(page.locator("#own-count")).to_contain_text("No points yet", timeout=LIVE)
    page.check("input[name=click-class][value='0']")
    for i in range(6):
        page.locator("#plane").click(position=plane_at(page, -0.6, -0.5 + 0.2 * i))
    page.check("input[name=click-class][value='1']")
    for i in range(6):
        page.locator("#plane").click(position=plane_at(page, 0.6, -0.5 + 0.2 * i))
    expect(page.locator("#n-points")).to_have_text("12", timeout=LIVE)
    points = [[float(v) for v in p.split(",")] for p in query(page)["pts"].split(";")]
    assert len(points) == 12
    assert points[0] == pytest.approx([-0.6, -0.5, 0], abs=0.02)  # where it was clicked, to a pixel
    assert points[-1] == pytest.approx([0.6, 0.5, 1], abs=0.02)
    page.click("#step")
    expect(page.locator("#step-count")).to_have_text("1")
    # from a dataset: a click makes its points the student's own, plus the new one
    page.goto("/training?data=xor&points=100")
    started(page)
    page.locator("#plane").click(position=plane_at(page, 0.9, 0.9))
    expect(page.locator("#dataset")).to_have_value("custom")
    expect(page.locator("#n-points")).to_have_text("101")


GOOD_CSV = "x,y,label\n" + "".join(f"{-0.9 + 0.1 * i:.2f},{0.5 if i % 2 else -0.5},{i % 2}\n" for i in range(19))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("x,y,label\n0.1,0.2,1\n0.5,abc,0\n", "line 3: x and y must be numbers"),
        ("0.1,0.2,1\n3,0.5,0\n", "line 2: the point (3, 0.5) lies outside the square [-1, 1]²"),
        ("0.1,0.2,7\n", "line 1: the label must be 0, 1 or 2"),
        ("0.1,0.2\n", "line 1: expected 3 values x,y,label, found 2"),
        ("x,y,label\n", "the file has no points"),
        ("0.1,0.2,1\n" * 401, "more than 400 points"),
        ("x" * 70_000, "at most 64 KB"),
    ],
    ids=["not-a-number", "outside", "label", "two-values", "empty", "too-many", "too-big"],
)
def test_a_bad_csv_gets_a_clear_message(page, content, message):
    page.goto("/training")
    started(page)
    page.set_input_files("#csv", {"name": "mine.csv", "mimeType": "text/csv", "buffer": content.encode()})
    expect(page.locator("#data-error")).to_contain_text(message)
    expect(page.locator("#data-error")).to_contain_text("mine.csv: ")
    expect(page.locator("#dataset")).to_have_value("xor")  # the run is left as it was
    expect(page.locator("#n-points")).to_have_text("200")


def test_a_good_csv_becomes_the_data(page):
    page.goto("/training")
    started(page)
    page.set_input_files("#csv", {"name": "mine.csv", "mimeType": "text/csv", "buffer": GOOD_CSV.encode()})
    expect(page.locator("#dataset")).to_have_value("custom")
    expect(page.locator("#n-points")).to_have_text("19", timeout=LIVE)
    expect(page.locator("#data-error")).to_be_hidden()
    assert len(query(page)["pts"].split(";")) == 19
    page.reload()  # the link carries the points
    started(page)
    expect(page.locator("#n-points")).to_have_text("19")


def test_a_full_server_is_said_and_retried(page):
    full = [True]

    def stream(ws):
        if full[0]:
            ws.close(code=1013, reason="the server is full")
        else:
            ws.connect_to_server()  # room again: the messages go through both ways

    page.route_web_socket("**/api/v1/train/stream", stream)
    page.goto("/training")
    expect(page.locator("#link-state")).to_contain_text("the server is full: trying again in")
    expect(page.locator("#reconnect")).to_be_visible()
    full[0] = False
    page.click("#reconnect")
    started(page)
    expect(page.locator("#reconnect")).to_be_hidden()


def test_the_pytorch_program_copies_and_downloads(page):
    page.goto("/training?hidden=4&act=relu&opt=sgd&batch=5")
    started(page)
    program = page.locator("#program").text_content()
    assert "nn.Sequential" in program
    page.click("#copy-program")
    expect(page.locator("#copy-state")).to_have_text(re.compile(r"^(copied|selected: press Ctrl\+C)"))
    with page.expect_download() as download:
        page.click("#download-program")
    assert download.value.suggested_filename == "deepviz_xor_sgd.py"
    assert open(download.value.path(), encoding="utf-8").read() == program
    # a live change of the training: the program follows (POST /api/v1/train/program)
    expect(page.locator("#program")).to_contain_text("xor, layers [2, 4, 1], sgd.")
    page.select_option("#optimizer", "rmsprop")
    expect(page.locator("#program")).to_contain_text("xor, layers [2, 4, 1], rmsprop.")
    expect(page.locator("#program")).to_contain_text("torch.optim.RMSprop")
    with page.expect_download() as download:
        page.click("#download-program")
    assert download.value.suggested_filename == "deepviz_xor_rmsprop.py"


def test_newton_sits_out_a_race_of_a_model_too_big_for_its_hessian(page):
    page.goto("/training?hidden=16,16&act=tanh,tanh")  # 337 parameters: above max_newton_parameters (120)
    started(page)
    expect(page.locator("#parameters")).to_have_text("337")
    page.fill("#race-steps", "20")
    page.click("#race")
    table = page.locator("#race-table")
    expect(table.locator("tr[data-optimizer=adam]")).to_be_visible(timeout=60_000)
    expect(table.locator("tr[data-optimizer=newton]")).to_have_count(0)
    expect(page.locator("#race-note")).to_contain_text("Newton sits this race out: its Hessian would be 337 × 337")
    expect(page.locator("#race-error")).to_be_hidden()
    # and live, Newton refused: the server says why, and the run goes on as it was
    page.select_option("#optimizer", "newton")
    expect(page.locator("#run-error")).to_contain_text("at most 120 parameters, this model has 337")
    expect(page.locator("#optimizer")).to_have_value("adam")  # what the run still uses
    assert query(page)["opt"] == "adam"
    page.click("#step")
    expect(page.locator("#step-count")).to_have_text("1")


def test_a_stream_closed_while_idle_starts_again_on_play(page):
    sockets = []

    def stream(ws):
        ws.connect_to_server()  # messages go through both ways
        sockets.append(ws)

    page.route_web_socket("**/api/v1/train/stream", stream)
    page.goto("/training")
    started(page)
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    sockets[-1].close(code=1000, reason="no message for 300 s")  # as the server closes an idle session
    expect(page.locator("#link-state")).to_contain_text("closed while idle")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    page.click("#play")
    expect(page.locator("#link-state")).to_have_text("live")
    assert len(sockets) == 2
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#step-count")).not_to_have_text("0")  # training again
