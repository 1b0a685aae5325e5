"""A student on /backprop: types the notes' example, steps through both passes, and reads
the gradients off the page."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def drawn_at_its_start(page, counter: str = "ready") -> None:
    """Waits until the graph asked for is drawn at its first step: End pressed before then
    would step the previous graph (or none), and the answer would then show its start."""
    expect(page.locator("#step-counter")).to_contain_text(counter)


def test_the_notes_example_step_by_step(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "(x + y) * z")
    page.fill("#values", "x = -2, y = 5, z = -4")
    page.click("#run")
    narration = page.locator("#narration")
    expect(narration).to_contain_text("forward pass")
    # forward: x, y, q = x + y = 3, z, f = q * z = -12
    for _ in range(5):
        page.click("#forward")
    expect(narration).to_contain_text("f = q * z = -12")
    # backward, by keyboard
    page.locator("#graph").focus()
    page.keyboard.press("ArrowRight")
    expect(narration).to_contain_text("upstream ∂f/∂f = 1")
    page.keyboard.press("ArrowRight")  # as in the notes, z's gradient comes first: ∂f/∂z = q
    expect(narration).to_have_text("∂f/∂z = 3: z is an input, and its gradient is complete.")
    page.keyboard.press("ArrowRight")
    expect(narration).to_contain_text("q = x + y = 3; upstream ∂f/∂q = -4")
    expect(narration).to_contain_text("to x: local ∂q/∂x = 1; downstream 1 × -4 = -4")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(narration).to_have_text("∂f/∂x = -4: x is an input, and its gradient is complete.")
    expect(page.locator("#check-table tr[data-name=x] td.autodiff")).to_have_text("-4")
    expect(page.locator("#check-table tr[data-name=z] td.autodiff")).to_have_text("3")
    assert "step=" in page.url and "expr=" in page.url
    screenshot(page, "backprop-notes-example")


def test_a_link_reproduces_the_state(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "x * y + x")
    page.fill("#values", "x = 3, y = -4")
    page.click("#run")
    drawn_at_its_start(page, "step 0 of 8 · ready")  # x, y, x * y, + forward; 4 steps back ((x + y) * z has 10)
    page.click("#to-end")
    expect(page.locator("#step-counter")).to_contain_text("backward pass")
    url = page.url
    page.goto(url)
    expect(page.locator("#expression")).to_have_value("x * y + x")
    expect(page.locator("#step-counter")).to_contain_text("backward pass")
    expect(page.locator("#check-table tr[data-name=x] td.autodiff")).to_have_text("-3")


def test_softmax_regression_shows_p_minus_onehot_at_the_logits(page):
    page.goto("/backprop?preset=softmax&phase=backward")
    expect(page.locator("#step-counter")).to_contain_text("of")
    page.click("#to-end")
    z = page.locator("g.node[data-label=z]")
    expect(z).to_be_visible()
    # z's gradient cells are p - onehot(2): the third is negative, the others positive
    grads = z.locator("text.grad").all_text_contents()
    assert len(grads) == 3 and float(grads[2]) < 0 < float(grads[0])
    screenshot(page, "backprop-softmax")


def test_a_parse_error_says_where(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "(x + y * z")
    page.click("#run")
    expect(page.locator("#error")).to_have_text(re.compile(r"expected '\)'.*at character 11"))


def test_gradient_descent_moves_downhill(page):
    page.goto("/backprop")
    page.fill("#lr", "0.3")
    page.click("#descent-form button[type=submit]")
    rows = page.locator("#descent-table tr")
    expect(rows).to_have_count(12)
    last_theta = float(rows.nth(11).locator("td").nth(1).text_content())
    assert abs(last_theta - 3) < 0.1
    expect(page.locator("#descent-plot .main-svg").first).to_be_visible()


def test_play_advances_and_pause_stops(page):
    page.goto("/backprop?preset=notes")
    counter = page.locator("#step-counter")
    expect(counter).to_contain_text("step 0 of 10")
    page.click("#play")
    expect(page.locator("#play")).to_have_text("⏸ Pause")
    expect(counter).to_contain_text("step 2 of 10")
    page.click("#play")
    expect(page.locator("#play")).to_have_text("▶ Play")
    stopped = counter.text_content()
    page.wait_for_timeout(1000)
    assert counter.text_content() == stopped


def test_a_gradient_check_outside_the_domain_reads_as_a_failure(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "log(x)")
    page.fill("#values", "x = -1")
    page.click("#run")
    error = page.locator("#check-table tr[data-name=x] td.relerr")
    expect(error).to_have_text("NaN")
    expect(error).to_have_class("relerr bad")  # was "0", in green
    expect(page.locator("#check-table")).to_contain_text("not finite within h")


# -- what a walk of the page found ------------------------------------------------------------


def test_a_tensor_is_narrated_as_a_tensor_not_as_its_length(page):
    page.goto("/backprop?preset=softmax&step=1")  # the forward pass, node by node: W, x, q, b, z, p
    narration = page.locator("#narration")
    expect(narration).to_have_text("W is an input, a 3×2 matrix: [[0.2, -0.5], [1.5, 1.3], [0, 0.25]].")
    page.click("#forward")
    page.click("#forward")
    expect(narration).to_have_text("q = W @ x, a vector of 3: [1.2, -1.1, -0.5]")  # was "q = W @ x = a 3 tensor"
    for _ in range(3):
        page.click("#forward")
    expect(narration).to_have_text("p = softmax(z), a vector of 3: [0.5444, 0.4457, 0.00997]")
    page.goto("/backprop?preset=softmax&step=13")  # p's backward step: was "p = softmax(z) = 3; upstream …"
    expect(narration).to_contain_text(
        "p = softmax(z), a vector of 3: [0.5444, 0.4457, 0.00997]; upstream ∂L/∂p = [0, 0, -100.3]"
    )
    assert "= 3;" not in narration.text_content()


def test_a_value_used_twice_says_its_gradient_is_the_sum_over_its_uses(page):
    page.goto("/backprop?preset=fanout&phase=backward")
    expect(page.locator("#narration")).to_have_text(
        "∂f/∂x = -4 + 1 = -3, the sum over its 2 uses (-4 from q, 1 from f): "
        "x is an input, and its gradient is complete."
    )
    page.goto("/backprop?preset=custom&expr=q+%3D+x+%2B+y%3B+f+%3D+q+*+q&values=x+%3D+1%2C+y+%3D+2&step=6")
    expect(page.locator("#narration")).to_contain_text(
        "upstream ∂f/∂q = 3 + 3 = 6, the sum over its 2 uses (3 from f, 3 from f again)"
    )


# The page's graph, measured in the page: every edge (its ends, and whether it passes behind a
# node other than its own two), every flow label and every node box.
MEASURE_GRAPH = """() => {
  const svg = document.querySelector("#graph svg");
  const rect = (e) => { const b = e.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; };
  const nodes = [...svg.querySelectorAll("g.node")]
    .map((g) => ({ id: g.dataset.id, ...rect(g.querySelector("rect")) }));
  const matrix = svg.getScreenCTM();
  const edges = [...svg.querySelectorAll("path.edge")].map((p) => {
    const length = p.getTotalLength();
    const behind = new Set();
    for (let s = 0; s <= length; s += 2) {
      const q = p.getPointAtLength(s).matrixTransform(matrix);
      for (const n of nodes) {
        if (q.x > n.x + 3 && q.x < n.x + n.w - 3 && q.y > n.y + 3 && q.y < n.y + n.h - 3) behind.add(n.id);
      }
    }
    return { d: p.getAttribute("d"), behind: [...behind] };
  });
  const labels = [...svg.querySelectorAll("text.flow")].map((t) => ({ text: t.textContent, ...rect(t) }));
  return { nodes, edges, labels };
}"""


def overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    )


def test_a_variable_used_twice_in_one_operation_is_drawn_as_two_edges(page):
    page.goto("/backprop?preset=custom&expr=x+*+x&values=x+%3D+3")
    drawn_at_its_start(page)
    page.click("#to-end")
    expect(page.locator("g.node[data-label=x] text.grad")).to_have_text("∂ 6")
    graph = page.evaluate(MEASURE_GRAPH)
    assert len(graph["edges"]) == 2
    assert graph["edges"][0]["d"] != graph["edges"][1]["d"], "the two uses of x are drawn one over the other"
    first, second = graph["labels"]
    assert first["text"] == second["text"] == "3"
    assert not overlap(first, second), "the two gradients of 3 print over each other"
    screenshot(page, "backprop-x-times-x")


@pytest.mark.parametrize(
    "query",
    [
        "preset=notes",
        "preset=fanout",
        "preset=neuron",
        "preset=custom&expr=b+*+b&values=b+%3D+3",
        "preset=custom&expr=x+*+x+*+x+%2B+x&values=x+%3D+2",
        "preset=custom&expr=a+%3D+x+*+y%3B+b+%3D+a+%2B+x%3B+c+%3D+b+*+y%3B+f+%3D+c+%2B+a+%2B+x&values=x+%3D+1%2C+y+%3D+2",
    ],
)
def test_every_edge_and_its_label_can_be_read(page, query):
    page.goto(f"/backprop?{query}")
    drawn_at_its_start(page)
    page.click("#to-end")
    expect(page.locator("#step-counter")).to_contain_text("backward pass")
    graph = page.evaluate(MEASURE_GRAPH)
    edges = page.evaluate(
        "() => [...document.querySelectorAll('#graph path.edge')].map((p) => [p.dataset.source, p.dataset.target])"
    )
    for (source, target), edge in zip(edges, graph["edges"], strict=True):
        assert set(edge["behind"]) <= {source, target}, f"the edge {source} → {target} passes behind {edge['behind']}"
    labels = graph["labels"]
    assert len(labels) == len(graph["edges"])  # every use of a scalar carries its gradient
    for i, label in enumerate(labels):
        for other in labels[i + 1 :]:
            assert not overlap(label, other), f"labels {label['text']} and {other['text']} overlap"
        for node in graph["nodes"]:
            assert not overlap(label, node), f"label {label['text']} covers node {node['id']}"


def test_a_long_paste_is_refused_with_its_limit_never_cut(page):
    page.goto("/backprop?preset=custom")
    long = ("x + " * 1250)[:4999] + "x"  # 5,000 characters; the limit is 2,000
    page.locator("#expression").fill(long)
    assert len(page.locator("#expression").input_value()) == 5000  # was cut to 2,000 by maxlength
    expect(page.locator("#expression-count")).to_have_text("5,000 / 2,000 characters: 3,000 too many, shorten it")
    page.click("#run")
    expect(page.locator("#error")).to_have_text("the expression is 5000 characters long; the limit is 2000")
    page.locator("#expression").fill("x + y")
    expect(page.locator("#expression-count")).to_be_hidden()


def test_a_failed_build_leaves_no_stale_graph(page):
    page.goto("/backprop?preset=notes&phase=backward")
    expect(page.locator("#step-counter")).to_have_text("step 10 of 10 · backward pass")
    page.fill("#expression", "(x + y")
    page.click("#run")
    expect(page.locator("#error")).to_contain_text("expected ')'")
    expect(page.locator("#graph g.node")).to_have_count(0)  # the old graph once stayed, as if it were this one's
    expect(page.locator("#graph")).to_contain_text("No graph")
    expect(page.locator("#step-counter")).to_have_text("no graph")
    expect(page.locator("#narration")).to_have_text("")
    expect(page.locator("#check-table tr")).to_have_count(0)
    assert "expr=%28x+%2B+y&" in page.url and "step=10" not in page.url  # a link to this page shows this error
    page.fill("#values", "x = [1, 2")  # values the page cannot read (once dropped silently): the same
    page.fill("#expression", "x + y")
    page.click("#run")
    expect(page.locator("#error")).to_contain_text('cannot read the value "x = [1, 2"')
    expect(page.locator("#graph g.node")).to_have_count(0)
    page.fill("#values", "x = 1, y = 2")
    page.click("#run")
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#graph g.node")).to_have_count(3)


def test_the_check_table_names_the_output_as_the_graph_does(page):
    page.goto("/backprop?preset=softmax")
    expect(page.locator("#check-table tr[data-name=W] th")).to_have_text("∂L/∂W")  # was ∂f/∂W
    page.goto("/backprop?preset=custom&expr=x+%2B+y&values=x+%3D+1%2C+y+%3D+2")
    expect(page.locator("#check-table tr[data-name=x] td").nth(4)).to_have_text("1 node")  # was "1 nodes"


def test_an_overflow_is_said(page):
    page.goto("/backprop?preset=custom")
    page.fill("#expression", "x ** 1000000")
    page.fill("#values", "x = 3")
    page.click("#run")
    expect(page.locator("#warnings")).to_be_visible()  # f = Infinity once came with no word
    expect(page.locator("#warnings")).to_contain_text("Warning: f = x ^ 1e+06 overflowed: beyond the largest float64")
    page.fill("#expression", "x ** 2")
    page.click("#run")
    expect(page.locator("#warnings")).to_be_hidden()


def test_a_failed_descent_leaves_no_stale_curve(page):
    page.goto("/backprop")
    expect(page.locator("#descent-table tr")).to_have_count(12)
    page.fill("#loss", "(w - 3")
    page.click("#descent-form button[type=submit]")
    expect(page.locator("#descent-error")).to_have_text(
        "expected ')' but found the end of the expression (at character 7)"
    )
    expect(page.locator("#descent-table tr")).to_have_count(0)  # the last loss's steps once stayed
    expect(page.locator("#descent-plot .main-svg")).to_have_count(0)
