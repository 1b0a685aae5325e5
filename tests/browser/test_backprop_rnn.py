"""A student on /backprop studies backpropagation through time (chapter 6): picks the
recurrent network, sets T, steps the backward pass to its end, and reads ‖∂L/∂h_t‖ per step."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_backprop_page import MEASURE_GRAPH, overlap

pytestmark = pytest.mark.browser


def norms(page) -> list[str]:
    return page.locator("#through-time-table td.norm").all_inner_texts()


def test_stepping_back_through_time_vanishing_then_exploding(page):
    page.goto("/backprop")
    expect(page.locator("#rnn-controls")).to_be_hidden()
    page.select_option("#preset", "rnn")
    expect(page.locator("#rnn-controls")).to_be_visible()
    page.fill("#rnn-steps", "4")
    page.locator("#rnn-steps").dispatch_event("input")
    expect(page.locator("#expression")).to_have_value(
        "a1 = w * h0 + u * x1; h1 = tanh(a1); a2 = w * h1 + u * x2; h2 = tanh(a2); "
        "a3 = w * h2 + u * x3; h3 = tanh(a3); a4 = w * h3 + u * x4; h4 = tanh(a4); L = h4"
    )
    expect(page.locator("#through-time")).to_be_visible()
    expect(page.locator("#through-time-table tr")).to_have_count(6)  # the head, t = 0..4
    assert norms(page) == ["—"] * 5  # no gradient before the backward pass
    page.locator("#graph").focus()
    page.keyboard.press("End")
    expect(page.locator("#step-counter")).to_contain_text("backward pass")
    expect(page.locator("#through-time-table td.norm").first).not_to_have_text("—")
    values = [float(text) for text in norms(page)]
    assert values[-1] == 1 and all(a < 0.5 * b for a, b in zip(values, values[1:]))  # vanishing
    label = page.locator("#through-time-plot").get_attribute("aria-label")
    assert "t = 4: 1" in label and "log scale" in label
    expect(page.locator("#through-time-plot .main-svg").first).to_be_visible()
    screenshot(page, "backprop-rnn-vanishing")

    page.click("#rnn-exploding")
    expect(page.locator("#values")).to_have_value("w = 3, u = 1, h0 = 0, x1 = 0, x2 = 0, x3 = 0, x4 = 0")
    expect(page.locator("#step-counter")).to_contain_text("ready")  # the new graph, at its start: End steps it
    page.click("#to-end")
    expect(page.locator("#through-time-table td.norm")).to_have_text(["81", "27", "9", "3", "1"])
    assert "regime=exploding" in page.url and "T=4" in page.url


def test_a_link_with_T_builds_the_preset_at_the_end_of_the_backward_pass(page):
    page.goto("/backprop?preset=rnn&T=3&regime=exploding&phase=backward")
    expect(page.locator("#preset")).to_have_value("rnn")
    expect(page.locator("#rnn-steps")).to_have_value("3")
    expect(page.locator("#through-time-table td.norm")).to_have_text(["27", "9", "3", "1"])


# What the graph prints for the edges of w and u, used at every time step (they fan out): the
# current node's id, and each printed gradient's edge.
FAN_LABELS = """() => {
  const id = (label) => document.querySelector(`#graph g.node[data-label="${label}"]`).dataset.id;
  const fans = [id("w"), id("u")];
  const current = document.querySelector("#graph g.node.current")?.dataset.id ?? null;
  const labels = [...document.querySelectorAll("#graph text.flow")]
    .filter((t) => fans.includes(t.dataset.source)).map((t) => t.dataset.target);
  const tips = [...document.querySelectorAll("#graph path.edge")]
    .filter((p) => fans.includes(p.dataset.source) && p.querySelector("title")).length;
  return { current, labels, tips };
}"""


def test_the_gradients_of_w_and_u_do_not_pile_up_where_they_fan_out(page):
    """w and u feed every time step: their 12 edges' gradients, all printed, piled up between
    the first columns, each far from its edge. They print at the step that sends them (the
    edge's target's), and every edge that carries one says it in its tooltip."""
    page.goto("/backprop?preset=rnn&T=6&phase=backward")
    expect(page.locator("#step-counter")).to_contain_text("backward pass")
    end = page.evaluate(FAN_LABELS)
    assert end["labels"] == [] and end["tips"] == 12
    graph = page.evaluate(MEASURE_GRAPH)
    for i, label in enumerate(graph["labels"]):
        for other in graph["labels"][i + 1 :]:
            assert not overlap(label, other), f"labels {label['text']} and {other['text']} overlap"
        for node in graph["nodes"]:
            assert not overlap(label, node), f"label {label['text']} covers node {node['id']}"
    screenshot(page, "backprop-rnn-fan-out")
    shown = 0
    for _ in range(40):  # back through the backward pass: each fan-out gradient at its own step
        page.click("#back")
        seen = page.evaluate(FAN_LABELS)
        assert set(seen["labels"]) <= {seen["current"]}, seen
        shown += len(seen["labels"])
    assert shown >= 6  # u's six, at least, each at its step
